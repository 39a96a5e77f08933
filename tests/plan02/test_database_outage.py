"""The database unreachable (a PostgreSQL restart): clean 503s with Retry-After, JSON for the API and a plain
page for the browser, never Django's 500 page. Simulated with a cursor that raises OperationalError."""

import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.db.backends import utils
from django.test import Client

from reports.services import api_client_issue


@pytest.fixture
def database_down(monkeypatch):
    def down(error=OperationalError):
        def refuse(*args, **kwargs):
            raise error("server closed the connection unexpectedly")

        monkeypatch.setattr(utils.CursorWrapper, "execute", refuse)
        monkeypatch.setattr(utils.CursorWrapper, "executemany", refuse)

    return down


@pytest.fixture
def browser():
    """A client that answers as the server does instead of re-raising the view's exception."""
    return Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.django_db
@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_an_api_key_request_gets_a_json_503(browser, database_down, error):
    _client, key = api_client_issue(name="Ba Đình desk", locality="00004")
    database_down(error)
    response = browser.get("/api/v1/reports/daily/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {
        "code": "service_unavailable",
        "detail": "The database cannot be reached at the moment; nothing was stored. Try again shortly.",
    }


@pytest.mark.django_db
def test_a_session_api_request_gets_a_json_503(browser, database_down, agency_officer):
    browser.force_login(agency_officer)
    database_down()
    response = browser.get("/api/v1/assignments/")
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


@pytest.mark.django_db
def test_a_page_gets_a_plain_503(browser, database_down, agency_officer):
    browser.force_login(agency_officer)
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    database_down()
    response = browser.get("/tasks/mine/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Content-Type"].startswith("text/html")
    assert "The portal cannot reach its database at the moment." in response.text


@pytest.mark.django_db
def test_other_errors_stay_500(browser, monkeypatch, agency_officer):
    from tasks import views

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views, "assignment_list", broken)
    browser.force_login(agency_officer)
    assert browser.get("/tasks/mine/").status_code == 500


def test_connections_are_checked_before_reuse(monkeypatch):
    from core.env import env_database

    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/plan02")
    assert env_database("DATABASE_URL", {})["CONN_HEALTH_CHECKS"] is True
