"""The hot path of the single-report POST (reports.fastpath) answers exactly as the API view does: the same
status, body and headers for every judgement of a report, and the full stack's own answer for everything
else (a bad key, a throttled key, malformed JSON, a database error). Every rule it applies is the full
stack's own function (STYLE.md, "Two paths, one rule"): the same requests through both paths get the same
answers, request ids, throttling and headers included; and a key is checked before a byte of the body is
read (issue 22, finding 1)."""

import io
import json
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.cache import cache
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
IGNORED_HEADERS = {"X-Request-ID"}  # random unless the client sent a sane one (compared on its own below)


def same_headers(headers, headers_full):
    """The full stack adds `Cookie` to Vary because the audit log's middleware reads the session's user (for
    a key's request, none): the fast path's answer does not depend on cookies. Every other header is equal."""
    mine = {k: v for k, v in headers.items() if k not in IGNORED_HEADERS}
    theirs = {k: v for k, v in headers_full.items() if k not in IGNORED_HEADERS}
    theirs["Vary"] = ", ".join(v for v in theirs.get("Vary", "").split(", ") if v != "Cookie")
    return mine == theirs


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


class RecordingInput:
    """A wsgi.input that serves `declared` bytes of `data` (repeated) and records every read: a 30 MB body
    that costs nothing unless someone reads it."""

    def __init__(self, data=b" ", declared=None):
        self.data = data
        self.left = len(data) if declared is None else declared
        self.reads = []

    def read(self, size=-1):
        size = self.left if size is None or size < 0 else min(size, self.left)
        self.reads.append(size)
        self.left -= size
        return (self.data * (size // len(self.data) + 1))[:size]

    def readline(self, size=-1):
        return self.read(size)


def call(app, body, *, key=None, content_type="application/json", method="POST", headers=None, stream=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    environ = {}
    setup_testing_defaults(environ)
    environ.update(
        {
            "REQUEST_METHOD": method,
            "PATH_INFO": "/api/v1/reports/daily/",
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(data)),
            "wsgi.input": stream if stream is not None else io.BytesIO(data),
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
        cache.clear()  # the throttle's counters
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
        assert (status, body) == (status_full, body_full)  # byte for byte
        assert same_headers(headers, headers_full), (headers, headers_full)
    assert [s for s, _h, _b in fast] == [201, 200, 409, 400, 400, 403, 409, 400, 400, 400]
    # The security headers are the middleware's own: the CSP and X-Frame-Options included.
    assert {"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"} <= set(
        fast[0][1]
    )


def test_everything_else_is_the_full_stacks_own_answer(commune_key, settings):
    key = commune_key[1]
    requests = [
        ((payload(),), {"key": "p02_not-a-key"}),  # 401 authentication_failed
        ((b'{"locality": "00004",',), {"key": key}),  # 400 parse_error
        ((b'{"locality": "\\ud800"}',), {"key": key}),  # 400 invalid_text, named
        ((b"[" * 60_000,), {"key": key}),  # 400 nested too deeply
        ((payload(),), {"key": key, "content_type": "text/plain"}),  # 415
        ((payload(),), {}),  # 401 not_authenticated
        ((payload(),), {"key": key, "headers": {"HTTP_HOST": "evil.example"}}),  # 400 DisallowedHost
    ]
    fast, full = both(requests)
    for (status, _headers, body), (status_full, _h, body_full) in zip(fast, full, strict=True):
        assert (status, body) == (status_full, body_full)
    assert [s for s, _h, _b in fast] == [401, 400, 400, 400, 415, 401, 400]


def test_a_throttled_key_gets_the_full_stacks_429(commune_key, settings, frozen_throttle_window):
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


def test_a_known_key_costs_one_primary_key_read_and_the_submission_one_statement(commune_key):
    key = commune_key[1]
    call(application, payload(day=days_ago(1)), key=key)  # looks the key up, records its last use
    with CaptureQueriesContext(connection) as queries:
        status, _h, _b = call(application, payload(day=days_ago(2)), key=key)
    assert status == 201
    statements = [q["sql"] for q in queries.captured_queries]
    assert not any("reports_apiclient" in sql for sql in statements)  # the key came from the process's copy
    assert "core_generation" in statements[0]  # ... checked against the keys' generation, in the database
    if connection.vendor == "postgresql":
        # reports, revisions and rollup requests in one statement
        assert len(statements) == 2, statements


def test_an_unknown_key_costs_one_statement_and_no_byte_of_the_body(db):
    with CaptureQueriesContext(connection) as queries:
        status, _h, body = call(application, payload(), key="p02_bogus")
    assert status == 401 and json.loads(body)["code"] == "authentication_failed"
    # One statement on each path (the fast path's lookup, then the full stack's), the generation and the key
    # together in each.
    assert len(queries.captured_queries) == 2


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


# --- the body is read last (issue 22, finding 1) ------------------------------------------------------------

THIRTY_MB = 30 * 1024 * 1024


@pytest.mark.parametrize("app", [application, DJANGO], ids=["fast path", "full stack"])
def test_a_bogus_key_reads_no_byte_of_a_30_mb_body(db, app):
    stream = RecordingInput(b"[0,", declared=THIRTY_MB)
    status, _h, body = call(app, b"", key="p02_bogus", stream=stream, headers={"CONTENT_LENGTH": str(THIRTY_MB)})
    assert status == 401 and json.loads(body)["code"] == "authentication_failed"
    assert sum(stream.reads) == 0


def test_a_revoked_key_reads_no_byte_of_the_body(commune_key):
    client, key = commune_key
    assert call(application, payload(day=days_ago(1)), key=key)[0] == 201  # known to the process
    services.api_client_revoke(client=client)
    stream = RecordingInput(b"[0,", declared=THIRTY_MB)
    status, _h, _b = call(application, b"", key=key, stream=stream, headers={"CONTENT_LENGTH": str(THIRTY_MB)})
    assert status == 401 and sum(stream.reads) == 0


def test_a_throttled_key_reads_no_byte_of_the_body(commune_key, settings, frozen_throttle_window):
    from rest_framework.settings import api_settings

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": "1/min"}}
    api_settings.reload()
    try:
        assert call(application, payload(day=days_ago(1)), key=commune_key[1])[0] == 201
        stream = RecordingInput(b"[0,", declared=1000)
        status, headers, _b = call(
            application, b"", key=commune_key[1], stream=stream, headers={"CONTENT_LENGTH": "1000"}
        )
    finally:
        api_settings.reload()
    assert status == 429 and "Retry-After" in headers and sum(stream.reads) == 0


@pytest.mark.parametrize("app", [application, DJANGO], ids=["fast path", "full stack"])
def test_a_body_longer_than_one_report_is_refused_by_its_length_unread(commune_key, app):
    from reports.api import REPORT_BODY_MAX_BYTES

    stream = RecordingInput(b"[0,", declared=THIRTY_MB)
    status, _h, body = call(app, b"", key=commune_key[1], stream=stream, headers={"CONTENT_LENGTH": str(THIRTY_MB)})
    assert status == 413 and sum(stream.reads) == 0
    assert json.loads(body) == {
        "code": "request_too_large",
        "detail": f"The request body is larger than {REPORT_BODY_MAX_BYTES:,} bytes.",
    }
    # The longest report there can be passes: both texts at 2,000 astral characters, every one escaped.
    longest = payload(difficulties="\U0001f600" * 2000, proposals="\U0001f600" * 2000)
    data = json.dumps(longest, indent=4).encode()
    assert len(data) <= REPORT_BODY_MAX_BYTES
    assert call(app, data, key=commune_key[1])[0] == 201


def test_a_chunked_body_is_read_with_the_limit(commune_key):
    from reports.api import REPORT_BODY_MAX_BYTES

    chunked = {"CONTENT_LENGTH": "", "wsgi.input_terminated": True}
    data = json.dumps(payload()).encode()
    status, _h, body = call(application, data, key=commune_key[1], headers=chunked)
    assert status == 201, body
    stream = RecordingInput(b"[0,", declared=THIRTY_MB)
    status, _h, body = call(application, b"", key=commune_key[1], stream=stream, headers=chunked)
    assert status == 413 and json.loads(body)["code"] == "request_too_large"
    assert sum(stream.reads) == REPORT_BODY_MAX_BYTES + 1  # one byte past the limit, not the 30 MB


# --- the same bodies, the same answers (issue 22, finding 3) -------------------------------------------------


def _same_answers(requests):
    fast, full = both(requests)
    for (status, _h, body), (status_full, _hf, body_full) in zip(fast, full, strict=True):
        assert (status, body) == (status_full, body_full)
    return [(status, json.loads(body)) for status, _h, body in fast]


def test_both_paths_accept_exactly_the_same_bodies(commune_key):
    key = commune_key[1]
    text = json.dumps(payload(difficulties="XXXX"))
    surrogate_bytes = text.encode().replace(b"XXXX", b"\xed\xa0\x80")  # a surrogate written in UTF-8
    utf16 = json.dumps(payload(difficulties="Mất mạng"), ensure_ascii=False)
    nul = json.dumps(payload(difficulties="a\x00b"))
    answers = _same_answers(
        [
            ((surrogate_bytes,), {"key": key}),  # was a 500 on the fast path
            ((utf16.encode("utf-16-le"),), {"key": key}),  # was accepted by the fast path only
            ((utf16.encode("utf-16"),), {"key": key}),  # with its byte-order mark
            ((utf16.encode("utf-32"),), {"key": key}),
            ((nul.encode("utf-16-le"),), {"key": key, "content_type": "application/json; charset=utf-16-le"}),
            ((nul.encode(),), {"key": key, "content_type": "application/json; charset=utf-16-le"}),
            ((json.dumps(payload(proposals="\ud800")).encode(),), {"key": key}),
            ((b'{"locality": "00004", "locality": "00008"}',), {"key": key}),
            ((b"\xef\xbb\xbf" + json.dumps(payload()).encode(),), {"key": key}),  # a UTF-8 byte-order mark
            ((json.dumps(payload(returned=float("nan"))).encode(),), {"key": key}),
            ((utf16.encode(),), {"key": key, "content_type": "application/json; charset=utf-16-le"}),
        ]
    )
    statuses = [status for status, _b in answers]
    assert statuses == [400] * 10 + [201]
    assert [body["code"] for _s, body in answers[:4]] == ["parse_error"] * 4
    assert answers[0][1]["detail"].startswith("JSON parse error - 'utf-8' codec can't decode byte 0xed")
    assert "UTF-8" in answers[1][1]["detail"] and "UTF-8" in answers[3][1]["detail"]
    assert answers[5][1]["errors"] == {
        "difficulties": [
            {"code": "invalid_text", "message": "Contains a NUL character (\\u0000), which text may not contain."}
        ]
    }
    assert answers[6][1]["errors"]["proposals"][0]["code"] == "invalid_text"
    assert answers[7][1]["errors"] == {
        "locality": [{"code": "duplicate_key", "message": "Given more than once: send each field once."}]
    }


# --- one rule each: request ids, throttling, headers (issue 16) ----------------------------------------------


def test_request_ids_follow_one_rule_on_both_paths(commune_key):
    key = commune_key[1]
    incoming = ["abc-123", "req.42:x", "-leading-dash", ".leading-dot", "a" * 128, "a" * 129, "with space", "é"]
    requests = [((payload(day=days_ago(1)),), {"key": key, "headers": {"HTTP_X_REQUEST_ID": rid}}) for rid in incoming]
    fast, full = both(requests)
    kept = [
        [h["X-Request-ID"] == rid for (_s, h, _b), rid in zip(answers, incoming, strict=True)]
        for answers in (fast, full)
    ]
    assert kept[0] == kept[1] == [True, True, False, False, True, False, False, False]
    for answers in (fast, full):
        for (_s, headers, _b), keep in zip(answers, kept[0], strict=True):
            if not keep:
                assert len(headers["X-Request-ID"]) == 32  # a fresh one


@pytest.mark.parametrize("secure", [False, True], ids=["http", "https"])
def test_both_paths_send_the_same_headers(commune_key, settings, secure):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proto = {"HTTP_X_FORWARDED_PROTO": "https" if secure else "http"}
    key = commune_key[1]
    requests = [
        ((payload(),), {"key": key, "headers": proto}),
        ((payload(returned=9),), {"key": key, "headers": {**proto, "HTTP_ACCEPT_LANGUAGE": "vi"}}),
        # The language cookie chooses the API's language on both paths, before Accept-Language.
        ((payload(returned=9),), {"key": key, "headers": {**proto, "HTTP_COOKIE": "django_language=vi"}}),
    ]
    fast, full = both(requests)
    for (status, headers, body), (status_full, headers_full, body_full) in zip(fast, full, strict=True):
        assert (status, body) == (status_full, body_full)
        assert same_headers(headers, headers_full), (headers, headers_full)
    assert ("Strict-Transport-Security" in fast[0][1]) is secure
    assert [h["Content-Language"] for _s, h, _b in fast] == ["en", "vi", "vi"]


def test_a_throttled_key_is_counted_once_and_answered_alike(commune_key, settings, frozen_throttle_window):
    from rest_framework.settings import api_settings

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": "3/min"}}
    api_settings.reload()
    key = commune_key[1]
    try:
        requests = [
            ((b'{"locality": ',), {"key": key}),  # 400: read, handed to the full stack, counted once
            ((payload(day=days_ago(1)),), {"key": key}),
            ((payload(day=days_ago(2)),), {"key": key}),
            ((payload(day=days_ago(3)),), {"key": key}),
        ]
        fast, full = both(requests)
    finally:
        api_settings.reload()
    for (status, headers, body), (status_full, headers_full, body_full) in zip(fast, full, strict=True):
        assert (status, body) == (status_full, body_full)
        assert ("Retry-After" in headers) == ("Retry-After" in headers_full)
    assert [s for s, _h, _b in fast] == [400, 201, 201, 429]
