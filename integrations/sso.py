"""Single sign-on with OpenID Connect (DESIGN.md §14), through mozilla-django-oidc, configured from the
environment (README "Single sign-on").

The provider says who the person is; the portal decides what they may do. A login is let in only when the
configured claim (`PLAN02_OIDC_CLAIM`, e.g. `email` or `preferred_username`) matches exactly one existing,
active account by the configured field (`PLAN02_OIDC_USER_FIELD`: `email` or `username`, case-insensitive).
Nothing is ever created: no user, no role, no membership — the national admin makes accounts and grants
roles as before. Every other case (no such account, a switched-off one, two accounts with that value, the
claim missing, the provider's own refusal) ends on a refusal page that says which, with nothing changed.

Endpoints come from the provider's discovery document (`<issuer>/.well-known/openid-configuration`),
fetched once per process at the first login, unless set one by one (`PLAN02_OIDC_*_ENDPOINT`).

Password login stays, and `PLAN02_PASSWORD_LOGIN=false` switches it off: the password backend then
authenticates no one, the login page offers single sign-on only, and the admin's own login page sends to it.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import requests
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

logger = logging.getLogger(__name__)

BACKEND = "integrations.sso.OidcBackend"
REFUSAL = "plan02_sso_refusal"
_DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}


def enabled() -> bool:
    return bool(settings.OIDC_ISSUER and settings.OIDC_RP_CLIENT_ID)


@functools.cache
def discovery(issuer: str) -> dict[str, Any]:
    """The provider's metadata (OpenID Connect Discovery), once per process and issuer."""
    response = requests.get(issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=10)
    response.raise_for_status()
    return response.json()


_MISSING = object()


def setting(attr: str, *default: Any) -> Any:
    """mozilla-django-oidc's settings: Django's, or the discovered endpoints."""
    value = getattr(settings, attr, _MISSING)
    if (value is _MISSING or value is None) and attr in _DISCOVERED and settings.OIDC_ISSUER:
        value = discovery(settings.OIDC_ISSUER).get(_DISCOVERED[attr], _MISSING)
    if value is _MISSING:
        if default:
            return default[0]
        raise ImproperlyConfigured(f"single sign-on: {attr} is not set")
    return value


class PasswordBackend(ModelBackend):
    """Django's username and password login, unless PLAN02_PASSWORD_LOGIN switched it off."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if not settings.PASSWORD_LOGIN:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class OidcBackend(OIDCAuthenticationBackend):
    """Lets in the one active account the configured claim names; creates nothing, grants nothing."""

    get_settings = staticmethod(setting)
    # The provider's settings, read when a login needs them: Django builds every backend for every password
    # login and every session, and those must not need the provider (nor fetch its discovery document).
    _DEFAULTS: dict[str, tuple[Any, ...]] = {
        "OIDC_OP_JWKS_ENDPOINT": (None,),
        "OIDC_RP_SIGN_ALGO": ("HS256",),
        "OIDC_RP_IDP_SIGN_KEY": (None,),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.UserModel = get_user_model()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("OIDC_"):
            return setting(name, *self._DEFAULTS.get(name, ()))
        raise AttributeError(name)

    def get_user(self, user_id: Any) -> Any:
        return ModelBackend.get_user(self, user_id)  # a switched-off account's session ends

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        if not enabled() or "nonce" not in kwargs:  # a password login asks every backend: not ours
            return None
        return super().authenticate(request, **kwargs)

    def _refuse(self, code: str, value: str = "") -> None:
        logger.warning("single sign-on refused: %s", code)
        self.request.session[REFUSAL] = {"code": code, "claim": settings.OIDC_CLAIM, "value": value[:150]}

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return True  # the claim is checked in get_or_create_user, which says what was missing

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        value = claims.get(settings.OIDC_CLAIM)
        if not isinstance(value, str) or not value.strip():
            return get_user_model().objects.none()
        return get_user_model().objects.filter(**{f"{settings.OIDC_USER_FIELD}__iexact": value.strip()})

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        claims = self.get_userinfo(access_token, id_token, payload)
        value = claims.get(settings.OIDC_CLAIM)
        if not isinstance(value, str) or not value.strip():
            self._refuse("claim_missing")
            return None
        users = list(self.filter_users_by_claims(claims)[:2])
        if not users:
            self._refuse("unknown", value)
            return None
        if len(users) > 1:
            self._refuse("ambiguous", value)
            return None
        if not users[0].is_active:
            self._refuse("inactive", value)
            return None
        return users[0]

    def create_user(self, claims: dict[str, Any]) -> Any:
        raise ImproperlyConfigured("single sign-on never creates a user")  # OIDC_CREATE_USER is False anyway


class LoginView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider (404 while single sign-on is not configured)."""

    get_settings = staticmethod(setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not enabled():
            raise Http404
        super().__init__(*args, **kwargs)


class CallbackView(OIDCAuthenticationCallbackView):
    get_settings = staticmethod(setting)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not enabled():
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def login_failure(self) -> HttpResponse:
        if REFUSAL not in self.request.session:
            error = self.request.GET.get("error", "")
            self.request.session[REFUSAL] = {"code": "provider", "claim": settings.OIDC_CLAIM, "value": error[:150]}
        return super().login_failure()


def refused(request: HttpRequest) -> HttpResponse:
    """Why single sign-on did not let the person in (403); nothing was created or changed."""
    refusal = request.session.pop(REFUSAL, None) or {"code": "provider", "claim": settings.OIDC_CLAIM, "value": ""}
    messages = {
        "unknown": _(
            "No account of the portal has %(claim)s “%(value)s”. Single sign-on opens existing accounts only: "
            "ask the portal's national admin to create yours (with this %(claim)s) and give it its role."
        ),
        "inactive": _(
            "The account with %(claim)s “%(value)s” is switched off. Ask the portal's national admin to switch "
            "it on again if you should still have access."
        ),
        "ambiguous": _(
            "Several accounts of the portal have %(claim)s “%(value)s”, so none was opened. Ask the portal's "
            "national admin to keep this %(claim)s on one account only."
        ),
        "claim_missing": _(
            "The identity provider did not say your %(claim)s, which the portal needs to find your account."
        ),
        "provider": _("The identity provider did not confirm who you are. Try again, or log in another way."),
    }
    message = messages.get(refusal.get("code", ""), messages["provider"]) % {
        "claim": refusal.get("claim", ""),
        "value": refusal.get("value", ""),
    }
    context = {"message": message, "code": refusal.get("code"), "password_login": settings.PASSWORD_LOGIN}
    return render(request, "registration/sso_refused.html", context, status=403)


def admin_login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin's login: its own page while passwords are accepted, else the portal's (single sign-on)."""
    if settings.PASSWORD_LOGIN:
        return admin.site.login(request, extra_context)
    return redirect_to_login(request.GET.get("next") or "/admin/")


class PortalLoginView(auth_views.LoginView):
    """The login page: the password form while passwords are accepted, and the single sign-on button when it
    is configured. With passwords switched off, a posted password is refused (403) with the reason."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "sso": enabled(), "password_login": settings.PASSWORD_LOGIN}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.PASSWORD_LOGIN:
            context = self.get_context_data(password_refused=True)
            return self.render_to_response(context, status=403)
        return super().post(request, *args, **kwargs)
