import datetime
import random

import pytest
from django.db.models import Count, Q, Sum
from django.utils import timezone

from dashboards.models import NationDayRollup, ProvinceDayRollup, RollupAlarm
from dashboards.rollups import (
    ROLLUP_FIELDS,
    communes_by_slot,
    missing_localities,
    rollup_catch_up,
    rollup_rebuild,
    rollup_rebuild_range,
    rollup_verify,
)
from localities.models import Commune, Province
from reports.figures import INTEGER_FIELDS
from reports.models import DailyReport, ReportApproval, RollupRequest
from reports.outbox import request_rollups
from tests.reports.factories import make_report, yesterday

HANOI, HCM = "01", "79"


def independent_province_rollup(province_id, day):
    """The expected rollup, recomputed from the reports with the ORM (not the rollup SQL)."""
    reports = DailyReport.objects.filter(province_id=province_id, date=day)
    sums = reports.aggregate(**{f: Sum(f) for f in INTEGER_FIELDS})
    counts = reports.aggregate(
        n_received=Count("id"),
        n_late=Count("id", filter=Q(late=True)),
        n_communes=Count("id", filter=Q(commune__isnull=False)),
        n_communes_late=Count("id", filter=Q(commune__isnull=False, late=True)),
        n_support=Count("id", filter=Q(support_needed=True)),
    )
    communes = Commune.objects.filter(province_id=province_id).count()
    return {
        **{f: sums[f] or 0 for f in INTEGER_FIELDS},
        "localities_expected": communes + 1,
        "localities_received": counts["n_received"],
        "localities_late": counts["n_late"],
        "communes_expected": communes,
        "communes_received": counts["n_communes"],
        "communes_late": counts["n_communes_late"],
        "support_needed": counts["n_support"],
        "localities_approved": ReportApproval.objects.filter(
            province_id=province_id, date=day, withdrawn_at__isnull=True
        ).count(),
    }


def stored(province_id, day):
    return ProvinceDayRollup.objects.filter(province_id=province_id, date=day).values(*ROLLUP_FIELDS).get()


def test_slots_round_trip_through_the_bitmap():
    from dashboards.rollups import reported_slots
    from localities.models import MAX_SLOTS, SLOT_WORDS

    words = {f"reported_{k}": 0 for k in range(SLOT_WORDS)}
    words |= {"reported_0": (1 << 0) | (1 << 61), "reported_1": 1 << 3, "reported_3": 1 << 61}
    words[f"reported_{SLOT_WORDS - 1}"] = 1 << 61
    assert reported_slots(words) == {0, 61, 65, 247, MAX_SLOTS - 1}


@pytest.fixture
def day_with_reports():
    """Hà Nội: 40 communes and the province itself report (3 late, 2 needing support); HCM: 5 communes."""
    day = yesterday()
    rng = random.Random(7)
    hanoi = list(Commune.objects.filter(province_id=HANOI).values_list("code", flat=True)[:40])
    for n, code in enumerate(hanoi):
        make_report(code, day, late=n < 3, support_needed=n in (5, 6), rng=rng)
    make_report(HANOI, day, rng=rng)
    for code in Commune.objects.filter(province_id=HCM).values_list("code", flat=True)[:5]:
        make_report(code, day, rng=rng)
    return day


@pytest.mark.django_db
def test_province_rollup_equals_an_independent_recomputation(day_with_reports):
    day = day_with_reports
    rollup_rebuild(province_id=HANOI, day=day)
    assert stored(HANOI, day) == independent_province_rollup(HANOI, day)
    assert stored(HCM, day) == independent_province_rollup(HCM, day)  # first rollup of the day builds all
    assert ProvinceDayRollup.objects.filter(date=day).count() == 34


@pytest.mark.django_db
def test_nation_row_sums_every_province_and_counts_all_localities(day_with_reports):
    day = day_with_reports
    rollup_rebuild(province_id=HANOI, day=day)
    nation = NationDayRollup.objects.get(date=day)
    raw = DailyReport.objects.filter(date=day).aggregate(**{f: Sum(f) for f in INTEGER_FIELDS})
    assert {f: getattr(nation, f) for f in INTEGER_FIELDS} == raw
    assert nation.localities_expected == Province.objects.count() + Commune.objects.count() == 3355
    assert nation.localities_received == 46
    assert nation.localities_late == 3


@pytest.mark.django_db
def test_missing_list_names_every_locality_that_has_not_reported(day_with_reports):
    day = day_with_reports
    rollup_rebuild(province_id=HANOI, day=day)
    missing = missing_localities(ProvinceDayRollup.objects.filter(date=day), communes_by_slot())
    reported = set(DailyReport.objects.filter(date=day).values_list("locality", flat=True))
    everyone = set(Commune.objects.values_list("code", flat=True)) | set(
        Province.objects.values_list("code", flat=True)
    )
    assert {code for _province, code in missing} == everyone - reported
    assert len(missing) == 3355 - 46
    assert (HCM, HCM) in missing  # Hồ Chí Minh City's own report is missing, Hà Nội's is not
    assert (HANOI, HANOI) not in missing


@pytest.mark.django_db
def test_a_commune_in_the_last_slot_word_is_counted_and_not_missing():
    """Ten times the largest province fits (DESIGN.md §7, 10× the reporting units): a commune in the last slot
    is in the bitmap's last word, which a rebuild computes once a slot reaches it (and not before)."""
    from dashboards.rollups import _words_in_use, reported_slots
    from localities.models import MAX_SLOTS, SLOT_WORDS

    day = yesterday()
    high, low = Commune.objects.filter(province_id=HANOI).order_by("code").values_list("code", flat=True)[:2]
    assert _words_in_use() < SLOT_WORDS
    Commune.objects.filter(code=high).update(slot=MAX_SLOTS - 1)
    assert _words_in_use() == SLOT_WORDS
    make_report(high, day, rng=random.Random(3))
    make_report(low, day, rng=random.Random(4))
    rollup_rebuild(province_id=HANOI, day=day)
    assert stored(HANOI, day) == independent_province_rollup(HANOI, day)  # the sums through the word groups
    rollup_rebuild_range(start=day, end=day)  # the national path (a temporary table; hashed word groups)
    assert stored(HANOI, day) == independent_province_rollup(HANOI, day)
    row = ProvinceDayRollup.objects.get(province_id=HANOI, date=day)
    assert getattr(row, f"reported_{SLOT_WORDS - 1}") == 1 << (MAX_SLOTS - 1) % 62
    assert MAX_SLOTS - 1 in reported_slots(row)
    missing = {code for _p, code in missing_localities([row], communes_by_slot(HANOI))}
    assert high not in missing and low not in missing
    assert len(missing) == Commune.objects.filter(province_id=HANOI).count() + 1 - 2


@pytest.mark.django_db
def test_rebuild_twice_gives_the_same_rows(day_with_reports):
    day = day_with_reports
    rollup_rebuild(province_id=HANOI, day=day)
    first = stored(HANOI, day)
    rollup_rebuild(province_id=HANOI, day=day)
    assert stored(HANOI, day) == first
    assert ProvinceDayRollup.objects.filter(date=day).count() == 34


@pytest.mark.django_db
def test_rollup_follows_a_correction_and_a_new_report(
    day_with_reports, province_officer, django_capture_on_commit_callbacks
):
    """Through the services: a province officer corrects a commune's report and submits a missing one."""
    from reports.services import daily_report_correct, daily_report_submit
    from tests.reports.factories import figures

    day = day_with_reports
    rollup_rebuild(province_id=HANOI, day=day)
    report = DailyReport.objects.filter(province_id=HANOI, date=day, commune__isnull=False).first()
    absent = Commune.objects.filter(province_id=HANOI).exclude(daily_reports__date=day).first()
    with django_capture_on_commit_callbacks(execute=True):
        daily_report_correct(
            locality=report.locality,
            date=day.isoformat(),
            reason="typo in received_direct",
            user=province_officer,
            payload={"locality": report.locality, "date": day.isoformat(), **figures(received_direct=900)},
        )
    with django_capture_on_commit_callbacks(execute=True):
        outcome = daily_report_submit(
            payload={"locality": absent.code, "date": day.isoformat(), **figures()}, user=province_officer
        )
    assert outcome.status == "created"
    assert DailyReport.objects.get(pk=report.pk).received_direct == 900
    assert stored(HANOI, day) == independent_province_rollup(HANOI, day)
    missing = missing_localities(ProvinceDayRollup.objects.filter(date=day), communes_by_slot(HANOI))
    assert (HANOI, absent.code) not in missing
    assert len(missing) == 127 - 42
    assert not RollupRequest.objects.exists()


@pytest.mark.django_db
def test_range_rebuild_run_twice_matches_recomputation_for_every_province():
    days = [yesterday() - datetime.timedelta(days=i) for i in range(3)]
    rng = random.Random(3)
    for day in days:
        for code in Commune.objects.filter(province_id__in=[HANOI, "48"]).values_list("code", flat=True)[:30]:
            make_report(code, day, rng=rng, late=rng.random() < 0.2)
    for _ in range(2):
        rollup_rebuild_range(start=days[-1], end=days[0])
    for day in days:
        for province in (HANOI, "48", HCM):
            assert stored(province, day) == independent_province_rollup(province, day)
    assert ProvinceDayRollup.objects.count() == 3 * 34
    assert NationDayRollup.objects.count() == 3


@pytest.mark.django_db
def test_range_rebuild_of_more_than_500_days_in_one_chunk(day_with_reports):
    # README's full rebuild (2025-07-01 to 2026-11-23, 511 days) is one chunk: SQLite refused its list of days
    # when it was a compound SELECT (at most 500 terms).
    start = day_with_reports - datetime.timedelta(days=510)
    rollup_rebuild_range(start=start, end=day_with_reports)
    assert ProvinceDayRollup.objects.count() == 511 * 34
    assert NationDayRollup.objects.count() == 511
    assert stored(HANOI, day_with_reports) == independent_province_rollup(HANOI, day_with_reports)
    assert stored(HANOI, start)["localities_received"] == 0


@pytest.mark.django_db
def test_verification_raises_an_alarm_on_drift_and_repairs_it(day_with_reports):
    day = day_with_reports
    rollup_rebuild_range(start=day, end=day)
    assert rollup_verify(start=day, end=day) == []
    ProvinceDayRollup.objects.filter(province_id=HANOI, date=day).update(received_online=0)
    alarms = rollup_verify(start=day, end=day)
    assert [(a.province_id, a.date) for a in alarms] == [(HANOI, day)]
    assert "received_online" in RollupAlarm.objects.get().differences
    assert stored(HANOI, day) == independent_province_rollup(HANOI, day)


@pytest.mark.django_db(transaction=True)
def test_submission_survives_a_down_broker_and_catch_up_rebuilds(reference_data, settings):
    """The rollup job cannot be enqueued (nothing listens on the broker port): the request row stays and
    the catch-up job rebuilds it."""
    from plan02.celery import app

    day = yesterday()

    def forget_connections():  # the producer pool keeps connections to the broker it was made for
        app._pool = None
        app.amqp._producer_pool = None

    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.task_always_eager = False
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    forget_connections()
    try:
        make_report("00004", day)
        request_rollups([(HANOI, day)])  # autocommit: on_commit runs now and fails to enqueue
    finally:
        app.conf.broker_url, app.conf.task_always_eager = saved
        forget_connections()
    assert RollupRequest.objects.filter(province_id=HANOI, date=day).exists()
    assert not ProvinceDayRollup.objects.filter(province_id=HANOI, date=day).exists()
    assert rollup_catch_up() == 0  # too young: its job may still be queued
    RollupRequest.objects.update(requested_at=timezone.now() - datetime.timedelta(minutes=5))
    assert rollup_catch_up() == 1
    assert stored(HANOI, day)["received_online"] == DailyReport.objects.get(locality="00004").received_online
    assert not RollupRequest.objects.exists()


@pytest.mark.django_db
def test_reports_of_a_pending_province_day_share_one_queued_rebuild(django_capture_on_commit_callbacks):
    day = yesterday()
    make_report("00004", day)
    with django_capture_on_commit_callbacks() as first:
        request_rollups([(HANOI, day)])
    assert len(first) == 1  # new request: its rebuild is enqueued after commit
    make_report("00008", day)
    with django_capture_on_commit_callbacks() as second:
        request_rollups([(HANOI, day)])
    assert second == []  # still pending: the queued job will include this report
    from dashboards.jobs import rollup_province_day

    assert rollup_province_day(HANOI, day.isoformat()) == 1
    assert stored(HANOI, day)["communes_received"] == 2
    assert rollup_province_day(HANOI, day.isoformat()) == 0  # a duplicate job finds nothing to do
