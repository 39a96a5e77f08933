"""What the fuzzing of tests/fuzz/test_api_fuzz.py found, one regression test each. Every answer is checked as
the fuzzer checks it (tests.fuzz.schema.CHECKS: not a 5xx, and the body documented for its status), plus what
the fix promises."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from tests.fuzz.schema import send

pytestmark = pytest.mark.usefixtures("in_process_wsgi")
YESTERDAY = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
NOT_UTF8 = b'{"note": "\xff"}'  # 0xFF is never UTF-8


@pytest.fixture
def world(fuzz_world):
    return fuzz_world


# --- the schema said "string" where the answer may be null ------------------------------------------------


def test_an_agency_assignment_has_no_province_commune_or_updater(world):
    from tasks.models import Assignment

    untouched = Assignment.objects.filter(agency__code="BCA", updated_by__isnull=True).first()
    body = send("/api/v1/assignments/{id}/", "GET", world.credentials["steering"], path_parameters={"id": untouched.pk})
    assert body.json()["province"] is body.json()["commune"] is body.json()["updated_by"] is None
    send("/api/v1/assignments/", "GET", world.credentials["steering"], query={"agency": "BCA"})


def test_a_history_row_that_is_not_blocked_has_no_blocking_agency(world):
    from tasks.models import Assignment

    t30 = Assignment.objects.get(task__code="T30", commune_id="00004")
    rows = send(
        "/api/v1/assignments/{id}/updates/", "GET", world.credentials["commune_clerk"], path_parameters={"id": t30.pk}
    ).json()["results"]
    assert rows[0]["blocked_by"] is None


def test_alerts_without_an_agency_and_blockers_without_a_province(world):
    alerts = send("/api/v1/alerts/", "GET", world.credentials["admin_user"]).json()["results"]
    assert None in {alert["agency"] for alert in alerts}  # the support request's alert
    blockers = send("/api/v1/blockers/", "GET", world.credentials["admin_user"]).json()["results"]
    assert None in {row["province"] for row in blockers}  # BCA's T15, blocked by VPCP


def test_an_invalid_report_echoes_a_missing_locality_and_date_as_null(world):
    response = send("/api/v1/reports/daily/", "POST", world.credentials["province_key"], body={"returned": 1})
    assert response.status_code == 400
    assert (response.json()["locality"], response.json()["date"]) == (None, None)


def test_a_correction_of_an_address_that_is_not_a_date_is_a_404_echoing_it(world):
    response = send(
        "/api/v1/reports/daily/{locality}/{date}/",
        "PUT",
        world.credentials["province_key"],
        path_parameters={"locality": "00004", "date": "null,null"},
        body={"reason": "typo"},
    )
    assert response.status_code == 404
    assert response.json()["date"] == "null,null"


def test_a_conflict_is_one_of_the_documented_409_bodies(world):
    """`report_exists` matched both bodies of the documented oneOf (Conflict and Error), which is no match."""
    from tests.reports.helpers import payload

    response = send("/api/v1/reports/daily/", "POST", world.credentials["commune_key"], body=payload(returned=9))
    assert response.status_code == 409
    assert response.json()["code"] == "report_exists"


# --- a body that is not JSON was documented as field errors -----------------------------------------------


@pytest.mark.parametrize(
    ("path", "method", "name", "path_parameters"),
    [
        ("/api/v1/reports/daily/", "POST", "province_key", {}),
        ("/api/v1/reports/daily/{locality}/{date}/", "PUT", "commune_clerk", {"locality": "00004", "date": YESTERDAY}),
        ("/api/v1/assignments/{id}/updates/", "POST", "commune_clerk", "T30"),
        ("/api/v1/support-requests/{id}/close/", "POST", "province_officer", "support"),
    ],
)
def test_a_body_that_is_not_utf8_is_a_documented_parse_error(world, path, method, name, path_parameters):
    if path_parameters in ("T30", "support"):
        path_parameters = world.targets[path][1 if path_parameters == "T30" else 0]
    response = send(path, method, world.credentials[name], raw=NOT_UTF8, path_parameters=path_parameters)
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "utf-8" in response.json()["detail"]


# --- answers without a code, and far-off days -------------------------------------------------------------


def test_a_report_that_does_not_exist_is_a_404_with_a_code(world):
    response = send(
        "/api/v1/reports/daily/{locality}/{date}/",
        "GET",
        world.credentials["commune_clerk"],
        path_parameters={"locality": "0", "date": "2000-01-01"},
    )
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "No such report."}


@pytest.mark.parametrize(
    ("day", "code"),
    [("0047-12-07", "date_too_early"), ("2025-06-30", "date_too_early"), ("9999-12-31", "date_in_future")],
)
def test_completeness_refuses_days_reports_cannot_be_sent_for(world, day, code):
    """Year 0047 answered a due time with a local-mean-time offset (+07:06:30, not an RFC 3339 date-time);
    9999-12-31 has no next day for the due time at all."""
    response = send("/api/v1/reports/completeness/", "GET", world.credentials["steering"], query={"date": day})
    assert response.status_code == 400
    assert response.json()["errors"]["date"][0]["code"] == code


# --- ids that str.isdigit() accepts and int() refuses -----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/assignments/{id}/", "GET"),
        ("/api/v1/assignments/{id}/updates/", "POST"),
        ("/api/v1/alerts/{id}/", "GET"),
        ("/api/v1/notifications/{id}/read/", "POST"),
        ("/api/v1/support-requests/{id}/", "GET"),
    ],
)
def test_a_superscript_digit_id_is_a_404_not_a_500(world, path, method):
    response = send(path, method, world.credentials["admin_user"], path_parameters={"id": "¹"})
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_a_superscript_digit_since_is_refused(world):
    meeting = world.targets["/api/v1/meetings/{id}/"][0]
    response = send(
        "/api/v1/meetings/{id}/changes/",
        "GET",
        world.credentials["steering"],
        path_parameters=meeting,
        query={"since": "²"},
    )
    assert response.status_code == 400
    browser = Client()
    browser.force_login(world.users["steering"])
    assert browser.get(f"/dashboard/meetings/{meeting['id']}/changes/", {"since": "²"}).status_code == 404


def test_a_spreadsheet_number_is_ascii_digits():
    from tasks.bulk import _int

    assert [_int(text) for text in ("12", "-3", "¹", "--5", "1" * 20)] == [12, -3, None, None, None]


# --- NUL characters, which PostgreSQL cannot compare or store in text -------------------------------------


def test_a_nul_in_an_address_is_a_json_404(world):
    response = send("/api/v1/provinces/{code}/", "GET", world.credentials["steering"], path_parameters={"code": "\0"})
    assert response.json() == {"code": "not_found", "detail": "Not found."}


def test_a_nul_in_a_query_parameter_is_refused_by_name(world):
    response = send("/api/v1/reports/completeness/", "GET", world.credentials["steering"], query={"province": "0\x001"})
    assert response.status_code == 400
    assert response.json()["errors"]["province"][0]["code"] == "invalid_text"


def test_a_nul_in_a_body_is_refused_by_path(world):
    response = send(
        "/api/v1/meetings/",
        "POST",
        world.credentials["steering"],
        raw=b'{"title": "Review\\u0000", "date": "2025-09-01"}',
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "title": [
            {"code": "invalid_text", "message": "Contains a NUL character (\\u0000), which text may not contain."}
        ]
    }


def test_an_address_that_matches_no_route_of_the_api_is_a_json_404(world):
    browser = Client()
    response = browser.get("/api/v1/meetings/first/", headers=world.credentials["steering"]["headers"])
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
