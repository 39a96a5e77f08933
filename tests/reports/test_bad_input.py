"""Bad input on every report channel answers a 4xx naming the field, never a 500 (issue 12)."""

import json

import pytest

from reports import services, validation
from reports.models import DailyReport
from tests.reports.helpers import days_ago, payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/daily/"
DEEP = "[" * 100_000 + "]" * 100_000


def send(client, method, url, body):
    """Send `body` as JSON text exactly (json.dumps writes a lone surrogate as the escape \\ud800)."""
    text = body if isinstance(body, str) else json.dumps(body)
    return getattr(client, method)(url, data=text, content_type="application/json")


@pytest.mark.parametrize("systems", [[{"a": 1}], [["vneid"]], ["vneid", {"b": [1, 2]}]])
def test_outage_systems_that_are_not_codes_name_the_field(api_for, commune_key, systems):
    response = send(api_for(commune_key[1]), "post", URL, payload(outage_systems=systems))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["outage_systems"]
    assert errors["outage_systems"][0]["code"] == validation.UNKNOWN_VALUE
    assert "must be a code written as text" in errors["outage_systems"][0]["message"]


def test_a_lone_surrogate_in_a_report_names_the_field(api_for, commune_key):
    response = send(api_for(commune_key[1]), "post", URL, payload(difficulties="VNeID \ud800 down"))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"] == {
        "difficulties": [
            {
                "code": "invalid_text",
                "message": "Contains a lone UTF-16 surrogate (such as \\ud800), which is not a character.",
            }
        ]
    }
    assert not DailyReport.objects.exists()


def test_a_lone_surrogate_in_a_batch_item_names_its_path(api_for, province_key):
    reports = [payload("00004"), payload("00008", proposals="\udfff")]
    response = send(api_for(province_key[1]), "post", f"{URL}batch/", {"reports": reports})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["reports[1].proposals"]
    assert not DailyReport.objects.exists()


def test_a_lone_surrogate_in_a_key_is_named_readably(api_for, commune_key):
    response = send(api_for(commune_key[1]), "post", URL, {**payload(), "note\ud800": 1})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["note\\ud800"]


def test_a_surrogate_pair_is_a_character_and_accepted(api_for, commune_key):
    response = send(api_for(commune_key[1]), "post", URL, payload(difficulties="Mất mạng 😀"))
    assert response.status_code == 201
    assert DailyReport.objects.get().difficulties == "Mất mạng 😀"


def test_a_lone_surrogate_in_a_correction_names_the_field(api_for, commune_key):
    services.daily_report_submit(payload=payload(), client=commune_key[0])
    body = {k: v for k, v in payload(returned=5).items() if k not in ("locality", "date")}
    url = f"{URL}00004/{days_ago(1).isoformat()}/"
    response = send(api_for(commune_key[1]), "put", url, {**body, "reason": "typo \ud834"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["reason"]
    assert DailyReport.objects.get().revision == 1


@pytest.mark.parametrize("path", ["", "batch/", "00004/2025-09-01/"])
def test_json_nested_100000_deep_is_a_parse_error(api_for, commune_key, path):
    method = "put" if path.startswith("0") else "post"
    # A single report is at most 64 kB (a longer one is refused unread: tests/reports/test_fastpath.py).
    response = send(api_for(commune_key[1]), method, f"{URL}{path}", DEEP[:60_000] if path == "" else DEEP)
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_a_body_over_the_upload_limit_is_refused(api_for, commune_key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = send(api_for(commune_key[1]), "post", URL, payload(difficulties="x" * 2000))
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_a_5000_digit_figure_in_the_form_is_too_large_not_a_crash(client, commune_clerk):
    client.force_login(commune_clerk)
    data = {k: str(v) for k, v in payload().items() if k not in ("outage_systems", "support_needed", "locality")}
    data |= {"locality": "00004", "received_direct": "9" * 5000, "returned": "-" + "9" * 5000}
    client.cookies["django_language"] = "en"
    response = client.post("/reports/submit/", data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["received_direct"] == ["Must be at most 1000000."]
    assert errors["returned"] == ["Must be 0 or more."]
    assert not DailyReport.objects.exists()


def test_huge_digit_strings_become_out_of_range_figures():
    data = payload()
    data.update(validation.payload_from_text({"received_direct": "0000" + "7" * 4400, "returned": "+12"}))
    result = validation.validate_report(data)
    assert result.errors["received_direct"][0]["code"] == validation.TOO_LARGE
    assert "returned" not in result.errors


def test_a_lock_exception_before_the_first_day_is_too_early(province_officer):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.lock_exception_grant(locality="00004", date="2025-06-30", user=province_officer)
    assert error.value.code == validation.DATE_TOO_EARLY
    assert "2025-07-01" in error.value.messages[0]
