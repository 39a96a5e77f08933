"""PUT /api/v1/reports/daily/{locality}/{date}/ and daily_report_correct: a reason, a new receipt, and every
earlier revision kept and listed."""

import datetime

import pytest
from django.conf import settings

from dashboards.models import ProvinceDayRollup
from reports import services
from reports.models import DailyReport, ReportRevision, RollupRequest
from tests.reports.conftest import local
from tests.reports.helpers import days_ago, payload

pytestmark = pytest.mark.django_db


def url(locality="00004", day=None):
    day = day or days_ago(1)
    return f"/api/v1/reports/daily/{locality}/{day.isoformat() if isinstance(day, datetime.date) else day}/"


def correction(**changes):
    body = payload(**changes)
    del body["locality"], body["date"]
    return body


@pytest.fixture
def stored(commune_key):
    """Ba Đình's report of yesterday, sent with its key."""
    return services.daily_report_submit(payload=payload(), client=commune_key[0])


def test_correction_needs_a_reason(api_for, commune_key, stored):
    response = api_for(commune_key[1]).put(url(), correction(returned=5), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "reason": [{"code": "required", "message": "Say why the report is corrected."}]
    }
    assert DailyReport.objects.get().revision == 1


def test_correction_gets_a_new_receipt_and_keeps_the_earlier_revision(api_for, commune_key, stored):
    api = api_for(commune_key[1])
    response = api.put(url(), {**correction(returned=5), "reason": "Two dossiers were counted twice."}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "corrected"
    assert body["revision"] == 2
    assert body["previous_receipt"] == stored.receipt
    assert body["receipt"] != stored.receipt
    report = DailyReport.objects.get()
    assert (report.returned, report.receipt, report.revision) == (5, body["receipt"], 2)
    revisions = api.get(url()).json()["revisions"]
    assert [(r["number"], r["receipt"], r["reason"]) for r in revisions] == [
        (1, stored.receipt, ""),
        (2, body["receipt"], "Two dossiers were counted twice."),
    ]
    assert revisions[0]["payload"]["returned"] == 2 and revisions[1]["payload"]["returned"] == 5
    assert all(r["client"] == "Ba Đình one-stop desk" and r["payload_hash"] for r in revisions)


def test_a_second_correction_is_revision_three(api_for, commune_key, stored):
    api = api_for(commune_key[1])
    api.put(url(), {**correction(returned=5), "reason": "a"}, format="json")
    body = api.put(url(), {**correction(returned=6), "reason": "b"}, format="json").json()
    assert body["revision"] == 3
    assert list(ReportRevision.objects.order_by("number").values_list("number", flat=True)) == [1, 2, 3]


def test_correcting_back_to_earlier_content_gives_the_earlier_receipt(api_for, commune_key, stored):
    api = api_for(commune_key[1])
    api.put(url(), {**correction(returned=5), "reason": "a"}, format="json")
    body = api.put(url(), {**correction(), "reason": "the first figures were right"}, format="json").json()
    assert body["receipt"] == stored.receipt and body["revision"] == 3


def test_sending_the_stored_content_changes_nothing(api_for, commune_key, stored):
    response = api_for(commune_key[1]).put(url(), {**correction(), "reason": "no change"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "unchanged"
    assert response.json()["receipt"] == stored.receipt
    assert ReportRevision.objects.count() == 1


def test_a_correction_is_a_whole_report_checked_by_the_same_rules(api_for, commune_key, stored):
    body = correction(staff_present=20)
    del body["returned"]
    response = api_for(commune_key[1]).put(url(), {**body, "reason": "x"}, format="json")
    assert response.status_code == 400
    assert {k: v[0]["code"] for k, v in response.json()["errors"].items()} == {
        "returned": "required",
        "staff_present": "exceeds",
    }


def test_locality_and_date_in_the_body_must_match_the_address(api_for, commune_key, stored):
    body = {**payload(returned=5), "reason": "x"}
    assert api_for(commune_key[1]).put(url(), body, format="json").status_code == 200
    body = {**payload("00008", day=days_ago(2)), "reason": "x"}
    response = api_for(commune_key[1]).put(url(), body, format="json")
    assert response.status_code == 400
    assert {k: v[0]["code"] for k, v in response.json()["errors"].items()} == {
        "locality": "mismatch",
        "date": "mismatch",
    }


def test_correcting_a_missing_report_is_404(api_for, commune_key):
    api = api_for(commune_key[1])
    body = {**correction(), "reason": "x"}
    assert api.put(url(), body, format="json").status_code == 404
    assert api.put(url(day="2025-02-30"), body, format="json").status_code == 404
    assert api.put(url("99999"), body, format="json").status_code == 404


def test_correcting_outside_the_scope_is_403(api_for, other_commune_key, outsider_province_key, steering, stored):
    body = {**correction(returned=5), "reason": "x"}
    for api in (api_for(other_commune_key[1]), api_for(outsider_province_key[1]), api_for(user=steering)):
        response = api.put(url(), body, format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "outside_scope"
    assert DailyReport.objects.get().revision == 1


def test_the_province_corrects_its_communes_report_and_is_recorded_as_author(api_for, province_officer, stored):
    response = api_for(user=province_officer).put(
        url(), {**correction(returned=5), "reason": "checked with the commune"}, format="json"
    )
    assert response.status_code == 200
    revision = ReportRevision.objects.get(number=2)
    assert (revision.author, revision.client, revision.reason) == (province_officer, None, "checked with the commune")


def test_corrections_past_the_lock_window_need_an_exception(api_for, commune_key, province_officer, freeze):
    day = days_ago(1)
    services.daily_report_submit(payload=payload(day=day), client=commune_key[0])
    freeze(local(day + datetime.timedelta(days=settings.REPORT_LOCK_DAYS + 2), 9))
    api = api_for(commune_key[1])
    body = {**correction(returned=5), "reason": "late audit"}
    response = api.put(url(day=day), body, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "report_locked"
    services.lock_exception_grant(locality="00004", date=day, user=province_officer)
    response = api.put(url(day=day), body, format="json")
    assert response.status_code == 200
    assert [w["code"] for w in response.json()["warnings"]] == ["lock_exception"]


def test_a_correction_keeps_the_late_flag_of_the_first_receipt(api_for, commune_key, freeze):
    day = days_ago(3)
    freeze(local(day, 21))
    services.daily_report_submit(payload=payload(day=day), client=commune_key[0])
    freeze(local(day + datetime.timedelta(days=3), 10))
    body = api_for(commune_key[1]).put(url(day=day), {**correction(returned=5), "reason": "x"}, format="json").json()
    assert body["late"] is False


def test_a_correction_rebuilds_the_rollup(api_for, commune_key, stored, django_capture_on_commit_callbacks):
    RollupRequest.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        api_for(commune_key[1]).put(url(), {**correction(received_online=150), "reason": "x"}, format="json")
    assert ProvinceDayRollup.objects.get(province_id="01", date=days_ago(1)).received_online == 150
    assert not RollupRequest.objects.exists()


def test_a_correction_that_fails_writes_no_rollup_request(api_for, commune_key, stored):
    RollupRequest.objects.all().delete()
    response = api_for(commune_key[1]).put(url(), {**correction(returned=-5), "reason": "x"}, format="json")
    assert response.status_code == 400
    assert [e["code"] for e in response.json()["errors"]["returned"]] == ["negative"]
    assert not RollupRequest.objects.exists()
