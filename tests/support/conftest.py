"""The operations desk's tests: a controlled clock (a Monday 09:00 in Asia/Ho_Chi_Minh, moved by the test),
the personas of tests/conftest.py, and a support-team member."""

import datetime

import pytest
from django.utils import timezone

from tasks.models import Role
from tests.conftest import make_user


def local(day, hour=0, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=timezone.get_default_timezone())


MONDAY = datetime.date(2026, 12, 7)


class Clock:
    def __init__(self, moment):
        self.moment = moment

    def __call__(self):
        return self.moment

    def set(self, moment):
        self.moment = moment

    def advance(self, **delta):
        self.moment += datetime.timedelta(**delta)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clock(monkeypatch):
    """timezone.now() is this clock's moment: Monday 7 December 2026, 09:00 local, until the test moves it."""
    found = Clock(local(MONDAY, 9))
    monkeypatch.setattr(timezone, "now", found)
    return found


@pytest.fixture
def support_member(db):
    return make_user("support-1", Role.SUPPORT)
