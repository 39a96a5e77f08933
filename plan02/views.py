import logging
import sys
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminPasswordChangeForm
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
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


# --- changing one's own password ----------------------------------------------------------------------------------
# Changing one's own password (/accounts/password_change/ and the admin's /admin/password_change/): a wrong
# old password is a failed login (issue 22, finding 7).
#
# Django's PasswordChangeForm checks the old password with `user.check_password`, which no authentication
# backend sees, so a stolen session could guess the password as often as it liked. Here a wrong guess sends
# Django's `user_login_failed` for the account's username, the signal django-axes counts: the guesses join the
# login form's, against the same limit (PLAN02_LOGIN_FAILURE_LIMIT), recorded as the login's are (axes'
# attempts, the admin's *Axes*, the warning log line, the password fields masked). A locked account is refused
# here even with the right old password, as the login form refuses it, and the session that reached the lock
# is ended: the answer is django-axes' lockout page (login_locked_out: the login page with the
# reason, 429).


class CountedPasswordChangeMixin:
    """clean_old_password for a PasswordChangeForm given the request: refused while the account is locked,
    and every refusal counted as a failed login."""

    request: HttpRequest
    user: Any
    cleaned_data: dict
    error_messages: dict

    @sensitive_variables("old_password")
    def clean_old_password(self) -> str:
        old_password = self.cleaned_data["old_password"]
        credentials = {"username": self.user.get_username()}  # never the password: axes keeps credentials
        if AxesProxyHandler.is_allowed(self.request, credentials) and self.user.check_password(old_password):
            return old_password
        # As django.contrib.auth.authenticate() does for the login form (a locked account's attempt counts too,
        # restarting the wait); django-axes marks the request when the limit is reached.
        user_login_failed.send(sender=__name__, credentials=credentials, request=self.request)
        raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")


class CountedPasswordChangeForm(CountedPasswordChangeMixin, PasswordChangeForm):
    def __init__(self, user: Any, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        self.request = request
        super().__init__(user, *args, **kwargs)


class CountedAdminPasswordChangeForm(CountedPasswordChangeMixin, AdminPasswordChangeForm):
    def __init__(self, user: Any, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        self.request = request
        super().__init__(user, *args, **kwargs)


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = CountedPasswordChangeForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form: Any) -> HttpResponse:
        if getattr(self.request, "axes_locked_out", False):
            # The account is locked: the session that made the guesses ends with it. django-axes' middleware
            # answers with the lockout page.
            logout(self.request)
        return super().form_invalid(form)


def admin_password_change(request: HttpRequest) -> HttpResponse:
    """The admin's own page (django.contrib.admin.AdminSite.password_change) with the counted form."""
    site = admin.site
    request.current_app = site.name
    return PasswordChangeView.as_view(
        form_class=CountedAdminPasswordChangeForm,
        success_url=reverse("admin:password_change_done", current_app=site.name),
        extra_context=site.each_context(request),
    )(request)


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
