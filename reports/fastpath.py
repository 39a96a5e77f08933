"""The hot path of the portal: `POST /api/v1/reports/daily/` with an API key — every commune and province,
every day — answered without Django's middleware stack and DRF's request cycle.

It is a WSGI middleware in front of Django (plan02/wsgi.py). It takes only the plain case: a POST to that
address with an `Authorization: Token …` header and a JSON content type. Every rule it applies is the
function the full stack calls (STYLE.md, "Two paths, one rule"):
- the host and the HTTPS redirect: Django's own request (`get_host()`) and SecurityMiddleware;
- the request id: core.middleware.request_id_from, as RequestIdMiddleware;
- the key: reports.auth.authenticate_key, as ApiKeyAuthentication (the keys' generation in the database);
- the throttle: core.throttling.decide, as every API view's throttle (one Redis round trip);
- the body's size: REPORT_BODY_MAX_BYTES by Content-Length, as the API view (a chunked body is read with
  that limit, then handed over with its length);
- the decoding: core.parsers.decode_json, as the API's JSON parser;
- the language and the headers: the middleware that set them (core.middleware.ResponseMiddleware runs
  SecurityMiddleware, the locale, X-Frame-Options and the CSP, request and response halves);
- the judgement: the one validator and submission service of every channel (reports.services), and the
  API view's answer bodies (reports.api.outcome_body), so the contract and the schema are the view's.

The key is authenticated and the request counted BEFORE the body is read: a bogus key, a revoked one or a
throttled one costs one query and no byte of its body. Anything that is not a judgement of the report is the
full stack's own answer, byte for byte: a host to refuse, an HTTPS redirect, a missing, malformed, unknown or
revoked key (401), a throttled key (429, counted once: the decision travels in the environ), a body longer
than one report (413), a body the decoding refuses (400), and any database error (the full stack answers
503, and its connection handling replaces a connection broken by a database restart). A body already read is
handed to the full stack with its length.

What the full stack adds that this path does without, on purpose: sessions, CSRF (a key-authenticated API
call has neither), the login-throttling middleware (keys are not logins), and the per-request database
health check: a connection that fails here sends the request to the full stack, which checks and replaces it.

The ASGI entry point (plan02/asgi.py) has no fast path: the portal is served by gunicorn's WSGI workers
(Procfile, `make serve`), and an ASGI server would run this synchronous code in a thread anyway; the full
stack there answers the same bodies with the same rules.
"""

import io
import json
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest, get_script_name
from django.db import DatabaseError, InterfaceError
from django.http import HttpResponse
from django.urls import set_script_prefix
from django.utils import translation
from rest_framework.exceptions import APIException

from core import throttling
from core.api import content_length
from core.log import request_id
from core.middleware import ResponseMiddleware, request_id_from
from core.parsers import decode_json
from reports import services
from reports.api import HTTP_STATUS, REPORT_BODY_MAX_BYTES, DailyReportListView, outcome_body
from reports.auth import KEYWORD, authenticate_key, hash_key, touch

logger = logging.getLogger("django.request")

PATH = "/api/v1/reports/daily/"
_TOKEN = KEYWORD + " "


class Fallback(Exception):
    """Not the plain case: the full stack answers."""


def read_body(request: WSGIRequest, limit: int) -> bytes:
    """The body, at most `limit` bytes: by its Content-Length, checked before anything is read; a chunked body
    (no length, the server de-chunks it: wsgi.input_terminated) is read up to one byte past the limit. The
    body read replaces wsgi.input, with its length, so the full stack reads the same bytes. Raises Fallback
    when the body is too long (the full stack answers 413 by the length, reading nothing more)."""
    environ = request.environ
    stream = environ["wsgi.input"]
    length = content_length(request)
    if length > limit:
        raise Fallback
    if length:
        body = stream.read(length)
    elif environ.get("wsgi.input_terminated") and not environ.get("CONTENT_LENGTH"):
        chunks, size = [], 0
        while size <= limit:
            chunk = stream.read(min(64 * 1024, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        body = b"".join(chunks)
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    if len(body) > limit:
        raise Fallback
    return body


class ReportSubmitFastPath:
    """WSGI middleware: the single-report POST of an API key, without the full stack (see the module)."""

    def __init__(self, app):
        self.app = app
        self.middleware = ResponseMiddleware()
        # The view's own headers (DRF): the methods it answers, as the view lists them once set up.
        view = DailyReportListView()
        view.setup(None)
        self.allow = ", ".join(view.allowed_methods)

    def __call__(self, environ, start_response):
        if not (
            environ.get("REQUEST_METHOD") == "POST"
            and environ.get("PATH_INFO") == PATH
            and environ.get("HTTP_AUTHORIZATION", "").startswith(_TOKEN)
            and environ.get("CONTENT_TYPE", "").split(";")[0].strip() == "application/json"
        ):
            return self.app(environ, start_response)
        try:
            response = self.answer(environ)
        except Fallback:
            return self.app(environ, start_response)
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return [response.content]

    def answer(self, environ: dict[str, Any]) -> HttpResponse:
        key = environ["HTTP_AUTHORIZATION"][len(_TOKEN) :].strip()
        if not key or " " in key:
            raise Fallback  # the full stack's 401 for a malformed header
        request = WSGIRequest(environ)  # reads no body
        try:
            request.get_host()  # ALLOWED_HOSTS, as the full stack checks it (400 DisallowedHost)
        except DisallowedHost:
            raise Fallback from None
        rid = request_id_from(environ.get("HTTP_X_REQUEST_ID", ""))
        token = request_id.set(rid)
        set_script_prefix(get_script_name(environ))
        try:
            if self.middleware.request(request) is not None:  # the HTTPS redirect
                raise Fallback
            return self._submit(environ, request, hash_key(key), rid=rid)
        except (DatabaseError, InterfaceError):
            # The full stack answers this request: at its start Django checks the connection and replaces a
            # broken one (close_old_connections, CONN_HEALTH_CHECKS), and its handler answers 503 if the
            # database is down.
            raise Fallback from None
        finally:
            translation.deactivate()
            request_id.reset(token)

    def _submit(self, environ: dict[str, Any], request: WSGIRequest, key_hash: str, *, rid: str) -> HttpResponse:
        client = authenticate_key(key_hash)
        if client is None:
            raise Fallback  # the full stack's 401, the body unread
        decision = throttling.decide(throttling.key_ident(key_hash))
        environ[throttling.COUNTED] = decision  # counted once: the full stack reads the decision
        if not decision.allowed:
            raise Fallback  # the full stack's 429 with its Retry-After, the body unread
        body = read_body(request, REPORT_BODY_MAX_BYTES)
        try:
            payload = decode_json(body)
        except APIException:
            raise Fallback from None  # the full stack's 400: the same function raises the same error there
        touch(client)
        outcome = services.daily_report_submit(payload=payload, client=client)
        status = HTTP_STATUS[outcome.status]
        body_data = outcome_body(outcome)
        # As DRF's JSONRenderer writes it (UNICODE_JSON, COMPACT_JSON, the two line separators escaped).
        text = json.dumps(body_data, ensure_ascii=False, separators=(",", ":"))
        content = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()
        response = HttpResponse(content, status=status, content_type="application/json")
        response["Vary"] = "Accept"
        response["Allow"] = self.allow
        if status == 201:
            response["Location"] = body_data["url"]
        response = self.middleware.response(request, response)
        response["X-Request-ID"] = rid
        if status >= 400:
            logger.warning("%s: %s", response.reason_phrase, PATH, extra={"status_code": status})
        return response


def wrap(app):
    """plan02/wsgi.py: the WSGI application with the hot path in front, unless PLAN02_REPORT_FAST_PATH is
    off (settings), which sends every request through the full stack."""
    return ReportSubmitFastPath(app) if settings.REPORT_FAST_PATH else app
