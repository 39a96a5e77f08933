"""Whole responses of the pages read most (the national, phase and provinces dashboards and their JSON
twins), served from the cache before the session, the user and the view are looked up.

A view opts in with `@whole_response`. The first time a signed-in session reads such a page, the full stack
answers it; this middleware then keeps the finished response (body and headers, with an ETag) in the cache
under a key made of everything that chooses what the response says: the session and CSRF cookies, the
language cookie and Accept-Language, htmx's headers, the host and the full path with its query. Next time
the same session asks for the same page, one cache read (the entry) and one primary-key query (the
generations it was built under, core.generations) answer it, with 304 when the browser already has it
(If-None-Match); that query is also the connection's health check (_read_generations), so a hit makes one
round trip to the database, not two. The generations live in the database, renewed inside the transaction of
each change, so a change made while Redis was unreachable still retires the pages Redis kept from before.

An entry is used only while everything it depends on is unchanged:
- the generations that apps register (`register_generation`): the dashboards' one is renewed after every
  rollup or snapshot rebuild, so a new number is never hidden behind an old page;
- the viewers' generation (`viewers_changed`), renewed when any user, role or notification changes and at
  every logout (in the same transaction), so a logged-out, deactivated or re-scoped session, or a bell with
  a new notification, is answered by the full stack, which checks it as it always does;
- the session's expiry, stored with the entry.
The content inside is cached once per scope and language by the app (dashboards.cache); this cache adds
the page around it per session, because the page carries the user's name, the logout form's CSRF token
and the bell.

Never kept: anything but a 200 to a GET of a session signed in by its cookie, a response that sets a
cookie, and a request carrying flash messages. The cache is an accelerator only: when it is unreachable,
every request is answered by the full stack (and the cache is not tried again for a few seconds).

Why not Django's per-site cache (UpdateCacheMiddleware / FetchFromCacheMiddleware): it is keyed by URL and
Vary headers with a fixed prefix and expires by time only, so it could neither drop a page the moment the
rollups change nor a session the moment it logs out; it also runs two cache reads per request.
"""

import hashlib
import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth import user_logged_out
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_cache_control
from django.utils.http import parse_etags, quote_etag

from core import generations

logger = logging.getLogger(__name__)

VIEWERS = "viewers"
ATTRIBUTE = "plan02_whole_response"
_ENTRY_PREFIX = "pagecache:entry:"
_SKIPPED_HEADERS = {"set-cookie", "x-request-id", "etag"}
_generations: list[str] = [VIEWERS]
_paths: set[str] = set()  # paths that gave a cacheable answer in this process: no cache round trip for others
_down_until = 0.0
BACKOFF_SECONDS = 5


def register_generation(name: str) -> None:
    """A generation (core.generations) an app renews whenever what its cached pages show changes
    (AppConfig.ready)."""
    if name not in _generations:
        _generations.append(name)


def viewers_changed() -> None:
    """Who a session is, what it may see or what its bell says has changed: no whole page kept so far is used
    again. Cheap and rare (logins, logouts, role changes, notifications), so it is global. Call it inside the
    change's transaction (it is part of it) or after its commit."""
    generations.renew(VIEWERS)


def watch(model: str) -> None:
    """Any save or delete of this model ("app_label.Model") renews the viewers' generation."""

    def changed(sender: Any, **kwargs: Any) -> None:
        viewers_changed()  # in the save's transaction

    for name, signal in (("save", post_save), ("delete", post_delete)):
        signal.connect(changed, sender=model, weak=False, dispatch_uid=f"core.pagecache.{name}.{model}")


def whole_response(view: Callable) -> Callable:
    """Marks the 200 answers of a view (or of an API view's get) as kept whole for the session (see above)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        response = view(*args, **kwargs)
        setattr(response, ATTRIBUTE, True)
        return response

    return wrapper


def _set(key: str, value: Any, timeout: float | None) -> None:
    try:
        cache.set(key, value, timeout)
    except Exception:
        logger.warning("page cache unreachable", exc_info=True)


def _timeout() -> int:
    """Ten minutes in a shared cache (Redis); five seconds in a per-process one, which another process's
    rebuild cannot renew."""
    return 5 if "locmem" in settings.CACHES["default"]["BACKEND"].lower() else 600


def _read_generations() -> dict[str, int]:
    """The generations, read as the first statement of the request. Django checks a persistent connection before
    its first use in a request (CONN_HEALTH_CHECKS), one more round trip; on this path the read is the check: a
    connection broken since its last use (a database restart) is closed and the read tried once more on a new
    one, which raises DatabaseError if the database is really down."""
    if connection.connection is not None and not connection.in_atomic_block:
        connection.health_check_done = True  # type: ignore[attr-defined]  # Django 4.1+, not in the stubs
        try:
            return generations.read(_generations)
        except DatabaseError:
            connection.close()
    return generations.read(_generations)


def _key(request: HttpRequest) -> str | None:
    session = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not session or request.method != "GET" or "messages" in request.COOKIES or "HTTP_AUTHORIZATION" in request.META:
        return None
    parts = [
        session,
        request.COOKIES.get(settings.CSRF_COOKIE_NAME, ""),
        request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""),
        request.META.get("HTTP_ACCEPT_LANGUAGE", ""),
        request.META.get("HTTP_ACCEPT", ""),
        request.META.get("HTTP_HX_REQUEST", ""),
        request.META.get("HTTP_HX_TARGET", ""),
        request.get_host(),
        request.get_full_path(),
    ]
    return _ENTRY_PREFIX + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _sets_cookies(request: HttpRequest, response: HttpResponse) -> bool:
    """Whether the response sets a cookie the browser does not have yet. Django sends the CSRF cookie again
    with every page that carries a token (its value unchanged): that one is not a change."""
    csrf = settings.CSRF_COOKIE_NAME
    for name, morsel in response.cookies.items():
        if name != csrf or morsel.value != request.COOKIES.get(csrf):
            return True
    return False


class WholeResponseCacheMiddleware:
    """Between WhiteNoise and the session middleware (settings.MIDDLEWARE): see the module."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        global _down_until
        if request.path not in _paths or time.monotonic() < _down_until:
            key = None
        else:
            key = _key(request)
        current: dict[str, Any] | None = None
        if key is not None:
            try:
                entry = cache.get(key)
            except Exception:
                logger.warning("page cache unreachable; pages are built in full for a while", exc_info=True)
                _down_until = time.monotonic() + BACKOFF_SECONDS
            else:
                try:
                    current = _read_generations()
                except DatabaseError:
                    current = None  # the full stack answers (503 if the database is down)
                else:
                    if entry is not None and entry["generations"] == current and time.time() < entry["expires"]:
                        return self._answer(request, entry)
        response = self.get_response(request)
        if getattr(response, ATTRIBUTE, False):
            # Kept from this path's second request on: the generations must be read before the view, or a
            # page built just before a rebuild could be kept under the new generation.
            _paths.add(request.path)
            response = self._keep(request, response, key, current)
        return response

    def _answer(self, request: HttpRequest, entry: dict[str, Any]) -> HttpResponse:
        etag = entry["etag"]
        if etag in parse_etags(request.META.get("HTTP_IF_NONE_MATCH", "")):
            response: HttpResponse = HttpResponseNotModified()
        else:
            response = HttpResponse(entry["body"], status=200)
        for name, value in entry["headers"]:
            if response.status_code == 304 and name.lower() in {"content-length", "content-type"}:
                continue
            response[name] = value
        response["ETag"] = etag
        return response

    def _keep(
        self, request: HttpRequest, response: HttpResponse, key: str | None, current: dict[str, Any] | None
    ) -> HttpResponse:
        kind = response.get("Content-Type", "")
        if response.status_code != 200 or response.streaming or _sets_cookies(request, response):
            return response
        if not kind.startswith(("text/html", "application/json")) or "HTTP_AUTHORIZATION" in request.META:
            return response  # exports are files to download; an API key's call is not a session's
        session = getattr(request, "session", None)
        if session is None or session.get("_auth_user_id") is None or session.modified:
            return response  # not a signed-in session, or one that changed while answering
        body = response.content
        etag = quote_etag(hashlib.sha256(body).hexdigest()[:32])
        response["ETag"] = etag
        patch_cache_control(response, private=True, no_cache=True)
        if (
            key is not None
            and current is not None
            and session.session_key == request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        ):
            expires = session.get_expiry_date().timestamp()
            timeout = min(_timeout(), expires - time.time())
            if timeout > 0:
                headers = [(k, v) for k, v in response.items() if k.lower() not in _SKIPPED_HEADERS]
                entry = {"body": body, "headers": headers, "etag": etag, "generations": current, "expires": expires}
                _set(key, entry, timeout)
        if etag in parse_etags(request.META.get("HTTP_IF_NONE_MATCH", "")):
            not_modified = HttpResponseNotModified()
            for name, value in response.items():
                if name.lower() not in {"content-length", "content-type"}:
                    not_modified[name] = value
            return not_modified
        return response


@receiver(user_logged_out, dispatch_uid="core.pagecache.logout")
def _logged_out(sender: Any, **kwargs: Any) -> None:
    viewers_changed()
