"""The rollup engine under the failures a deployment meets (DESIGN.md §10): rebuilds of one day on several
workers at once, lost jobs, a broker that is down, jobs that fail in-process, the nightly verification."""

import datetime
import threading

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from dashboards import rollups, snapshots
from dashboards.models import NationDayRollup, ProvinceDayRollup, RollupAlarm, SnapshotRequest, TaskSnapshot
from localities.models import Province
from reports.demo import seed_reports
from reports.figures import INTEGER_FIELDS
from reports.models import DailyReport, RollupRequest
from reports.outbox import request_rollups
from tests.dashboards.test_rollups import HANOI, independent_province_rollup, stored
from tests.reports.factories import make_report, yesterday


def _all_at_once(calls):
    """Run the calls in threads released together; returns the exceptions they raised."""
    barrier = threading.Barrier(len(calls))
    errors = []

    def run(call):
        try:
            barrier.wait(timeout=30)
            call()
        except Exception as exc:  # collected: the assertion names them
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@pytest.mark.services
@pytest.mark.usefixtures("postgresql")
@pytest.mark.django_db(transaction=True)
def test_rebuilds_of_one_day_on_many_workers_at_once_never_fail_nor_double_count(reference_data):
    """What two worker nodes at concurrency 2 do when every province posts its day at once: one rebuild per
    province of the same day, all at the same moment. Without the per-day lock they collided on the
    day's rows (duplicate key) and the nation row missed the provinces of the failed ones."""
    day = yesterday()
    seed_reports(start=day, end=day, seed=5)
    provinces = list(Province.objects.values_list("code", flat=True))
    errors = _all_at_once([lambda p=p: rollups.rollup_rebuild(province_id=p, day=day) for p in provinces])
    assert errors == []
    assert ProvinceDayRollup.objects.filter(date=day).count() == len(provinces)
    for province in provinces:
        assert stored(province, day) == independent_province_rollup(province, day)
    nation = NationDayRollup.objects.get(date=day)
    sums = DailyReport.objects.filter(date=day).aggregate(**{f: Sum(f) for f in INTEGER_FIELDS})
    assert {f: getattr(nation, f) for f in INTEGER_FIELDS} == sums
    assert nation.localities_received == DailyReport.objects.filter(date=day).count()


@pytest.mark.services
@pytest.mark.usefixtures("postgresql")
@pytest.mark.django_db(transaction=True)
def test_a_range_rebuild_and_day_rebuilds_at_once_agree(reference_data):
    day = yesterday()
    seed_reports(start=day - datetime.timedelta(days=2), end=day, seed=6)
    calls = [lambda: rollups.rollup_rebuild_range(start=day - datetime.timedelta(days=2), end=day)]
    calls += [lambda p=p: rollups.rollup_rebuild(province_id=p, day=day) for p in ("01", "79", "48")]
    assert _all_at_once(calls) == []
    assert stored(HANOI, day) == independent_province_rollup(HANOI, day)
    assert NationDayRollup.objects.filter(date__range=(day - datetime.timedelta(days=2), day)).count() == 3


@pytest.mark.services
@pytest.mark.usefixtures("postgresql")
@pytest.mark.django_db(transaction=True)
def test_two_snapshot_builds_of_one_day_at_once_never_fail(reference_data):
    today = timezone.localdate()
    assert _all_at_once([lambda: snapshots.snapshot_build(today), lambda: snapshots.snapshot_build(today)]) == []
    assert TaskSnapshot.objects.filter(date=today, dimension="phase").count() == 2


@pytest.mark.django_db
def test_a_request_that_keeps_being_renewed_is_still_caught_up(django_capture_on_commit_callbacks):
    """A lost job leaves its request pending; reports that keep arriving for that (province, day) must not
    make it look young forever, or the catch-up would never take it over."""
    day = yesterday()
    make_report("00004", day)
    request_rollups([(HANOI, day)])
    first = RollupRequest.objects.get().requested_at
    RollupRequest.objects.update(requested_at=first - datetime.timedelta(minutes=10))
    make_report("00008", day)
    with django_capture_on_commit_callbacks() as callbacks:
        request_rollups([(HANOI, day)])
    assert callbacks == []  # pending: no new job
    assert RollupRequest.objects.get().requested_at == first - datetime.timedelta(minutes=10)
    assert rollups.rollup_catch_up() == 1
    assert stored(HANOI, day)["communes_received"] == 2
    assert not RollupRequest.objects.exists()


@pytest.mark.django_db
def test_rollup_pending_catches_up_at_once_whatever_the_age(capsys):
    day = yesterday()
    make_report("00004", day)
    make_report("79", day, received_online=7)
    RollupRequest.objects.bulk_create(
        [RollupRequest(province_id=p, date=day, requested_at=timezone.now()) for p in (HANOI, "79")]
    )
    SnapshotRequest.objects.create(date=timezone.localdate(), requested_at=timezone.now())
    assert rollups.rollup_catch_up() == 0  # too young for the scheduled catch-up
    call_command("rollup", "--pending")
    assert "rebuilt 2 pending rollup(s) and 1 pending task snapshot day(s)" in capsys.readouterr().out
    assert not RollupRequest.objects.exists() and not SnapshotRequest.objects.exists()
    assert stored("79", day)["received_online"] == 7
    assert TaskSnapshot.objects.filter(date=timezone.localdate()).exists()


@pytest.mark.django_db
def test_rollup_pending_takes_no_period():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--pending"):
        call_command("rollup", "--pending", "--from", "2025-07-01")


@pytest.mark.django_db
def test_a_job_failing_in_process_is_reported_as_a_failure_not_as_a_broker_error(
    api_for, commune_key, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    """The embedded mode runs jobs inline: a bug in one is logged with its traceback (for the admins), the
    report stays accepted, and its request stays pending for the catch-up."""

    def broken(*args, **kwargs):
        raise RuntimeError("the rebuild broke")

    monkeypatch.setattr(rollups, "_rebuild", broken)
    from tests.reports.helpers import payload

    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(commune_key[1]).post("/api/v1/reports/daily/", payload(), format="json")
    assert response.status_code == 201
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert any("the rebuild broke" in str(r.exc_info) for r in errors)
    assert "not enqueued" not in caplog.text
    assert RollupRequest.objects.filter(province_id=HANOI).exists()


@pytest.mark.django_db
def test_snapshot_requests_are_coalesced_while_one_is_pending(
    agency_officer, monkeypatch, django_capture_on_commit_callbacks
):
    """Saves made while today's snapshot rebuild is queued share it: one job, not one per save."""
    from dashboards import jobs
    from tasks.models import Assignment, Task
    from tasks.services import assignment_update

    queued = []
    monkeypatch.setattr(jobs.task_snapshot, "apply_async", lambda *a, **k: queued.append((a, k)))
    Task.objects.filter(code="T15").update(deadline=timezone.localdate() + datetime.timedelta(days=9))
    assignment = Assignment.objects.select_related("task").get(task__code="T15", agency__code="BCA")
    with django_capture_on_commit_callbacks(execute=True):
        for version, progress in ((1, 10), (2, 20), (3, 30)):
            assignment_update(
                assignment=assignment, actor=agency_officer, version=version, status="in_progress", progress=progress
            )
    assert len(queued) == 1
    assert SnapshotRequest.objects.filter(date=timezone.localdate()).count() == 1
    day = queued[0][0][0][0]
    assert jobs.task_snapshot(day, True) > 0  # the job takes the request …
    assert jobs.task_snapshot(day, True) == 0  # … and a duplicate delivery finds nothing to do
    assert not SnapshotRequest.objects.exists()


@pytest.mark.django_db
def test_verification_skips_pending_pairs_and_tells_the_admins(settings):
    settings.ADMINS = [("Ops", "ops@example.gov.vn")]
    day = yesterday()
    make_report("00004", day)
    make_report("79", day)
    rollups.rollup_rebuild_range(start=day, end=day)
    ProvinceDayRollup.objects.filter(province_id__in=[HANOI, "79"], date=day).update(received_online=999_999)
    RollupRequest.objects.create(province_id=HANOI, date=day, requested_at=timezone.now())  # its rebuild is queued
    alarms = rollups.rollup_verify(start=day, end=day)
    assert [(a.province_id, a.date) for a in alarms] == [("79", day)]
    assert RollupAlarm.objects.count() == 1
    assert len(mail.outbox) == 1 and "79" in mail.outbox[0].body
    assert stored("79", day) == independent_province_rollup("79", day)  # repaired


@pytest.mark.django_db
def test_the_first_job_of_a_day_takes_the_days_other_pending_provinces_with_it(django_capture_on_commit_callbacks):
    """34 provinces post at once: one rebuild job per province is queued, but the first to run rebuilds every
    province requested so far, and the others find nothing left to do."""
    from dashboards.jobs import rollup_province_day

    day = yesterday()
    for locality in ("00004", "79", "48"):
        make_report(locality, day)
    with django_capture_on_commit_callbacks():
        request_rollups([(HANOI, day), ("79", day), ("48", day)])
    assert RollupRequest.objects.count() == 3
    assert rollup_province_day("79", day.isoformat()) == 3
    assert not RollupRequest.objects.exists()
    assert rollup_province_day(HANOI, day.isoformat()) == 0 and rollup_province_day("48", day.isoformat()) == 0
    for province in (HANOI, "79", "48"):
        assert stored(province, day) == independent_province_rollup(province, day)


@pytest.mark.django_db
def test_a_job_whose_request_was_taken_still_rebuilds_the_requests_it_takes(django_capture_on_commit_callbacks):
    """Hà Nội's request was taken by an earlier job; 79 and 48 report after that job began. Hà Nội's own job
    runs next: it takes their requests, so it must rebuild them, since their jobs will find nothing."""
    from dashboards.jobs import rollup_province_day

    day = yesterday()
    make_report("00004", day)
    with django_capture_on_commit_callbacks():
        request_rollups([(HANOI, day)])
    assert rollup_province_day(HANOI, day.isoformat()) == 1
    for locality in ("79", "48"):
        make_report(locality, day)
    with django_capture_on_commit_callbacks():
        request_rollups([("79", day), ("48", day)])
    assert rollup_province_day(HANOI, day.isoformat()) == 2  # the late job of Hà Nội takes 79 and 48
    assert rollup_province_day("79", day.isoformat()) == 0 and rollup_province_day("48", day.isoformat()) == 0
    for province in (HANOI, "79", "48"):
        assert stored(province, day) == independent_province_rollup(province, day)
