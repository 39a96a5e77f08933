"""Bad input the second red team sent that still answered 500 (issue 22, finding 3), each now a 400 naming the
field: text hidden from the NUL guard by a declared charset, NULs in the pages' forms (a DataError on
PostgreSQL), and the days that have no day after or before them (an OverflowError)."""

import datetime
import json

import pytest
from django.utils import timezone

from core.dates import DateError, parse_date
from dashboards.models import Meeting, Target, TargetValue
from tasks.models import Role
from tests.conftest import make_user
from tests.dashboards.test_dashboards import seed

pytestmark = pytest.mark.django_db

NUL_MESSAGE = "Contains a NUL character (\\u0000), which text may not contain."


@pytest.fixture
def vpcp_officer(db):
    return make_user("officer-vpcp", Role.AGENCY_OFFICER, agency="VPCP")


@pytest.fixture
def day():
    _start, end = seed(2)
    return end


# --- a declared charset hides nothing -----------------------------------------------------------------------


def test_a_meeting_sent_as_utf_16_is_refused_not_a_500(client, steering, day):
    client.force_login(steering)
    body = json.dumps({"title": "Phiên họp\u0000", "date": day.isoformat()}, ensure_ascii=False)
    for data in (body.encode("utf-16-le"), body.encode("utf-16")):
        # generic(): the client's post() would re-encode the bytes in the declared charset.
        response = client.generic("POST", "/api/v1/meetings/", data, "application/json; charset=utf-16-le")
        assert response.status_code == 400, response.content
        assert response.json()["code"] == "parse_error" and "UTF-8" in response.json()["detail"]
    # The same NUL in UTF-8, whatever charset is declared, is found in the decoded text and named.
    response = client.generic(
        "POST", "/api/v1/meetings/", body.encode(), "application/json; charset=utf-16-le", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"title": [{"code": "invalid_text", "message": NUL_MESSAGE}]}
    assert not Meeting.objects.exists()


def test_a_daily_report_sent_as_utf_16_is_refused_not_a_500(api_for, commune_clerk):
    from tests.reports.helpers import payload

    api = api_for(user=commune_clerk)
    body = json.dumps(payload(difficulties="a\u0000b"), ensure_ascii=False)
    declared = "application/json; charset=utf-16-le"
    response = api.generic("POST", "/api/v1/reports/daily/", body.encode("utf-16-le"), declared)
    assert response.status_code == 400 and response.json()["code"] == "parse_error"
    response = api.generic("POST", "/api/v1/reports/daily/", body.encode(), declared)
    assert response.status_code == 400
    assert response.json()["errors"] == {"difficulties": [{"code": "invalid_text", "message": NUL_MESSAGE}]}


# --- forms of the pages: one guard for every form ----------------------------------------------------------


@pytest.mark.parametrize("field", ["note", "evidence_url", "value", "measured_on"])
def test_a_nul_in_a_target_value_form_is_a_400_naming_the_field(client, vpcp_officer, field):
    client.force_login(vpcp_officer)
    client.cookies["django_language"] = "en"
    data = {
        "value": "981",
        "measured_on": timezone.localdate().isoformat(),
        "evidence_url": "https://x.gov.vn/e",
        "note": "ok",
    }
    data[field] += "\x00"
    response = client.post("/dashboard/targets/e_result_services/", data)
    assert response.status_code == 400
    assert f"<code>{field}</code>: {NUL_MESSAGE}" in response.content.decode()
    assert not TargetValue.objects.exists()


def test_a_nul_in_a_target_values_province_is_a_400_naming_the_field(client, vpcp_officer):
    target = Target.objects.get(code="dossiers_per_service")
    client.force_login(vpcp_officer)
    data = {"value": "3", "measured_on": timezone.localdate().isoformat(), "evidence_url": "https://x.gov.vn/e"}
    response = client.post(f"/dashboard/targets/{target.code}/", {**data, "province": "01\x00"})
    assert response.status_code == 400 and "<code>province</code>" in response.content.decode()
    assert not TargetValue.objects.exists()


def test_a_nul_in_a_meetings_title_is_a_400_naming_the_field(client, steering, day):
    client.force_login(steering)
    response = client.post("/dashboard/meetings/", {"title": "Phiên\x00 họp", "date": day.isoformat()})
    assert response.status_code == 400 and "<code>title</code>" in response.content.decode()
    assert not Meeting.objects.exists()


def test_a_nul_in_a_fields_name_or_an_uploads_name_is_named_too(client, steering, commune_clerk):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(steering)
    response = client.post("/dashboard/meetings/", {"ti\x00tle": "x"})
    assert response.status_code == 400 and "<code>ti\\u0000tle</code>" in response.content.decode()
    client.force_login(commune_clerk)
    upload = SimpleUploadedFile("a\x00.csv", b"locality\n", content_type="text/csv")
    response = client.post("/reports/upload/", {"file": upload})
    assert response.status_code == 400


# --- days with no day after or before them ------------------------------------------------------------------


def test_the_audit_trails_dates_at_the_ends_of_the_calendar_are_a_400_naming_the_field(api_for, client, inspector):
    api = api_for(user=inspector)
    for name, value in (("date_before", "9999-12-31"), ("date_after", "0001-01-01")):
        response = api.get("/api/v1/audit/", {name: value})
        assert response.status_code == 400, response.content
        errors = response.json()["errors"]
        assert list(errors) == [name] and errors[name][0]["code"] == "invalid_date"
        assert errors[name][0]["message"] == "Must be a date from 0001-01-02 to 9999-12-30."
    client.force_login(inspector)
    for name, value in (("date_after", "0001-01-01"), ("date_before", "9999-12-31")):
        assert client.get("/audit/", {name: value}).status_code == 400
    # The last days that have a neighbour are answered.
    assert api.get("/api/v1/audit/", {"date_after": "0001-01-02", "date_before": "9999-12-30"}).status_code == 200
    assert client.get("/audit/", {"date_after": "0001-01-02", "date_before": "9999-12-30"}).status_code == 200


def test_every_date_read_has_a_day_before_and_after_it():
    assert parse_date("0001-01-02") == datetime.date(1, 1, 2)
    assert parse_date("9999-12-30") == datetime.date(9999, 12, 30)
    for value in ("0001-01-01", "9999-12-31", datetime.date.max, datetime.datetime.min):
        with pytest.raises(DateError) as raised:
            parse_date(value)
        assert raised.value.code == "invalid_date"
