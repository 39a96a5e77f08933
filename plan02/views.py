import logging
import sys

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found as default_page_not_found
from django.views.defaults import server_error as default_server_error
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import exceptions

from core.api import DATABASE_UNAVAILABLE, RETRY_AFTER, service_unavailable_body
from integrations import sso
from localities.models import Commune, Province
from localities.services import current_data_version
from tasks.models import Agency, Assignment, Phase, Task, TaskGroup
from tasks.scoping import scope_for_user

logger = logging.getLogger(__name__)


def home(request):
    context = {
        "scope": scope_for_user(request.user),
        "counts": {
            "provinces": Province.objects.count(),
            "communes": Commune.objects.count(),
            "groups": TaskGroup.objects.count(),
            "agencies": Agency.objects.count(),
            "tasks": Task.objects.count(),
            "assignments": Assignment.objects.count(),
        },
        "phases": Phase.objects.all(),
        "data_version": current_data_version(),
    }
    return render(request, "home.html", context)


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _check_broker():
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "in-process"
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    client.ping()
    return "ok"


@never_cache
@require_GET
def healthz(request):
    """Liveness and readiness for load balancers: 200 when the database and the broker answer, else 503."""
    body, healthy = {}, True
    for name, check in (("database", _check_database), ("broker", _check_broker)):
        try:
            body[name] = check()
        except Exception as exc:  # any failure of a dependency is reported, not raised
            logger.warning("healthz: %s failed: %s", name, exc)
            body[name] = f"error: {exc.__class__.__name__}"
            healthy = False
    body["status"] = "ok" if healthy else "error"
    return JsonResponse(body, status=200 if healthy else 503)


def login_locked_out(request, original_response=None, credentials=None):
    """django-axes' answer when a login is refused by throttling (AXES_LOCKOUT_CALLABLE): the login page
    again, saying why and for how long, with 429."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    message = ngettext(
        "Too many failed logins for this account: it is locked for %(minutes)s minute. Try again later, or "
        "ask an administrator to unlock it.",
        "Too many failed logins for this account: it is locked for %(minutes)s minutes. Try again later, or "
        "ask an administrator to unlock it.",
        minutes,
    ) % {"minutes": minutes}
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "locked_out": message,
        "next": request.POST.get("next", ""),
        "password_login": settings.PASSWORD_LOGIN,
        "sso": sso.enabled(),
    }
    return render(request, "registration/login.html", context, status=429)


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI (its init script as a separate file, for the Content-Security-Policy), for logged-in users
    and key holders (SPECTACULAR_SETTINGS SERVE_*). A person who is not logged in is sent to the login page
    rather than shown a JSON 401: this is a page for browsers."""

    def handle_exception(self, exc):
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


def not_found(request, exception):
    """handler404. Under /api/ an address that matches no route (`/api/v1/meetings/x/`, an unknown path)
    answers like every other 404 of the API: JSON with a `code`, in the request's language. Elsewhere it is
    Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "detail": str(exceptions.NotFound.default_detail)}, status=404)
    return default_page_not_found(request, exception)


def server_error(request):
    """handler500. Django calls it while handling the exception, so sys.exception() is that exception: when
    the database is unreachable (a restart; the session or user lookup in a middleware is often the first
    query) the answer is a 503 with Retry-After — JSON under /api/, a plain page elsewhere, rendered without
    the context processors, which would query the database again. Anything else is Django's 500 page."""
    if not isinstance(sys.exception(), DATABASE_UNAVAILABLE):
        return default_server_error(request)
    if request.path.startswith("/api/"):
        response = JsonResponse(service_unavailable_body(), status=503)
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    return response
