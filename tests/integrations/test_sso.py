"""integrations.sso without a provider: the matching rule (one active account by the configured claim, nothing
created), the refusal page, and that password logins never need the provider."""

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory

from integrations import sso
from tasks.models import Role
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def configured(settings):
    settings.OIDC_ISSUER = "https://sso.example.gov.vn"
    settings.OIDC_RP_CLIENT_ID = "plan02"
    settings.OIDC_RP_CLIENT_SECRET = "x"


def backend_for(claims):
    backend = sso.OidcBackend()
    backend.request = RequestFactory().get("/accounts/sso/callback/")
    backend.request.session = {}
    backend.get_userinfo = lambda *args: claims
    return backend


@pytest.mark.parametrize(
    ("claims", "code"),
    [({}, "claim_missing"), ({"email": "  "}, "claim_missing"), ({"email": "nobody@x.vn"}, "unknown")],
)
def test_refusals_say_why_and_create_nothing(configured, claims, code):
    before = get_user_model().objects.count()
    backend = backend_for(claims)
    assert backend.get_or_create_user("a", "i", {}) is None
    assert backend.request.session[sso.REFUSAL]["code"] == code
    assert get_user_model().objects.count() == before


def test_two_accounts_with_the_claim_open_neither(configured):
    for name in ("twin-1", "twin-2"):
        user = make_user(name, Role.INSPECTOR)
        user.email = "twin@x.vn"
        user.save()
    backend = backend_for({"email": "TWIN@x.vn"})
    assert backend.get_or_create_user("a", "i", {}) is None
    assert backend.request.session[sso.REFUSAL]["code"] == "ambiguous"


def test_the_claim_and_field_are_configurable(configured, settings):
    user = make_user("insp-7", Role.INSPECTOR)
    settings.OIDC_CLAIM, settings.OIDC_USER_FIELD = "preferred_username", "username"
    assert backend_for({"preferred_username": "INSP-7", "email": "other@x.vn"}).get_or_create_user("a", "i", {}) == user


def test_a_password_login_never_asks_the_provider(client, settings, monkeypatch):
    settings.OIDC_ISSUER = "https://unreachable.invalid"
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = "plan02", "x"
    monkeypatch.setattr(sso, "discovery", lambda issuer: pytest.fail("the provider was asked"))
    make_user("pw-user", Role.INSPECTOR)
    response = client.post("/accounts/login/", {"username": "pw-user", "password": "pw-" + "x" * 12})
    assert response.status_code == 302 and client.session["_auth_user_id"]


def test_the_refusal_page_without_a_refusal_is_a_plain_403(client):
    response = client.get("/accounts/sso/refused/")
    assert response.status_code == 403


def test_single_sign_on_addresses_are_404_while_it_is_not_configured(client):
    assert client.get("/accounts/sso/login/").status_code == 404
    assert client.get("/accounts/sso/callback/?code=x&state=y").status_code == 404
