"""Changing one's own password (/accounts/password_change/ and the admin's /admin/password_change/): a wrong
old password is a failed login (issue 22, finding 7).

Django's PasswordChangeForm checks the old password with `user.check_password`, which no authentication
backend sees, so a stolen session could guess the password as often as it liked. Here a wrong guess sends
Django's `user_login_failed` for the account's username, the signal django-axes counts: the guesses join the
login form's, against the same limit (PLAN02_LOGIN_FAILURE_LIMIT), recorded as the login's are (axes'
attempts, the admin's *Axes*, the warning log line, the password fields masked). A locked account is refused
here even with the right old password, as the login form refuses it, and the session that reached the lock
is ended: the answer is django-axes' lockout page (plan02.views.login_locked_out: the login page with the
reason, 429).
"""

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.contrib import admin
from django.contrib.admin.forms import AdminPasswordChangeForm
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables


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
