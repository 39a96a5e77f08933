"""The hot path of the single-report POST (reports.fastpath) answers exactly as the API view does: the same
status, body and headers for every judgement of a report, and the full stack's own answer for everything
else (a bad key, a throttled key, malformed JSON, a database error)."""

import io
import json
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.signals import request_finished, request_started
from django.db import OperationalError, close_old_connections, connection, transaction
from django.test.utils import CaptureQueriesContext

from plan02.wsgi import application
from reports import fastpath, services
from reports.auth import keys_forget
from reports.models import DailyReport
from tests.reports.helpers import days_ago, payload

pytestmark = pytest.mark.django_db
DJANGO = application.app  # the full stack, behind the hot path
IGNORED_HEADERS = {"X-Request-ID", "Content-Security-Policy", "Vary", "Content-Length"}


@pytest.fixture(autouse=True)
def _fresh_keys():
    keys_forget()


@pytest.fixture(autouse=True)
def _connection_kept():
    """As Django's test client does: the request signals would close the test's connection, which is inside
    the test's transaction."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def call(app, body, *, key=None, content_type="application/json", method="POST", headers=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    environ = {}
    setup_testing_defaults(environ)
    environ.update(
        {
            "REQUEST_METHOD": method,
            "PATH_INFO": "/api/v1/reports/daily/",
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(data)),
            "wsgi.input": io.BytesIO(data),
            "HTTP_HOST": "testserver",
            "SERVER_NAME": "testserver",
            "HTTP_ACCEPT_LANGUAGE": "en",
            **({"HTTP_AUTHORIZATION": f"Token {key}"} if key else {}),
            **(headers or {}),
        }
    )
    answer = {}

    def start_response(status, response_headers):
        answer["status"], answer["headers"] = status, dict(response_headers)

    content = b"".join(app(environ, start_response))
    return int(answer["status"].split()[0]), answer["headers"], content


def both(requests):
    """The same sequence of requests through the hot path, then again (from the same state) through the full
    stack alone: the list of (status, headers, body) of each."""
    results = []
    for app in (application, DJANGO):
        with transaction.atomic():
            results.append([call(app, *args, **kwargs) for args, kwargs in requests])
            transaction.set_rollback(True)
        keys_forget()
    return results


def test_every_judgement_of_a_report_is_answered_as_the_api_view_answers_it(commune_key, province_key):
    key = commune_key[1]
    good = payload()
    requests = [
        ((good,), {"key": key}),  # 201 created
        ((good,), {"key": key}),  # 200 unchanged, same receipt
        (({**good, "returned": 9},), {"key": key}),  # 409 report_exists with the diff
        (({**good, "received_online": "12"},), {"key": key}),  # 400 wrong_type
        (({k: v for k, v in good.items() if k != "returned"},), {"key": key}),  # 400 required
        ((payload(locality="00008"),), {"key": key}),  # 403 outside the key's scope
        ((payload(day=days_ago(30)),), {"key": key}),  # 409 report_locked
        ((payload(locality="99999"),), {"key": province_key[1]}),  # 400 unknown_locality
        (([good],), {"key": key}),  # 400 not_an_object
        (({**good, "extra": 1},), {"key": key}),  # 400 unknown_field
    ]
    fast, full = both(requests)
    for (status, headers, body), (status_full, headers_full, body_full) in zip(fast, full, strict=True):
        assert status == status_full
        assert json.loads(body) == json.loads(body_full)
        assert {k: v for k, v in headers.items() if k not in IGNORED_HEADERS} == {
            k: v for k, v in headers_full.items() if k not in IGNORED_HEADERS and k != "Content-Type"
        } | {"Content-Type": "application/json"}
    assert [s for s, _h, _b in fast] == [201, 200, 409, 400, 400, 403, 409, 400, 400, 400]


def test_everything_else_is_the_full_stacks_own_answer(commune_key, settings):
    key = commune_key[1]
    requests = [
        ((payload(),), {"key": "p02_not-a-key"}),  # 401 authentication_failed
        ((b'{"locality": "00004",',), {"key": key}),  # 400 parse_error
        ((b'{"locality": "\\ud800"}',), {"key": key}),  # 400 invalid_text, named
        ((b"[" * 100_000,), {"key": key}),  # 400 nested too deeply
        ((payload(),), {"key": key, "content_type": "text/plain"}),  # 415
        ((payload(),), {}),  # 401 not_authenticated
        ((payload(),), {"key": key, "headers": {"HTTP_HOST": "evil.example"}}),  # 400 DisallowedHost
    ]
    fast, full = both(requests)
    for (status, _headers, body), (status_full, _h, body_full) in zip(fast, full, strict=True):
        assert (status, body) == (status_full, body_full)
    assert [s for s, _h, _b in fast] == [401, 400, 400, 400, 415, 401, 400]


def test_a_throttled_key_gets_the_full_stacks_429(commune_key, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": "2/min"}}
    from rest_framework.settings import api_settings

    api_settings.reload()
    try:
        statuses = [call(application, payload(day=days_ago(n)), key=commune_key[1])[0] for n in (1, 2, 3)]
        status, headers, _body = call(application, payload(day=days_ago(4)), key=commune_key[1])
    finally:
        api_settings.reload()
    assert statuses == [201, 201, 429] and status == 429 and "Retry-After" in headers


def test_a_revoked_key_is_refused_on_the_next_request(commune_key, django_capture_on_commit_callbacks):
    client, key = commune_key
    assert call(application, payload(day=days_ago(1)), key=key)[0] == 201  # the key is now known to the process
    with django_capture_on_commit_callbacks(execute=True):
        services.api_client_revoke(client=client)  # renews the keys' generation after commit
    status, _headers, body = call(application, payload(day=days_ago(2)), key=key)
    assert status == 401 and json.loads(body)["code"] == "authentication_failed"


def test_a_known_key_costs_one_statement(commune_key):
    key = commune_key[1]
    call(application, payload(day=days_ago(1)), key=key)  # looks the key up, records its last use
    with CaptureQueriesContext(connection) as queries:
        status, _h, _b = call(application, payload(day=days_ago(2)), key=key)
    assert status == 201
    statements = [q["sql"] for q in queries.captured_queries]
    assert not any("reports_apiclient" in sql for sql in statements)  # the key came from the process's copy
    if connection.vendor == "postgresql":
        assert len(statements) == 1, statements  # reports, revisions and rollup requests in one statement


def test_a_database_error_is_answered_by_the_full_stack(commune_key, monkeypatch):
    calls = []

    def broken(**kwargs):
        calls.append(1)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(fastpath.services, "daily_report_submit", broken)
    monkeypatch.setattr(services, "daily_report_submit", broken)
    status, headers, body = call(application, payload(), key=commune_key[1])
    assert status == 503 and json.loads(body)["code"] == "service_unavailable" and "Retry-After" in headers
    assert len(calls) == 2  # tried here, then answered by the full stack
    assert not DailyReport.objects.exists()
