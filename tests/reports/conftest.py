"""Fixtures of the report tests: API keys of each kind, API clients that use them, and a frozen clock."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from reports.services import api_client_issue


@pytest.fixture
def commune_key(db):
    """A key of Phường Ba Đình (00004, Hà Nội): (ApiClient, key)."""
    return api_client_issue(name="Ba Đình one-stop desk", locality="00004")


@pytest.fixture
def other_commune_key(db):
    """A key of Phường Ngọc Hà (00008, Hà Nội)."""
    return api_client_issue(name="Ngọc Hà one-stop desk", locality="00008")


@pytest.fixture
def province_key(db):
    """A key of Hà Nội (01): may send for the province and its 126 communes."""
    return api_client_issue(name="Hà Nội procedure system", locality="01")


@pytest.fixture
def outsider_province_key(db):
    """A key of Hồ Chí Minh City (79): must not send for Hà Nội."""
    return api_client_issue(name="HCMC procedure system", locality="79")


@pytest.fixture
def api_for():
    """api_for(key) -> an APIClient sending `Authorization: Token <key>`; api_for(user=...) a session."""

    def make(key=None, *, user=None, language="en"):
        client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
        if key is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The personas' passwords are hashed once per test; a fast hasher keeps these tests quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clock(request, monkeypatch):
    """Every report test runs at 07:00 local time today: before the due hour, so yesterday's report is on
    time whatever the wall clock says. Tests that need another moment call `freeze`. Tests with a real
    worker or server process (marked `services`) keep the real clock, which those processes share."""
    if request.node.get_closest_marker("services"):
        return timezone.now()
    moment = local(timezone.localdate(), 7)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    return moment


@pytest.fixture
def freeze(monkeypatch):
    """freeze(aware datetime) fixes timezone.now() (and so localdate()) for the rest of the test."""

    def set_now(moment):
        assert timezone.is_aware(moment)
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return set_now


def local(day, hour=0, minute=0, second=0, microsecond=0):
    """An aware datetime at local (Asia/Ho_Chi_Minh) time."""
    return datetime.datetime.combine(
        day, datetime.time(hour, minute, second, microsecond), tzinfo=timezone.get_default_timezone()
    )
