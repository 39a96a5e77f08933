import re
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import Http404, HttpRequest, HttpResponseBadRequest, HttpResponseBase, JsonResponse
from django.middleware.gzip import GZipMiddleware
from django.middleware.locale import LocaleMiddleware
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from core.log import request_id
from core.text import echo

# An id from the client or the proxy is kept when it is a plain token; anything else (spaces, newlines,
# markup, a novel) could forge or garble log lines, so a fresh one replaces it.
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def request_id_from(incoming: str) -> str:
    """The id of a request that came with `incoming` as its X-Request-ID (both paths: RequestIdMiddleware and
    reports.fastpath)."""
    return incoming if _SANE_ID.fullmatch(incoming) else uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives each request an id: the X-Request-ID it came with when sane, else a new one. Every log line
    written while it is handled carries it (core.log), and the response returns it in X-Request-ID, so a
    user's report or a proxy's log leads to the matching lines."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_from(request.META.get("HTTP_X_REQUEST_ID", ""))
        # Not reset on the way out: Django logs 4xx/5xx answers after the middleware returns; it is reset
        # when the request finishes (core.log).
        request_id.set(request.request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


def _with_nul(items) -> list[str]:
    """The names (printable, bounded: core.text) of the (name, values) pairs with a NUL in the name or a value."""
    return sorted(
        echo(name.replace("\x00", "\\u0000"))
        for name, values in items
        if "\x00" in name or any("\x00" in str(value) for value in values)
    )


class NulCharacterMiddleware:
    """PostgreSQL cannot hold a NUL character in text, and a query comparing a column with a string that has
    one fails (a DataError, so a 500). None is meaningful in an address or a form: a path with one names
    nothing (404); a query parameter with one is refused (400; under /api/ the API's error body, naming the
    parameter); so is a field of a form sent to a page (400, a page naming the fields), for every form of the
    portal and the admin at once, before any view reads it. JSON bodies are checked by core.parsers, and the
    API's form bodies by DRF's fields."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path:
            raise Http404
        message = _("Contains a NUL character (\\u0000), which text may not contain.")
        names = _with_nul(request.GET.lists())
        if names and request.path.startswith("/api/"):
            error = [{"code": "invalid_text", "message": message}]
            return JsonResponse(
                {
                    "code": "invalid",
                    "detail": _("A parameter of the address is not valid."),
                    "errors": {name: error for name in names},
                },
                status=400,
            )
        if not names and request.method == "POST" and not request.path.startswith("/api/"):
            files = ((name, [upload.name for upload in uploads]) for name, uploads in request.FILES.lists())
            names = _with_nul([*request.POST.lists(), *files])
        if names:
            page = render_to_string("core/bad_request.html", {"fields": names, "message": message}, request=None)
            return HttpResponseBadRequest(page)
        return self.get_response(request)


class PortalLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Every page needs a session, except the paths in LOGIN_EXEMPT_PREFIXES.

    The API is exempt here because it answers 401/403 in JSON itself (session or API key), instead of
    redirecting a provincial system to an HTML login page.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(settings.LOGIN_EXEMPT_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class PortalLocaleMiddleware(LocaleMiddleware):
    """A Vietnamese government portal opens in Vietnamese unless the reader chooses English (the VI/EN
    switch, which sets the language cookie): a browser's Accept-Language does not choose for them. The API
    keeps following Accept-Language (its messages are documented that way for the systems that call it)."""

    def process_request(self, request):
        if request.path_info.startswith("/api/"):
            return super().process_request(request)
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        return None


# The middleware of MIDDLEWARE whose work a request answered outside the stack (reports.fastpath) still needs:
# the HTTPS redirect and the security headers (SecurityMiddleware), the language and its headers (the locale),
# the refused user agents and Content-Length (CommonMiddleware), X-Frame-Options and the Content-Security-
# Policy. Running them, rather than writing their headers again, keeps one home for each rule. (The pages'
# compression, PageGZipMiddleware, leaves the API alone.)
RESPONSE_MIDDLEWARE = frozenset(
    {
        "django.middleware.security.SecurityMiddleware",
        "core.middleware.PortalLocaleMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "csp.middleware.CSPMiddleware",
    }
)


def _unused_get_response(request: HttpRequest) -> HttpResponseBase:
    raise AssertionError("only the request and response halves of these middleware are called")


class ResponseMiddleware:
    """The RESPONSE_MIDDLEWARE present in settings.MIDDLEWARE, instantiated once, in the stack's order: a
    request answered outside the stack runs their request halves (`request()`: a response, such as the HTTPS
    redirect, means the stack must answer) and their response halves (`response()`, innermost first, as the
    stack runs them)."""

    def __init__(self) -> None:
        self.middleware: list[Any] = [
            import_string(path)(_unused_get_response) for path in settings.MIDDLEWARE if path in RESPONSE_MIDDLEWARE
        ]

    def request(self, request: HttpRequest) -> HttpResponseBase | None:
        for middleware in self.middleware:
            answer = middleware.process_request(request) if hasattr(middleware, "process_request") else None
            if answer is not None:
                return answer
        return None

    def response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        for middleware in reversed(self.middleware):
            response = middleware.process_response(request, response)
        return response


class PageGZipMiddleware(GZipMiddleware):
    """Django's GZipMiddleware, with its BREACH mitigation (random bytes in each gzip header), for the pages and
    not the API: a page's HTML is most of what a commune on a weak connection downloads again (bench/weak.py,
    DESIGN.md §7), while the API answers systems on servers with short JSON, the same bytes and headers on both
    of its paths (reports.fastpath has no compression to mirror)."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if request.path_info.startswith("/api/"):
            return response
        return super().process_response(request, response)
