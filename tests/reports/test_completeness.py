"""GET /api/v1/reports/completeness/?date=: expected, received, on time, late, missing by province, with the
missing communes, the province's own report and national totals; scoped like everything else."""

import datetime

import pytest
from django.conf import settings

from localities.models import Commune
from reports import services
from tests.reports.conftest import local
from tests.reports.helpers import days_ago, payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/completeness/"


@pytest.fixture
def reports(province_key, outsider_province_key, freeze):
    """Yesterday: Hà Nội's own report and 00004 on time, 00008 late; Hồ Chí Minh City's 25747 on time."""
    day = days_ago(1)
    freeze(local(day, 20))
    services.daily_report_submit_batch(payloads=[payload("01", day), payload("00004", day)], client=province_key[0])
    services.daily_report_submit(payload=payload("25747", day), client=outsider_province_key[0])
    freeze(local(day + datetime.timedelta(days=1), settings.REPORT_DUE_HOUR, 30))
    services.daily_report_submit(payload=payload("00008", day), client=province_key[0])
    return day


def province(body, code):
    return next(p for p in body["provinces"] if p["province"] == code)


def test_national_view_for_steering(api_for, steering, reports, django_assert_num_queries):
    api = api_for(user=steering)
    with django_assert_num_queries(6):  # session, user, membership, provinces, communes, reports
        body = api.get(URL, {"date": reports.isoformat()}).json()
    assert body["date"] == reports.isoformat()
    assert body["due_at"] == local(reports + datetime.timedelta(days=1), settings.REPORT_DUE_HOUR).isoformat()
    assert body["totals"] == {"expected": 3355, "received": 4, "on_time": 3, "late": 1, "missing": 3351, "approved": 0}
    assert len(body["provinces"]) == 34
    hanoi = province(body, "01")
    hanoi_communes = Commune.objects.filter(province="01").count()
    assert {k: hanoi[k] for k in ("expected", "received", "on_time", "late", "missing")} == {
        "expected": hanoi_communes + 1,
        "received": 3,
        "on_time": 2,
        "late": 1,
        "missing": hanoi_communes - 2,
    }
    assert hanoi["province_reported"] is True
    missing = [c["code"] for c in hanoi["missing_communes"]]
    assert "00004" not in missing and "00008" not in missing and "00025" in missing
    assert len(missing) == hanoi["missing"]
    hcmc = province(body, "79")
    assert (hcmc["received"], hcmc["province_reported"]) == (1, False)
    assert hcmc["missing"] == hcmc["expected"] - 1


def test_province_filter(api_for, steering, reports):
    body = api_for(user=steering).get(URL, {"date": reports.isoformat(), "province": "79"}).json()
    assert [p["province"] for p in body["provinces"]] == ["79"]
    assert body["totals"]["received"] == 1


@pytest.mark.parametrize("who", ["province_officer", "province_key"])
def test_a_province_sees_its_own_province(request, api_for, reports, who):
    fixture = request.getfixturevalue(who)
    api = api_for(fixture[1]) if isinstance(fixture, tuple) else api_for(user=fixture)
    body = api.get(URL, {"date": reports.isoformat()}).json()
    assert [p["province"] for p in body["provinces"]] == ["01"]
    assert body["totals"]["received"] == 3
    assert api.get(URL, {"date": reports.isoformat(), "province": "79"}).json()["provinces"] == []


@pytest.mark.parametrize("who", ["commune_clerk", "commune_key"])
def test_a_commune_sees_only_itself(request, api_for, reports, who):
    fixture = request.getfixturevalue(who)
    api = api_for(fixture[1]) if isinstance(fixture, tuple) else api_for(user=fixture)
    body = api.get(URL, {"date": reports.isoformat()}).json()
    assert body["totals"] == {"expected": 1, "received": 1, "on_time": 1, "late": 0, "missing": 0, "approved": 0}
    assert body["provinces"][0]["province_reported"] is None
    assert body["provinces"][0]["missing_communes"] == []


def test_an_agency_officer_sees_nothing(api_for, agency_officer, reports):
    body = api_for(user=agency_officer).get(URL, {"date": reports.isoformat()}).json()
    assert body["provinces"] == [] and body["totals"]["expected"] == 0


def test_date_defaults_to_local_today_and_must_be_valid(api_for, steering):
    api = api_for(user=steering)
    body = api.get(URL).json()
    assert body["date"] == days_ago(0).isoformat()
    assert body["totals"]["missing"] == 3355
    response = api.get(URL, {"date": "01/09/2025"})
    assert response.status_code == 400
    assert response.json()["errors"]["date"][0]["code"] == "invalid_date"


def test_completeness_needs_authentication(api_for):
    assert api_for().get(URL).status_code == 401
