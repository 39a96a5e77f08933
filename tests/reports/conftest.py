"""Fixtures of the report tests: fast password hashing and a frozen clock (API keys and `api_for` are shared:
tests/conftest.py)."""

import datetime

import pytest
from django.utils import timezone


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
