"""daily_report_submit and daily_report_submit_batch: outcomes, history, timeliness, locking, scope."""

import datetime

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from dashboards import cache as dashboard_cache
from dashboards.models import ProvinceDayRollup
from reports import services
from reports.models import DailyReport, LockException, ReportRevision, RollupRequest
from tests.reports.conftest import local
from tests.reports.helpers import days_ago, payload

pytestmark = pytest.mark.django_db


def test_new_report_is_stored_with_its_first_revision(commune_key):
    client, _key = commune_key
    outcome = services.daily_report_submit(payload=payload(), client=client)
    assert outcome.status == services.CREATED
    report = DailyReport.objects.get(locality="00004", date=days_ago(1))
    assert (report.province_id, report.commune_id, report.client, report.revision) == ("01", "00004", client, 1)
    assert report.receipt == outcome.receipt and report.receipt.startswith("R-")
    revision = ReportRevision.objects.get(report=report)
    assert revision.number == 1 and revision.client == client and revision.author is None
    assert revision.payload_hash == report.payload_hash and revision.receipt == report.receipt
    assert revision.payload["returned"] == 2 and revision.payload["locality"] == "00004"


def test_accepted_report_requests_its_rollup_in_the_same_transaction(commune_key):
    services.daily_report_submit(payload=payload(), client=commune_key[0])
    assert RollupRequest.objects.filter(province_id="01", date=days_ago(1)).exists()


def test_rollup_is_rebuilt_after_commit(commune_key, django_capture_on_commit_callbacks):
    before = dashboard_cache.generation()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.daily_report_submit(payload=payload(), client=commune_key[0])
    # The rebuild's job; the rebuild renews the dashboards' cache generation inside its own transaction.
    assert [c.__qualname__ for c in callbacks] == ["announce_after_commit.<locals>.<lambda>"]
    assert dashboard_cache.generation() != before
    rollup = ProvinceDayRollup.objects.get(province_id="01", date=days_ago(1))
    assert (rollup.localities_received, rollup.received_online) == (1, 120)
    assert not RollupRequest.objects.exists()


def test_identical_replay_returns_same_receipt_and_writes_nothing(commune_key, django_assert_num_queries):
    client = commune_key[0]
    first = services.daily_report_submit(payload=payload(), client=client)
    # insert (skipped), read of the stored row; SQLite in a savepoint
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 4):
        again = services.daily_report_submit(payload=payload(), client=client)
    assert (again.status, again.receipt, again.revision) == (services.UNCHANGED, first.receipt, 1)
    assert ReportRevision.objects.count() == 1


def test_receipt_is_the_same_for_the_same_content_in_another_order(commune_key):
    client = commune_key[0]
    first = services.daily_report_submit(payload=payload(outage_systems=["vneid", "network"]), client=client)
    data = dict(reversed(list(payload(outage_systems=["network", "vneid"]).items())))
    assert services.daily_report_submit(payload=data, client=client).receipt == first.receipt


def test_different_figures_are_a_conflict_with_a_diff(commune_key):
    client = commune_key[0]
    first = services.daily_report_submit(payload=payload(), client=client)
    outcome = services.daily_report_submit(payload=payload(returned=5, outage_systems=[]), client=client)
    assert outcome.status == services.CONFLICT
    assert outcome.receipt == first.receipt
    assert outcome.diff == {
        "returned": {"stored": 2, "submitted": 5},
        "outage_systems": {"stored": ["vneid"], "submitted": []},
    }
    assert DailyReport.objects.get().returned == 2


def test_invalid_report_stores_nothing(commune_key):
    outcome = services.daily_report_submit(payload=payload(returned=-1), client=commune_key[0])
    assert outcome.status == services.INVALID
    assert outcome.errors["returned"][0]["code"] == "negative"
    assert not DailyReport.objects.exists() and not RollupRequest.objects.exists()


@pytest.mark.parametrize(
    ("key", "locality", "expected"),
    [
        ("commune_key", "00004", services.CREATED),
        ("commune_key", "00008", services.FORBIDDEN),
        ("commune_key", "01", services.FORBIDDEN),
        ("province_key", "01", services.CREATED),
        ("province_key", "00004", services.CREATED),
        ("province_key", "25747", services.FORBIDDEN),  # a commune of Hồ Chí Minh City
        ("outsider_province_key", "00004", services.FORBIDDEN),
        ("outsider_province_key", "79", services.CREATED),
    ],
)
def test_keys_send_for_their_scope_only(request, key, locality, expected):
    client = request.getfixturevalue(key)[0]
    assert services.daily_report_submit(payload=payload(locality), client=client).status == expected


@pytest.mark.parametrize(
    ("persona", "locality", "expected"),
    [
        ("commune_clerk", "00004", services.CREATED),
        ("commune_clerk", "00008", services.FORBIDDEN),
        ("other_commune_clerk", "00004", services.FORBIDDEN),
        ("province_officer", "01", services.CREATED),
        ("province_officer", "00008", services.CREATED),
        ("outsider_province_officer", "00004", services.FORBIDDEN),
        ("steering", "00004", services.FORBIDDEN),
        ("inspector", "00004", services.FORBIDDEN),
        ("agency_officer", "00004", services.FORBIDDEN),
        ("admin_user", "00004", services.CREATED),
    ],
)
def test_people_send_for_their_scope_only(request, persona, locality, expected):
    user = request.getfixturevalue(persona)
    outcome = services.daily_report_submit(payload=payload(locality), user=user)
    assert outcome.status == expected
    if expected == services.CREATED:
        report = DailyReport.objects.get()
        assert report.submitted_by == user and report.revisions.get().author == user


def test_a_report_is_late_only_after_the_due_time(province_key, freeze):
    client = province_key[0]
    day = days_ago(3)
    due = local(day + datetime.timedelta(days=1), settings.REPORT_DUE_HOUR)
    freeze(due)
    on_time = services.daily_report_submit(payload=payload("00004", day=day), client=client)
    assert (on_time.status, on_time.late, on_time.warnings) == (services.CREATED, False, [])
    freeze(due + datetime.timedelta(microseconds=1))
    late = services.daily_report_submit(payload=payload("00008", day=day), client=client)
    assert (late.status, late.late) == (services.CREATED, True)
    assert [w["code"] for w in late.warnings] == ["late"]
    assert dict(DailyReport.objects.values_list("locality", "late")) == {"00004": False, "00008": True}


def test_lateness_is_decided_at_first_receipt(commune_key, freeze):
    client = commune_key[0]
    day = days_ago(3)
    freeze(local(day, 20))
    services.daily_report_submit(payload=payload(day=day), client=client)
    freeze(local(day + datetime.timedelta(days=2), 9))
    replay = services.daily_report_submit(payload=payload(day=day), client=client)
    assert (replay.status, replay.late) == (services.UNCHANGED, False)


def test_the_same_day_report_is_on_time(commune_key):
    assert services.daily_report_submit(payload=payload(day=days_ago(0)), client=commune_key[0]).late is False


def test_reports_past_the_lock_window_are_locked(commune_key):
    client = commune_key[0]
    last_open = days_ago(settings.REPORT_LOCK_DAYS)
    assert services.daily_report_submit(payload=payload(day=last_open), client=client).status == services.CREATED
    outcome = services.daily_report_submit(payload=payload(day=last_open - datetime.timedelta(days=1)), client=client)
    assert outcome.status == services.LOCKED
    assert DailyReport.objects.count() == 1


def test_a_lock_exception_reopens_one_locality_and_day(commune_key, province_officer):
    client = commune_key[0]
    old = days_ago(settings.REPORT_LOCK_DAYS + 5)
    services.lock_exception_grant(locality="00004", date=old, reason="Power cut all week", user=province_officer)
    outcome = services.daily_report_submit(payload=payload(day=old), client=client)
    assert outcome.status == services.CREATED
    assert "lock_exception" in [w["code"] for w in outcome.warnings]
    other_day = services.daily_report_submit(payload=payload(day=old - datetime.timedelta(days=1)), client=client)
    assert other_day.status == services.LOCKED


def test_identical_replay_of_a_locked_report_is_still_answered_with_its_receipt(commune_key, freeze):
    client = commune_key[0]
    day = days_ago(1)
    first = services.daily_report_submit(payload=payload(day=day), client=client)
    freeze(local(day + datetime.timedelta(days=settings.REPORT_LOCK_DAYS + 3), 9))
    again = services.daily_report_submit(payload=payload(day=day), client=client)
    assert (again.status, again.receipt) == (services.UNCHANGED, first.receipt)
    changed = services.daily_report_submit(payload=payload(day=day, returned=9), client=client)
    assert changed.status == services.LOCKED


def test_no_dossier_day_is_accepted_with_a_warning(commune_key):
    zeros = {name: 0 for name in ("received_online", "received_direct", "received_postal", "received_fully_online")}
    zeros.update(resolved_early=0, resolved_on_time=0, resolved_late=0)
    outcome = services.daily_report_submit(payload=payload(**zeros), client=commune_key[0])
    assert outcome.status == services.CREATED
    assert [w["code"] for w in outcome.warnings] == ["no_dossiers"]


def test_one_bad_item_never_rejects_the_others(province_key):
    client = province_key[0]
    services.daily_report_submit(payload=payload("00025"), client=client)
    outcomes = services.daily_report_submit_batch(
        payloads=[
            payload("00004"),
            payload("00008", returned=-1),
            payload("25747"),
            payload("00025"),
            payload("00025", returned=7),
            payload("00070", day=days_ago(settings.REPORT_LOCK_DAYS + 1)),
            "not a report",
        ],
        client=client,
    )
    assert [o.status for o in outcomes] == [
        services.CREATED,
        services.INVALID,
        services.FORBIDDEN,
        services.UNCHANGED,
        services.CONFLICT,
        services.LOCKED,
        services.INVALID,
    ]
    assert set(DailyReport.objects.values_list("locality", flat=True)) == {"00004", "00025"}
    assert ReportRevision.objects.count() == 2


def test_duplicates_in_one_batch_are_answered_against_the_first(province_key):
    outcomes = services.daily_report_submit_batch(
        payloads=[payload("00004"), payload("00004"), payload("00004", returned=3)], client=province_key[0]
    )
    assert [o.status for o in outcomes] == [services.CREATED, services.UNCHANGED, services.CONFLICT]
    assert outcomes[1].receipt == outcomes[0].receipt
    assert outcomes[2].diff == {"returned": {"stored": 2, "submitted": 3}}
    assert DailyReport.objects.count() == 1


def test_batch_limit(province_key, settings):
    settings.REPORT_BATCH_MAX = 3
    with pytest.raises(services.BatchTooLarge):
        services.daily_report_submit_batch(payloads=[payload()] * 4, client=province_key[0])


def test_batch_requests_one_rollup_per_province_and_day(province_key, outsider_province_key):
    services.daily_report_submit_batch(
        payloads=[payload("00004"), payload("00008"), payload("01"), payload("00004", day=days_ago(2))],
        client=province_key[0],
    )
    assert set(RollupRequest.objects.values_list("province_id", "date")) == {("01", days_ago(1)), ("01", days_ago(2))}


def test_a_report_needs_a_sender():
    with pytest.raises(ValueError, match="client or by a user"):
        services.daily_report_submit(payload=payload())


def test_lock_exceptions_are_granted_by_the_province_or_the_admin(
    province_officer, outsider_province_officer, commune_clerk, admin_user
):
    old = days_ago(30)
    first = services.lock_exception_grant(locality="00004", date=old, reason="flood", user=province_officer)
    again = services.lock_exception_grant(locality="00004", date=old.isoformat(), reason="again", user=admin_user)
    assert first.pk == again.pk and again.reason == "flood" and again.granted_by == province_officer
    for user in (outsider_province_officer, commune_clerk):
        with pytest.raises(PermissionDenied):
            services.lock_exception_grant(locality="00004", date=old, user=user)
    with pytest.raises(ValidationError):
        services.lock_exception_grant(locality="00004", date=days_ago(-1), user=province_officer)
    with pytest.raises(ValidationError):
        services.lock_exception_grant(locality="99999", date=old, user=province_officer)
    assert LockException.objects.count() == 1
