"""Single sign-on in the browser (DESIGN.md §14): Chromium logs in through a local OpenID Connect provider
(oidc-provider-mock, started by the test on a free port of localhost). An existing active account is
matched by its e-mail claim and opened; an unknown or switched-off one ends on the refusal page, with no
account created; password login can be switched off."""

import pytest
from django.contrib.auth import get_user_model

from integrations import sso
from tasks.models import Role
from tests.conftest import make_user

EMAIL = "clerk@badinh.hanoi.gov.vn"


@pytest.fixture
def provider(settings):
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread() as server:
        issuer = f"http://localhost:{server.server_port}"
        settings.OIDC_ISSUER = issuer
        settings.OIDC_RP_CLIENT_ID = "plan02-portal"
        settings.OIDC_RP_CLIENT_SECRET = "test-secret"
        settings.OIDC_VERIFY_KID = False  # the mock publishes one key, without an id
        sso.discovery.cache_clear()
        yield issuer
    sso.discovery.cache_clear()


def sign_in_at_the_provider(page, subject):
    page.goto("/accounts/login/")
    page.click("[data-testid=sso-login]")
    page.wait_for_selector("input[name=sub]")  # the provider's own page
    page.fill("input[name=sub]", subject)  # the mock's claims: {"sub": …, "email": …}
    page.click("button[type=submit]:has-text('Authorize')")


def test_an_existing_user_logs_in_with_single_sign_on(page, provider, screenshot):
    user = make_user("clerk-sso", Role.COMMUNE_CLERK, commune="00004")
    user.email = EMAIL.upper()  # matched without regard to case
    user.save()
    users_before = get_user_model().objects.count()
    page.goto("/accounts/login/")
    assert page.is_visible("[data-testid=sso-login]") and page.is_visible("#id_password")
    screenshot("login-with-sso")
    sign_in_at_the_provider(page, EMAIL)
    page.wait_for_selector("[data-testid=whoami]")
    assert "clerk-sso" in page.text_content("[data-testid=whoami]")
    assert get_user_model().objects.count() == users_before
    page.goto("/tasks/mine/")
    assert page.url.endswith("/tasks/mine/")  # the session is the clerk's, with the clerk's role


@pytest.mark.parametrize("case", ["unknown", "inactive"])
def test_an_unknown_or_inactive_user_is_refused_and_nothing_is_created(page, provider, screenshot, case):
    if case == "inactive":
        user = make_user("clerk-gone", Role.COMMUNE_CLERK, commune="00004")
        user.email, user.is_active = EMAIL, False
        user.save()
    users_before = list(get_user_model().objects.values_list("username", "is_active"))
    sign_in_at_the_provider(page, EMAIL)
    refusal = page.wait_for_selector("[data-testid=sso-refused]")
    assert refusal.get_attribute("data-code") == case
    assert EMAIL in refusal.text_content()
    screenshot(f"sso-refused-{case}")
    assert list(get_user_model().objects.values_list("username", "is_active")) == users_before
    page.goto("/tasks/")
    assert page.url.split("?")[0].endswith("/accounts/login/")  # not logged in


def test_password_login_can_be_switched_off(page, provider, settings, client):
    make_user("clerk-pw", Role.COMMUNE_CLERK, commune="00004")
    settings.PASSWORD_LOGIN = False
    page.goto("/accounts/login/")
    assert page.is_visible("[data-testid=sso-login]") and not page.is_visible("#id_password")
    response = client.post("/accounts/login/", {"username": "clerk-pw", "password": "pw-" + "x" * 12})
    assert response.status_code == 403 and "_auth_user_id" not in client.session
    assert client.get("/admin/login/").status_code == 302  # the admin's login sends to the portal's
