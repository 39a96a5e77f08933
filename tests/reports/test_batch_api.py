"""POST /api/v1/reports/daily/batch/: one result per item, set-based writes, the national day."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboards.models import ProvinceDayRollup
from localities.models import Commune, Province
from reports.models import DailyReport, ReportRevision, RollupRequest
from tests.reports.helpers import days_ago, payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/daily/batch/"


def test_each_item_gets_its_own_result(api_for, province_key, province_officer):
    api = api_for(province_key[1])
    stored = api.post("/api/v1/reports/daily/", payload("00025"), format="json").json()
    body = {
        "reports": [
            payload("00004"),
            payload("00008", staff_present=13),
            payload("25747"),
            payload("00025"),
            payload("00025", returned=9),
            payload("00070", day=days_ago(30)),
            payload("00082", date="2025-13-01"),
        ]
    }
    response = api.post(URL, body, format="json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["index"], r["status"]) for r in results] == [
        (0, "created"),
        (1, "invalid"),
        (2, "forbidden"),
        (3, "unchanged"),
        (4, "conflict"),
        (5, "locked"),
        (6, "invalid"),
    ]
    assert results[0]["receipt"].startswith("R-") and results[0]["late"] is False
    assert results[1]["errors"]["staff_present"][0]["code"] == "exceeds"
    assert results[2]["code"] == "outside_scope"
    assert results[3]["receipt"] == stored["receipt"]
    assert results[4]["code"] == "report_exists" and results[4]["diff"] == {"returned": {"stored": 2, "submitted": 9}}
    assert results[5]["code"] == "report_locked"
    assert (results[6]["locality"], results[6]["date"]) == ("00082", "2025-13-01")
    assert response.json()["summary"] == {
        "created": 1,
        "unchanged": 1,
        "conflict": 1,
        "invalid": 2,
        "forbidden": 1,
        "locked": 1,
    }
    assert set(DailyReport.objects.values_list("locality", flat=True)) == {"00004", "00025"}


def test_an_item_that_is_not_an_object_is_invalid_alone(api_for, province_key):
    response = api_for(province_key[1]).post(URL, {"reports": [payload(), 7, None]}, format="json")
    assert [r["status"] for r in response.json()["results"]] == ["created", "invalid", "invalid"]


@pytest.mark.parametrize("body", [[payload()], {"reports": payload()}, {"reports": [], "extra": 1}, {}])
def test_the_batch_must_be_an_object_with_a_list_of_reports(api_for, province_key, body):
    response = api_for(province_key[1]).post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_batch"


def test_an_empty_batch_is_an_empty_answer(api_for, province_key):
    response = api_for(province_key[1]).post(URL, {"reports": []}, format="json")
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_more_than_5000_reports_is_400(api_for, province_key):
    response = api_for(province_key[1]).post(URL, {"reports": [payload()] * 5001}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "batch_too_large"
    assert not DailyReport.objects.exists()


def test_batch_needs_a_key_or_a_session(api_for):
    assert api_for().post(URL, {"reports": [payload()]}, format="json").status_code == 401


def test_batch_rebuilds_the_rollups_after_commit(api_for, province_key, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api_for(province_key[1]).post(
            URL, {"reports": [payload("00004"), payload("00008"), payload("01")]}, format="json"
        )
    rollup = ProvinceDayRollup.objects.get(province_id="01", date=days_ago(1))
    assert (rollup.localities_received, rollup.communes_received) == (3, 2)
    assert not RollupRequest.objects.exists()


def national_day(day):
    codes = list(Province.objects.values_list("code", flat=True)) + list(Commune.objects.values_list("code", flat=True))
    return [payload(code, day=day) for code in codes]


def test_a_national_day_is_accepted_in_one_request_with_a_fixed_number_of_queries(api_for, admin_user):
    """3,355 reports (every commune and every province) from the national admin, in one request, with the
    same statements as a batch of ten: no round trip per report."""
    from localities.services import locality_index

    api = api_for(user=admin_user)
    locality_index()  # each process keeps the locality index: count the statements of the submission itself
    small = national_day(days_ago(2))[:10]
    with CaptureQueriesContext(connection) as ten:
        assert api.post(URL, {"reports": small}, format="json").json()["summary"]["created"] == 10
    reports = national_day(days_ago(1))
    assert len(reports) == 3355
    with CaptureQueriesContext(connection) as national:
        response = api.post(URL, {"reports": reports}, format="json")
    assert response.status_code == 200
    assert response.json()["summary"]["created"] == 3355
    assert len(national) == len(ten)
    # session, user, membership, reports with their revisions, rollup requests, events and the quality bands'
    # check (PostgreSQL: one statement, atomic by itself; SQLite adds a savepoint and its release, and reads the
    # bands, inserts revisions, locks pending requests, upserts them and inserts the events in separate statements)
    assert len(national) == (4 if connection.vendor == "postgresql" else 11)
    assert DailyReport.objects.filter(date=days_ago(1)).count() == 3355
    assert ReportRevision.objects.filter(report__date=days_ago(1)).count() == 3355
    assert RollupRequest.objects.filter(date=days_ago(1)).count() == 34

    with CaptureQueriesContext(connection) as replay:
        again = api.post(URL, {"reports": reports}, format="json").json()["summary"]
    assert again["unchanged"] == 3355
    # session, user, membership, reports (nothing inserted), stored rows (SQLite: in a savepoint)
    assert len(replay) == (5 if connection.vendor == "postgresql" else 7)
