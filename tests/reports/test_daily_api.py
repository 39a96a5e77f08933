"""POST, GET list and GET detail of /api/v1/reports/daily/: every row of the contract's table for one report,
scoping per key and per persona, throttling, CSRF, the schema, and a down broker."""

import datetime
import uuid

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from dashboards.models import ProvinceDayRollup
from plan02.celery import app as celery_app
from reports import services
from reports.models import ApiClient, DailyReport, RollupRequest
from tests.reports.conftest import local
from tests.reports.helpers import days_ago, payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/daily/"


def detail_url(locality, day):
    return f"{URL}{locality}/{day.isoformat() if isinstance(day, datetime.date) else day}/"


# --- POST: the contract's table ------------------------------------------------------------------------


def test_submission_needs_a_key_or_a_session(api_for):
    response = api_for().post(URL, payload(), format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"


def test_revoked_key_is_refused(api_for, commune_key):
    client, key = commune_key
    services.api_client_revoke(client=client)
    response = api_for(key).post(URL, payload(), format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_new_report_is_201_with_receipt_late_and_warnings(api_for, commune_key):
    response = api_for(commune_key[1]).post(URL, payload(), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "created"
    assert body["receipt"].startswith("R-") and body["late"] is False and body["warnings"] == []
    assert body["revision"] == 1
    assert response["Location"] == body["url"] == detail_url("00004", days_ago(1))
    assert DailyReport.objects.get().receipt == body["receipt"]


def test_identical_replay_is_200_with_the_same_receipt(api_for, commune_key):
    api = api_for(commune_key[1])
    first = api.post(URL, payload(), format="json").json()
    response = api.post(URL, payload(), format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "unchanged"
    assert response.json()["receipt"] == first["receipt"]
    assert DailyReport.objects.count() == 1


def test_different_figures_are_409_report_exists_with_a_diff(api_for, commune_key):
    api = api_for(commune_key[1])
    first = api.post(URL, payload(), format="json").json()
    response = api.post(URL, payload(returned=3, proposals="More staff"), format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "report_exists"
    assert body["receipt"] == first["receipt"]
    assert body["diff"] == {
        "returned": {"stored": 2, "submitted": 3},
        "proposals": {"stored": "", "submitted": "More staff"},
    }


def test_bad_fields_are_400_naming_each_field(api_for, commune_key):
    data = payload(received_fully_online=130, staff_present="11", colour="red")
    del data["received_postal"]
    response = api_for(commune_key[1]).post(URL, data, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert {name: [e["code"] for e in errors] for name, errors in body["errors"].items()} == {
        "received_postal": ["required"],
        "received_fully_online": ["exceeds"],
        "staff_present": ["wrong_type"],
        "colour": ["unknown_field"],
    }
    assert body["errors"]["received_postal"][0]["message"] == "Missing figure: send 0 when there was nothing."
    assert not DailyReport.objects.exists()


def test_messages_follow_the_accept_language_but_codes_do_not(api_for, commune_key):
    english = api_for(commune_key[1]).post(URL, payload(returned=-1), format="json").json()
    vietnamese = api_for(commune_key[1], language="vi").post(URL, payload(returned=-1), format="json").json()
    assert english["errors"]["returned"][0]["code"] == vietnamese["errors"]["returned"][0]["code"] == "negative"


@pytest.mark.parametrize("body", [[payload()], "text", 5])
def test_a_body_that_is_not_an_object_is_400(api_for, commune_key, body):
    response = api_for(commune_key[1]).post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["non_field_errors"][0]["code"] == "not_an_object"


def test_only_json_is_accepted(api_for, commune_key):
    response = api_for(commune_key[1]).post(URL, {"locality": "00004"}, format="multipart")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_broken_json_is_400(api_for, commune_key):
    response = api_for(commune_key[1]).post(URL, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_locality_outside_the_keys_scope_is_403(api_for, commune_key):
    response = api_for(commune_key[1]).post(URL, payload("00008"), format="json")
    assert response.status_code == 403
    assert response.json() == {
        "code": "outside_scope",
        "detail": "You may not send or correct reports of this locality.",
        "locality": "00008",
        "date": days_ago(1).isoformat(),
    }


def test_province_key_sends_for_its_communes_and_itself(api_for, province_key):
    api = api_for(province_key[1])
    assert api.post(URL, payload("00008"), format="json").status_code == 201
    assert api.post(URL, payload("01"), format="json").status_code == 201
    assert api.post(URL, payload("25747"), format="json").status_code == 403


def test_read_only_people_may_not_submit(api_for, steering, inspector, agency_officer):
    for user in (steering, inspector, agency_officer):
        assert api_for(user=user).post(URL, payload(), format="json").status_code == 403


def test_report_past_the_lock_window_is_409_report_locked(api_for, commune_key, province_officer):
    api = api_for(commune_key[1])
    old = days_ago(settings.REPORT_LOCK_DAYS + 1)
    response = api.post(URL, payload(day=old), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "report_locked"
    services.lock_exception_grant(locality="00004", date=old, user=province_officer)
    response = api.post(URL, payload(day=old), format="json")
    assert response.status_code == 201
    assert {w["code"] for w in response.json()["warnings"]} == {"late", "lock_exception"}


def test_late_report_is_accepted_and_flagged(api_for, commune_key, freeze):
    day = days_ago(2)
    freeze(local(day + datetime.timedelta(days=1), settings.REPORT_DUE_HOUR, 0, 1))
    response = api_for(commune_key[1]).post(URL, payload(day=day), format="json")
    assert response.status_code == 201
    assert response.json()["late"] is True
    assert response.json()["warnings"][0]["code"] == "late"
    assert api_for(commune_key[1]).get(URL, {"late": "true"}).json()["count"] == 1


def test_date_after_local_today_is_refused(api_for, commune_key):
    response = api_for(commune_key[1]).post(URL, payload(day=days_ago(-1)), format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["date"][0]["code"] == "date_in_future"


def test_single_post_costs_a_fixed_number_of_queries(api_for, commune_key, django_assert_num_queries):
    client, key = commune_key
    ApiClient.objects.filter(pk=client.pk).update(last_used_at=local(days_ago(0), 6, 59, 30))
    api = api_for(key)
    from django.db import connection

    from localities.services import locality_index

    locality_index()  # kept per process
    # PostgreSQL: key, then the report with its revision, rollup request and report.accepted event in one
    # statement, atomic by itself (the quality bands are checked in it too); SQLite needs a transaction
    # (savepoint, release) and five more statements (revision, event, the locality's quality bands, pending
    # requests locked, rollup request)
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 9):
        assert api.post(URL, payload(), format="json").status_code == 201


def test_key_use_is_recorded_at_most_once_a_minute(api_for, commune_key, freeze, django_assert_num_queries):
    client, key = commune_key
    api = api_for(key)
    api.get(URL)
    client.refresh_from_db()
    first = client.last_used_at
    assert first is not None
    with django_assert_num_queries(2):  # key, count (empty, so no page); no update of last_used_at
        api.get(URL)
    freeze(first + datetime.timedelta(minutes=2))
    api.get(URL)
    client.refresh_from_db()
    assert client.last_used_at == first + datetime.timedelta(minutes=2)


# --- sessions and CSRF --------------------------------------------------------------------------------------


def test_session_users_need_the_csrf_token(commune_clerk):
    api = APIClient(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    api.force_login(commune_clerk)
    refused = api.post(URL, payload(), format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    api.get("/")  # any page with a form sets the CSRF cookie
    token = api.cookies["csrftoken"].value
    response = api.post(URL, payload(), format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201
    report = DailyReport.objects.get()
    assert report.submitted_by == commune_clerk and report.client is None


# --- GET list and detail ------------------------------------------------------------------------------------


@pytest.fixture
def hanoi_and_hcmc_reports(province_key, outsider_province_key):
    """Reports of 00004 (two days), 00008 and 01 (Hà Nội), and 25747 (Hồ Chí Minh City)."""
    services.daily_report_submit_batch(
        payloads=[payload("00004"), payload("00004", day=days_ago(2)), payload("00008"), payload("01")],
        client=province_key[0],
    )
    services.daily_report_submit(payload=payload("25747"), client=outsider_province_key[0])


def localities(response):
    return sorted((r["locality"], r["date"]) for r in response.json()["results"])


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("commune_key", {"00004"}),
        ("province_key", {"00004", "00008", "01"}),
        ("outsider_province_key", {"25747"}),
        ("commune_clerk", {"00004"}),
        ("other_commune_clerk", {"00008"}),
        ("province_officer", {"00004", "00008", "01"}),
        ("outsider_province_officer", {"25747"}),
        ("steering", {"00004", "00008", "01", "25747"}),
        ("inspector", {"00004", "00008", "01", "25747"}),
        ("admin_user", {"00004", "00008", "01", "25747"}),
        ("agency_officer", set()),
    ],
)
def test_list_is_scoped(request, api_for, hanoi_and_hcmc_reports, who, expected):
    fixture = request.getfixturevalue(who)
    api = api_for(fixture[1]) if isinstance(fixture, tuple) else api_for(user=fixture)
    assert {r["locality"] for r in api.get(URL).json()["results"]} == expected


def test_list_filters(api_for, steering, hanoi_and_hcmc_reports):
    api = api_for(user=steering)
    yesterday, before = days_ago(1).isoformat(), days_ago(2).isoformat()
    assert localities(api.get(URL, {"province": "79"})) == [("25747", yesterday)]
    assert localities(api.get(URL, {"commune": "00004"})) == [("00004", before), ("00004", yesterday)]
    assert len(localities(api.get(URL, {"date": yesterday}))) == 4
    assert localities(api.get(URL, {"date_before": before})) == [("00004", before)]
    assert len(localities(api.get(URL, {"date_after": yesterday}))) == 4
    # The day-before-yesterday report was sent today, after its due time.
    assert localities(api.get(URL, {"late": "true"})) == [("00004", before)]
    assert api.get(URL, {"late": "false"}).json()["count"] == 4
    assert api.get(URL, {"province": "77"}).status_code == 400


def test_list_items_carry_derived_rates(api_for, commune_key):
    api = api_for(commune_key[1])
    api.post(URL, payload(), format="json")
    item = api.get(URL).json()["results"][0]
    assert (item["received_total"], item["resolved_total"]) == (157, 133)
    assert item["rates"] == {"online": 120 / 157, "fully_online": 98 / 157, "on_time": 130 / 133}
    assert (item["province"], item["commune"]) == ("01", "00004")


def test_rates_are_null_on_zero_denominators(api_for, commune_key):
    api = api_for(commune_key[1])
    received = ["received_online", "received_direct", "received_postal", "received_fully_online"]
    zeros = dict.fromkeys([*received, "resolved_early", "resolved_on_time", "resolved_late"], 0)
    api.post(URL, payload(**zeros), format="json")
    assert api.get(URL).json()["results"][0]["rates"] == {"online": None, "fully_online": None, "on_time": None}


def test_list_query_count_does_not_grow_with_the_page(api_for, steering, province_key, django_assert_num_queries):
    services.daily_report_submit_batch(
        payloads=[payload(code) for code in ("00004", "00008", "00025", "00070", "01")], client=province_key[0]
    )
    api = api_for(user=steering)
    with django_assert_num_queries(5):  # session, user, membership, count, page
        assert api.get(URL).json()["count"] == 5


def test_detail_has_rates_and_revisions(api_for, commune_key, django_assert_num_queries):
    api = api_for(commune_key[1])
    api.post(URL, payload(), format="json")
    with django_assert_num_queries(3):  # key, report, revisions with their authors and clients
        body = api.get(detail_url("00004", days_ago(1))).json()
    assert body["rates"]["on_time"] == 130 / 133
    assert [(r["number"], r["client"], r["author"]) for r in body["revisions"]] == [(1, "Ba Đình one-stop desk", None)]


def test_detail_is_404_outside_scope_or_unknown(api_for, commune_key, other_commune_key):
    api_for(commune_key[1]).post(URL, payload(), format="json")
    neighbour = api_for(other_commune_key[1])
    assert neighbour.get(detail_url("00004", days_ago(1))).status_code == 404
    assert neighbour.get(detail_url("00008", days_ago(1))).status_code == 404
    assert neighbour.get(detail_url("00008", "yesterday")).status_code == 404


# --- throttling ---------------------------------------------------------------------------------------------


@pytest.fixture
def throttle(settings):
    """A low rate, counted in a fresh namespace of the configured cache (Redis when REDIS_URL is set)."""

    def set_rate(rate, cache=None):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": rate}}
        config = dict(cache or settings.CACHES["default"])
        config["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
        settings.CACHES = {"default": config}

    return set_rate


def test_over_the_rate_a_key_gets_429_with_retry_after(
    api_for, commune_key, other_commune_key, throttle, frozen_throttle_window
):
    throttle("2/min")
    api = api_for(commune_key[1])
    assert api.post(URL, payload(), format="json").status_code == 201
    assert api.get(URL).status_code == 200
    response = api.post(URL, payload(), format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert response["Retry-After"] == "60"  # the frozen clock stands at the start of its minute
    assert api_for(other_commune_key[1]).post(URL, payload("00008"), format="json").status_code == 201


def test_throttle_lets_reports_in_when_the_cache_is_down(api_for, commune_key, throttle):
    throttle(
        "1/min",
        cache={
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    )
    api = api_for(commune_key[1])
    assert api.post(URL, payload(), format="json").status_code == 201
    assert api.post(URL, payload(), format="json").status_code == 200


# --- a down broker ------------------------------------------------------------------------------------------


@pytest.fixture
def broker_down(settings):
    """Jobs are sent to a broker that refuses connections, as when Redis is down."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager

    def reset_pools():
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    conf.broker_url, conf.task_always_eager = "redis://127.0.0.1:1/0", False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    reset_pools()
    yield
    conf.broker_url, conf.task_always_eager = saved
    reset_pools()


def test_submission_succeeds_when_the_broker_is_unreachable(
    api_for, commune_key, broker_down, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_for(commune_key[1]).post(URL, payload(), format="json")
    assert response.status_code == 201
    assert len(callbacks) == 1
    assert "1 rollup job(s) not enqueued" in caplog.text  # the enqueue ran after commit and failed
    assert DailyReport.objects.filter(receipt=response.json()["receipt"]).exists()
    assert RollupRequest.objects.filter(province_id="01", date=days_ago(1)).exists()  # the catch-up job's work
    assert not ProvinceDayRollup.objects.exists()


# --- the schema ---------------------------------------------------------------------------------------------


def test_openapi_schema_documents_the_report_api_without_warnings(tmp_path, api_for, steering):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    schema = api_for(user=steering).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    post = paths["/api/v1/reports/daily/"]["post"]
    assert set(post["responses"]) >= {"201", "200", "400", "401", "403", "409", "429"}
    assert "report_exists" in str(post["responses"]["409"]) and "report_locked" in str(post["responses"]["409"])
    request_schema = schema["components"]["schemas"]["DailyReportInputRequest"]
    assert request_schema["properties"]["outage_minutes"]["maximum"] == 1440
    assert request_schema["properties"]["returned"]["maximum"] == 1_000_000
    assert set(request_schema["required"]) >= {"locality", "date", "returned"}
    assert "reason" in schema["components"]["schemas"]["DailyReportCorrectionRequest"]["required"]
    assert {"get", "put"} <= set(paths["/api/v1/reports/daily/{locality}/{date}/"])
    assert "post" in paths["/api/v1/reports/daily/batch/"]
    assert "get" in paths["/api/v1/reports/completeness/"]
    list_parameters = {p["name"] for p in paths["/api/v1/reports/daily/"]["get"]["parameters"]}
    assert list_parameters >= {"province", "commune", "date", "date_after", "date_before", "late"}
