"""Login throttling (django-axes): repeated failures lock the account, even against the right password."""

import pytest
from django.core.management import call_command

from tests.conftest import make_user

LOGIN = "/accounts/login/"
PASSWORD = "pw-" + "x" * 12  # tests.conftest.make_user's default


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def officer(db):
    from tasks.models import Role

    return make_user("officer-guessed", Role.PROVINCE_OFFICER, province="01")


def attempt(client, password, language="en"):
    return client.post(LOGIN, {"username": "officer-guessed", "password": password}, HTTP_ACCEPT_LANGUAGE=language)


@pytest.mark.django_db
def test_after_repeated_failures_the_right_password_is_refused_too(client, officer, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # pages follow the VI/EN switch, not Accept-Language
    for _ in range(30):
        attempt(client, "wrong-guess")
    response = attempt(client, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "Too many failed logins for this account: it is locked for 30 minutes" in response.text
    assert 'value="officer-guessed"' in response.text  # the login page again, ready for later


@pytest.mark.django_db
def test_the_lockout_message_is_in_vietnamese_by_default(client, officer, settings):
    settings.AXES_FAILURE_LIMIT = 2
    attempt(client, "wrong", language="vi")
    attempt(client, "wrong", language="vi")
    response = attempt(client, PASSWORD, language="vi")
    assert response.status_code == 429
    assert 'data-testid="locked-out"' in response.text
    assert 'lang="vi"' in response.text


@pytest.mark.django_db
def test_failures_below_the_limit_still_let_the_right_password_in(client, officer):
    for _ in range(4):
        assert attempt(client, "wrong").status_code == 200
    assert attempt(client, PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(officer.pk)


@pytest.mark.django_db
def test_an_admin_unlocks_the_account_with_axes_reset_username(client, officer, capsys):
    for _ in range(6):
        attempt(client, "wrong")
    assert attempt(client, PASSWORD).status_code == 429
    call_command("axes_reset_username", "officer-guessed")
    assert attempt(client, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_api_keys_are_not_affected(client, officer):
    from rest_framework.test import APIClient

    from reports.services import api_client_issue

    _client, key = api_client_issue(name="Hà Nội system", locality="01")
    for _ in range(10):
        attempt(client, "wrong")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/reports/daily/").status_code == 200
