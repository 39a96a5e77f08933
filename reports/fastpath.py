"""The hot path of the portal: `POST /api/v1/reports/daily/` with an API key — every commune and province,
every day — answered without Django's middleware stack and DRF's request cycle.

It is a WSGI middleware in front of Django (plan02/wsgi.py). It takes only the plain case: a POST to that
address, an `Authorization: Token …` header, a JSON body, a host Django would accept, nothing to redirect.
Then: one Redis round trip (the throttle's counter and the keys' generation, reports.throttling), the key
from this process's copy (reports.auth.lookup_client_cached), the one validator and the one submission
service of every channel (reports.validation, reports.services), and the same answer bodies as the API view
(reports.api.outcome_body), so the contract and the OpenAPI schema are the API view's, unchanged.

Anything else goes to Django, with the body it already read: a missing, malformed, unknown or revoked key,
a throttled key, a body that is not well-formed JSON (or is too deep, or carries a lone surrogate), a host
to refuse, an HTTPS redirect, and any database error (the full stack answers 503, and its connection
handling replaces a connection broken by a database restart). So every error that is not a judgement of
the report itself is the full stack's own answer, byte for byte.

What the full stack adds that this path does without, on purpose: sessions, CSRF (a key-authenticated API
call has neither), the login-throttling middleware (keys are not logins), the CSP header (a JSON answer is
never rendered as a document; it is sent with `nosniff`), and the per-request database health check: a
connection that fails here sends the request to the full stack, which checks and replaces it.
"""

import io
import json
import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import get_script_name
from django.db import DatabaseError, InterfaceError
from django.http.request import split_domain_port, validate_host
from django.urls import set_script_prefix
from django.utils import translation
from django.utils.translation.trans_real import get_supported_language_variant, parse_accept_lang_header

from core.log import request_id
from core.parsers import refuse_duplicates
from reports import services
from reports.api import HTTP_STATUS, outcome_body
from reports.auth import KEYWORD, hash_key, lookup_client_cached, touch
from reports.throttling import SCOPE, count_request, parse_rate

logger = logging.getLogger("django.request")

PATH = "/api/v1/reports/daily/"
_TOKEN = KEYWORD + " "
_REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict"}
_SANE_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")


class Fallback(Exception):
    """Not the plain case: the full stack answers."""


def _static_headers() -> list[tuple[str, str]]:
    """The headers Django's middleware would add to an API answer (SecurityMiddleware, XFrameOptions)."""
    headers = [("Vary", "Accept, Accept-Language"), ("Allow", "GET, POST, HEAD, OPTIONS")]
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        headers.append(("Referrer-Policy", policy if isinstance(policy, str) else ",".join(policy)))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    headers.append(("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY")))
    return headers


def _hsts() -> str | None:
    if not settings.SECURE_HSTS_SECONDS:
        return None
    value = f"max-age={settings.SECURE_HSTS_SECONDS}"
    if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        value += "; includeSubDomains"
    if settings.SECURE_HSTS_PRELOAD:
        value += "; preload"
    return value


def _is_secure(environ: dict[str, Any]) -> bool:
    header = settings.SECURE_PROXY_SSL_HEADER
    if header:
        name, value = header
        return environ.get(name, "").split(",")[0].strip() == value
    return environ.get("wsgi.url_scheme") == "https"


def _host(environ: dict[str, Any]) -> str:
    host = environ.get("HTTP_X_FORWARDED_HOST") if settings.USE_X_FORWARDED_HOST else None
    return host or environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")


def _language(environ: dict[str, Any]) -> str:
    """The language of the answer's messages: the API follows Accept-Language (as LocaleMiddleware does)."""
    for code, _q in parse_accept_lang_header(environ.get("HTTP_ACCEPT_LANGUAGE", "")):
        if code == "*":
            break
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def _body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Fallback from None
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if length <= 0 or (limit is not None and length > limit):
        raise Fallback  # empty, chunked or too large: the full stack says so
    return environ["wsgi.input"].read(length)


def _payload(body: bytes) -> Any:
    if b"\\u" in body:  # an escape might be a lone surrogate or a NUL: the project's parser names where
        raise Fallback
    try:
        # A duplicated key too (DuplicateKey is a ValueError): core.parsers refuses it, naming where.
        return json.loads(body, object_pairs_hook=refuse_duplicates)
    except (ValueError, RecursionError):
        raise Fallback from None


class ReportSubmitFastPath:
    """WSGI middleware: the single-report POST of an API key, without the full stack (see the module)."""

    def __init__(self, app):
        self.app = app
        self.headers = _static_headers()
        self.hsts = _hsts()

    def __call__(self, environ, start_response):
        if not (
            environ.get("REQUEST_METHOD") == "POST"
            and environ.get("PATH_INFO") == PATH
            and environ.get("HTTP_AUTHORIZATION", "").startswith(_TOKEN)
            and environ.get("CONTENT_TYPE", "").split(";")[0].strip() == "application/json"
        ):
            return self.app(environ, start_response)
        body = b""
        try:
            body = _body(environ)
            answer = self.answer(environ, body)
        except Fallback:
            environ["wsgi.input"] = io.BytesIO(body)
            return self.app(environ, start_response)
        status, headers, content = answer
        start_response(status, headers)
        return [content]

    def answer(self, environ: dict[str, Any], body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
        host, _port = split_domain_port(_host(environ))
        if not host or not validate_host(host, settings.ALLOWED_HOSTS):
            raise Fallback
        secure = _is_secure(environ)
        if settings.SECURE_SSL_REDIRECT and not secure:
            raise Fallback
        key = environ["HTTP_AUTHORIZATION"][len(_TOKEN) :].strip()
        if not key or " " in key:
            raise Fallback
        payload = _payload(body)
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        rid = incoming if 0 < len(incoming) <= 128 and _SANE_ID_CHARS.issuperset(incoming) else uuid.uuid4().hex
        token = request_id.set(rid)
        set_script_prefix(get_script_name(environ))
        language = _language(environ)
        translation.activate(language)
        try:
            return self._submit(key, payload, rid=rid, language=language, secure=secure)
        except (DatabaseError, InterfaceError):
            # The full stack answers this request: at its start Django checks the connection and replaces a
            # broken one (close_old_connections, CONN_HEALTH_CHECKS), and its handler answers 503 if the
            # database is down.
            raise Fallback from None
        finally:
            translation.deactivate()
            request_id.reset(token)

    def _submit(self, key: str, payload: Any, *, rid: str, language: str, secure: bool):
        key_hash = hash_key(key)
        rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].get(SCOPE)
        generation = None
        if rate:
            try:
                window = count_request(f"key:{key_hash[:32]}", rate)
            except Exception:  # Redis unreachable: the throttle fails open, and no copy of a key is trusted
                logger.warning("throttle cache unavailable; request let through", exc_info=True)
            else:
                if window.count > parse_rate(rate)[0]:
                    raise Fallback  # the full stack's 429, with its Retry-After
                generation = window.generation
        client = lookup_client_cached(key_hash, generation=generation)
        if client is None:
            raise Fallback  # the full stack's 401
        touch(client)
        outcome = services.daily_report_submit(payload=payload, client=client)
        status = HTTP_STATUS[outcome.status]
        body = outcome_body(outcome)
        # As DRF's JSONRenderer writes it (UNICODE_JSON, COMPACT_JSON, the two line separators escaped).
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        content = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(content))),
            ("Content-Language", language),
            ("X-Request-ID", rid),
            *self.headers,
        ]
        if secure and self.hsts:
            headers.append(("Strict-Transport-Security", self.hsts))
        if status == 201:
            headers.append(("Location", body["url"]))
        elif status >= 400:
            logger.warning("%s: %s", _REASONS.get(status, status), PATH, extra={"status_code": status})
        return f"{status} {_REASONS[status]}", headers, content


def wrap(app):
    """plan02/wsgi.py: the WSGI application with the hot path in front, unless PLAN02_REPORT_FAST_PATH is
    off (settings), which sends every request through the full stack."""
    return ReportSubmitFastPath(app) if settings.REPORT_FAST_PATH else app
