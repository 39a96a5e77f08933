import re
import uuid

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.core.exceptions import BadRequest
from django.http import Http404, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import gettext as _

from core.log import request_id

# An id from the client or the proxy is kept when it is a plain token; anything else (spaces, newlines,
# markup, a novel) could forge or garble log lines, so a fresh one replaces it.
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


class RequestIdMiddleware:
    """Gives each request an id: the X-Request-ID it came with when sane, else a new one. Every log line
    written while it is handled carries it (core.log), and the response returns it in X-Request-ID, so a
    user's report or a proxy's log leads to the matching lines."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = incoming if _SANE_ID.fullmatch(incoming) else uuid.uuid4().hex
        # Not reset on the way out: Django logs 4xx/5xx answers after the middleware returns; it is reset
        # when the request finishes (core.log).
        request_id.set(request.request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


class NulCharacterMiddleware:
    """PostgreSQL cannot hold a NUL character in text, and a query comparing a column with a string that has
    one fails (a DataError, so a 500). None is meaningful in an address: a path with one names nothing (404),
    and a query parameter with one is refused (400; under /api/ the API's error body, naming the parameter).
    JSON bodies are checked by core.parsers, forms by Django's own validators."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path:
            raise Http404
        names = sorted(
            name for name, values in request.GET.lists() if "\x00" in name or any("\x00" in v for v in values)
        )
        if names:
            message = _("Contains a NUL character (\\u0000), which text may not contain.")
            if not request.path.startswith("/api/"):
                raise BadRequest(message)
            errors = {name.replace("\x00", "\\u0000"): [{"code": "invalid_text", "message": message}] for name in names}
            return JsonResponse(
                {"code": "invalid", "detail": _("A parameter of the address is not valid."), "errors": errors},
                status=400,
            )
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
