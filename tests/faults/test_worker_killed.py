"""A worker killed with SIGKILL in the middle of a rebuild (DESIGN.md §10): nothing half-written is ever
visible, the rollup requests it was serving stay pending, the catch-up takes over the requests whose job
was lost once they are older than CATCH_UP_AFTER, and the next rebuild equals an independent
recomputation from the raw reports.

The rebuild is a range rebuild (dashboards.jobs.rollup_range) in a worker's pool process. The test holds a
row lock on one nation row, so the rebuild stops exactly there: its province rows are already deleted and
re-inserted inside its transaction, its nation rows not yet — the most inconsistent state it ever has.
Then the whole worker (its process group: the main process and the pool child) is killed."""

import datetime

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from dashboards import jobs, rollups
from dashboards.models import NationDayRollup, ProvinceDayRollup
from reports.figures import INTEGER_FIELDS
from reports.models import DailyReport, RollupRequest
from tests.dashboards.test_rollups import independent_province_rollup, stored
from tests.faults.conftest import backends_alive, raw_connection, start_worker, wait_for
from tests.reports.factories import make_report
from tests.reports.helpers import days_ago

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

HANOI, HCM, DA_NANG = "01", "79", "48"


def _communes(province, start, count):
    from localities.models import Commune

    return list(Commune.objects.filter(province_id=province).order_by("code").values_list("code", flat=True))[
        start : start + count
    ]


def _rollup_rows(days):
    """Every stored rollup of these days, as plain values (province and nation rows)."""
    provinces = ProvinceDayRollup.objects.filter(date__in=days).order_by("province_id", "date")
    nation = NationDayRollup.objects.filter(date__in=days).order_by("date")
    return (
        list(provinces.values("province_id", "date", "built_at", *rollups.ROLLUP_FIELDS)),
        list(nation.values("date", "built_at", *rollups.ROLLUP_FIELDS)),
    )


def _nation_from_reports(day):
    sums = DailyReport.objects.filter(date=day).aggregate(**{f: Sum(f) for f in INTEGER_FIELDS})
    return {f: sums[f] or 0 for f in INTEGER_FIELDS} | {
        "localities_received": DailyReport.objects.filter(date=day).count()
    }


def _nation_stored(day):
    row = NationDayRollup.objects.values(*INTEGER_FIELDS, "localities_received").get(date=day)
    return dict(row)


def _blocked_on_nation_rows():
    """Backends of the test database waiting for a lock while deleting nation rows (the rebuild's last step)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query LIKE 'DELETE FROM reports_nationdayrollup%%'"
        )
        return [pid for (pid,) in cursor.fetchall()]


def test_a_worker_killed_mid_rebuild_leaves_nothing_half_written_and_the_catch_up_rebuilds_exactly(
    reference_data, redis_server, use_redis, processes
):
    use_redis(redis_server.url)
    days = [days_ago(4), days_ago(3), days_ago(2)]
    for day in days:
        for code in [HANOI, *_communes(HANOI, 0, 20), *_communes(HCM, 0, 10)]:
            make_report(code, day)
    rollups.rollup_rebuild_range(start=days[0], end=days[-1])
    # More reports arrive; their rebuilds are requested (the jobs the test enqueues below are the ones lost).
    with transaction.atomic():
        for day in days:
            for code in [*_communes(HANOI, 20, 15), *_communes(DA_NANG, 0, 5)]:
                make_report(code, day, received_direct=3)
        pairs = {(p, d) for p in (HANOI, DA_NANG) for d in days}
        RollupRequest.objects.bulk_create(
            [RollupRequest(province_id=p, date=d, requested_at=timezone.now()) for p, d in pairs]
        )
    before = _rollup_rows(days)
    assert stored(HANOI, days[0]) != independent_province_rollup(HANOI, days[0])  # stale until rebuilt

    worker = start_worker(processes, "w1", redis_url=redis_server.url, concurrency=1)
    with raw_connection(autocommit=False) as holder:
        holder.execute("SELECT 1 FROM reports_nationdayrollup WHERE date = %s FOR UPDATE", [days[0]])
        jobs.rollup_range.delay(days[0].isoformat(), days[-1].isoformat())
        rebuilding = wait_for(_blocked_on_nation_rows, timeout=60, what="the range rebuild to reach the nation rows")
        assert _rollup_rows(days) == before  # its rewritten province rows are not visible to anyone else
        worker.kill()
        holder.rollback()
    # Its backend ends without committing (its client is gone); only then is what it wrote settled.
    wait_for(lambda: not backends_alive(rebuilding), timeout=60, what="the killed rebuild's backend to end")

    assert _rollup_rows(days) == before
    assert set(RollupRequest.objects.values_list("province_id", "date")) == pairs

    # The job was lost with its worker (Redis redelivers it only after the visibility timeout). Once the
    # requests are older than CATCH_UP_AFTER, the catch-up (beat's job, on a new worker) takes them over;
    # a request made just now for another day is left to its own job (one for a day the catch-up rebuilds
    # is taken along: its report is committed, so that rebuild includes it).
    RollupRequest.objects.update(requested_at=timezone.now() - rollups.CATCH_UP_AFTER - datetime.timedelta(seconds=1))
    fresh_day = days_ago(1)
    make_report(HCM, fresh_day, received_online=11, received_fully_online=11)
    RollupRequest.objects.create(province_id=HCM, date=fresh_day, requested_at=timezone.now())
    start_worker(processes, "w2", redis_url=redis_server.url, concurrency=1)
    jobs.rollup_catch_up.delay()
    wait_for(
        lambda: not RollupRequest.objects.filter(province_id__in=(HANOI, DA_NANG)).exists(),
        timeout=60,
        what="the catch-up to take over the lost job's requests",
    )
    assert list(RollupRequest.objects.values_list("province_id", "date")) == [(HCM, fresh_day)]
    for day in days:
        for province in (HANOI, DA_NANG):
            assert stored(province, day) == independent_province_rollup(province, day)

    call_command("rollup", "--pending")
    assert not RollupRequest.objects.exists()
    assert stored(HCM, fresh_day) == independent_province_rollup(HCM, fresh_day)
    for day in days:
        for province in (HANOI, HCM, DA_NANG):
            assert stored(province, day) == independent_province_rollup(province, day)
        assert _nation_stored(day) == _nation_from_reports(day)
