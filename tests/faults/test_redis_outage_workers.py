"""A Redis outage under two prefork worker nodes with late-acknowledged jobs in flight (DESIGN.md §10): both
nodes stay up through the stop and the restart of Redis on the same port — no "Unrecoverable error" —
and consume new jobs afterwards; what was in flight is left pending for the catch-up, never half-written.

The jobs in flight are rollup rebuilds (per (province, day), and a range) that the test holds inside their
transaction with the day's rebuild lock, so they are running, unacknowledged, exactly while Redis goes
away. With `worker_cancel_long_running_tasks_on_connection_loss` the nodes terminate them instead of
acknowledging them on the dead connection (the acknowledgement that took a worker down with kombu's
AttributeError "'NoneType' object has no attribute 'hostname'")."""

import datetime

import pytest
from django.core.management import call_command
from django.db import transaction

from dashboards import jobs
from dashboards.models import ProvinceDayRollup
from reports.models import RollupRequest
from tests.faults import expected
from tests.faults.conftest import backends_alive, day_locked, lock_waiters, start_worker, wait_for
from tests.reports.factories import make_report
from tests.reports.helpers import days_ago

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PROVINCES = ["01", "79", "48", "31"]
CANCELLED = "cannot be acknowledged after a connection loss since late acknowledgement is enabled for it"
RECONNECT_FAILED = "consumer: Cannot connect to redis://"
CONNECTED = "celery.worker.consumer.connection Connected to redis://"


def _reports_to_roll_up(day):
    with transaction.atomic():
        for code in PROVINCES:
            make_report(code, day, received_direct=int(code))
            RollupRequest.objects.create(province_id=code, date=day, requested_at=datetime.datetime.now(datetime.UTC))


def test_two_prefork_workers_survive_a_redis_restart_with_jobs_in_flight(
    reference_data, redis_server, use_redis, processes, client, steering
):
    use_redis(redis_server.url)
    nodes = [start_worker(processes, name, redis_url=redis_server.url) for name in ("w1", "w2")]
    day, after = days_ago(1), days_ago(3)

    def checked(predicate):
        def check():
            for node in nodes:
                assert node.alive(), f"{node.name} exited\n{node.tail()}"
            return predicate()

        return check

    _reports_to_roll_up(day)
    with day_locked(day):
        for code in PROVINCES[:3]:
            jobs.rollup_province_day.delay(code, day.isoformat())
        jobs.rollup_range.delay((day - datetime.timedelta(days=2)).isoformat(), day.isoformat())
        # Four jobs in flight on the four pool processes (each node reserves at most its concurrency).
        in_flight = wait_for(
            checked(lambda: len(lock_waiters()) == 4 and lock_waiters()), timeout=60, what="4 rebuilds in flight"
        )

        redis_server.stop()
        for node in nodes:
            # The outage lasts until each node has cancelled its jobs and failed to reconnect at least once.
            wait_for(
                checked(lambda node=node: node.log().count(CANCELLED) == 2 and RECONNECT_FAILED in node.log()),
                timeout=60,
                what=f"{node.name} to cancel its 2 jobs and retry the connection",
            )
        redis_server.start()
        for node in nodes:
            wait_for(
                checked(lambda node=node: node.log().count(CONNECTED) == 2),
                timeout=90,
                what=f"{node.name} to reconnect",
            )

    # The cancelled rebuilds' transactions never commit: their backends end once the lock is released.
    wait_for(lambda: not backends_alive(in_flight), timeout=60, what="the cancelled rebuilds' backends to end")
    for node in nodes:
        assert node.alive(), node.tail()
        assert "Unrecoverable error" not in node.log(), node.tail()
    assert set(RollupRequest.objects.values_list("province_id", "date")) == {(code, day) for code in PROVINCES}
    assert not ProvinceDayRollup.objects.filter(date=day).exists()

    # Both nodes consume again: four rebuilds held at once need the two nodes' four pool processes.
    _reports_to_roll_up(after)
    with day_locked(after):
        for code in PROVINCES:
            jobs.rollup_province_day.delay(code, after.isoformat())
        wait_for(checked(lambda: len(lock_waiters()) == 4), timeout=60, what="both nodes to take new jobs")
    wait_for(
        checked(lambda: not RollupRequest.objects.filter(date=after).exists()),
        timeout=60,
        what="the new jobs to finish",
    )
    client.force_login(steering)
    assert expected.shown(client.get("/api/v1/dashboard/national/", {"date": after}).json()) == expected.national(after)

    # What was in flight is caught up from its pending requests.
    call_command("rollup", "--pending")
    assert expected.shown(client.get("/api/v1/dashboard/national/", {"date": day}).json()) == expected.national(day)
    for node in nodes:
        assert node.alive() and "Unrecoverable error" not in node.log(), node.tail()
