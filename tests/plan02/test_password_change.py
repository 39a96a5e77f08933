"""A wrong old password on the password change form is a failed login (issue 22, finding 7): the guesses of a
session count toward the login form's lockout, are recorded as the login's failures are, and a locked account
can no longer change its password, on the portal's page and the admin's."""

import logging

import pytest
from axes.models import AccessAttempt

from tests.conftest import make_user

PASSWORD = "pw-" + "x" * 12  # tests.conftest.make_user's default
NEW = "Ha-Noi-new-passphrase-2026"
CHANGE = "/accounts/password_change/"
ADMIN_CHANGE = "/admin/password_change/"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def officer(db):
    from tasks.models import Role

    return make_user("officer-guessed", Role.PROVINCE_OFFICER, province="01")


@pytest.fixture
def session(client, officer, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(officer)
    return client


def change(client, old, url=CHANGE):
    return client.post(url, {"old_password": old, "new_password1": NEW, "new_password2": NEW})


def login(client, password):
    return client.post("/accounts/login/", {"username": "officer-guessed", "password": password})


def test_eight_wrong_old_passwords_lock_the_account_as_the_login_form_would(session, officer, client):
    """The red team's attack: eight wrong `old_password` values, then the account was still open."""
    answers = [change(session, f"guess-{i}").status_code for i in range(8)]
    assert answers[:4] == [200] * 4  # the form again, saying the old password is wrong
    assert answers[4] == 429  # the fifth (PLAN02_LOGIN_FAILURE_LIMIT): the lockout page, the session ended
    assert answers[5:] == [302] * 3  # to the login page
    client.logout()
    response = login(client, PASSWORD)
    assert response.status_code == 429
    assert 'data-testid="locked-out"' in response.text
    officer.refresh_from_db()
    assert officer.check_password(PASSWORD)  # unchanged


def test_the_guesses_are_recorded_as_failed_logins_without_the_passwords(session, caplog):
    with caplog.at_level(logging.WARNING, logger="axes"):
        for i in range(2):
            change(session, f"secret-guess-{i}")
    attempt = AccessAttempt.objects.get(username="officer-guessed")
    assert attempt.failures_since_start == 2
    assert attempt.path_info == CHANGE
    assert "secret-guess" not in attempt.post_data and NEW not in attempt.post_data
    assert "old_password=********************" in attempt.post_data
    assert any("login failure" in record.getMessage() for record in caplog.records)
    assert "secret-guess" not in caplog.text


def test_guesses_on_both_forms_share_one_count(session, client, settings):
    settings.AXES_FAILURE_LIMIT = 4
    for i in range(2):
        assert change(session, f"guess-{i}").status_code == 200
    client.logout()
    assert login(client, "wrong-1").status_code == 200
    assert login(client, "wrong-2").status_code == 429  # the fourth failure
    assert AccessAttempt.objects.get(username="officer-guessed").failures_since_start == 4


def test_a_locked_account_cannot_change_its_password_and_the_session_ends(session, officer, client):
    for i in range(5):
        login(client.__class__(), f"wrong-{i}")  # another browser locks the account at the login form
    response = change(session, PASSWORD)  # the right old password
    assert response.status_code == 429
    assert "Too many failed logins for this account" in response.text
    assert "_auth_user_id" not in session.session
    officer.refresh_from_db()
    assert officer.check_password(PASSWORD)


def test_below_the_limit_the_right_old_password_changes_it(session, officer):
    for i in range(4):
        assert change(session, f"guess-{i}").status_code == 200
    assert change(session, PASSWORD).status_code == 302
    officer.refresh_from_db()
    assert officer.check_password(NEW)


def test_the_admins_password_change_page_counts_too(client, admin_user, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(admin_user)
    assert client.get(ADMIN_CHANGE).status_code == 200
    answers = [change(client, f"guess-{i}", ADMIN_CHANGE).status_code for i in range(6)]
    assert answers == [200] * 4 + [429, 302]
    assert AccessAttempt.objects.get(username=admin_user.username).path_info == ADMIN_CHANGE
    client.logout()
    response = client.post("/accounts/login/", {"username": admin_user.username, "password": PASSWORD})
    assert response.status_code == 429  # the admin's login is the portal's (integrations.sso.admin_login)


def test_the_admin_page_still_changes_a_password(client, admin_user):
    client.force_login(admin_user)
    response = change(client, PASSWORD, ADMIN_CHANGE)
    assert response.status_code == 302
    assert response["Location"] == "/admin/password_change/done/"
    admin_user.refresh_from_db()
    assert admin_user.check_password(NEW)
