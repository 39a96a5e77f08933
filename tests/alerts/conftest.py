"""Scenarios of the early-warning tests: a fixed clock, a quiet catalogue (no deadline near or past, so only
what a test builds raises alerts), synthetic histories written row by row, and reports for every commune but
the silent ones."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from alerts.models import Contact
from alerts.services.runs import alerts_run
from reports.completeness import due_at
from reports.figures import INTEGER_FIELDS
from tasks.models import Agency, Assignment, StatusUpdate, Task

NOW_HOUR = 10  # after the due hour (08:00): yesterday's reports are due


def local(day, hour=0, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=timezone.get_default_timezone())


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clock(request, monkeypatch):
    """Every test runs at 10:00 local time today (tests marked `services` keep the real clock)."""
    if request.node.get_closest_marker("services"):
        return timezone.now()
    moment = local(timezone.localdate(), NOW_HOUR)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    return moment


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def quiet(db, today):
    """No deadline near or past: the demo catalogue's 2025 deadlines would make every assignment overdue."""
    Task.objects.update(deadline=today + datetime.timedelta(days=200))


@pytest.fixture
def email(db):
    """email(user, address): give a persona an e-mail address."""

    def give(user, address=None):
        user.email = address or f"{user.username}@example.org"
        user.save(update_fields=["email"])
        return user

    return give


@pytest.fixture
def head(db):
    """head(kind, code, email): a unit's accountable head among its contacts."""

    def make(kind, code, address, language="vi"):
        unit = {"agency": Agency.objects.get(code=code)} if kind == "agency" else {f"{kind}_id": code}
        return Contact.objects.create(
            role=Contact.Role.HEAD, name=f"Head of {code}", email=address, language=language, **unit
        )

    return make


def assignment(task, *, commune=None, province=None, agency=None):
    filters = {"task__code": task}
    if commune:
        filters["commune_id"] = commune
    elif province:
        filters.update(province_id=province, level="province")
    else:
        filters["agency__code"] = agency
    return Assignment.objects.select_related("task").get(**filters)


def history(target, actor, events):
    """Write `events` — (aware datetime, status, progress[, blocking agency code]) — as the assignment's history
    and leave the assignment in the last state, as the update service would."""
    current = Assignment.objects.get(pk=target.pk)
    for event in events:
        at, status, progress = event[:3]
        blocked_by = Agency.objects.get(code=event[3]) if len(event) > 3 and event[3] else None
        completed_on = at.date() if status == "completed" else None
        StatusUpdate.objects.create(
            assignment=current,
            actor=actor,
            created_at=at,
            old_status=current.status,
            new_status=status,
            old_progress=current.progress,
            new_progress=progress,
            completed_on=completed_on,
            blocked_by=blocked_by,
            blocked_reason="Waiting for guidance" if blocked_by else "",
            version=current.version + 1,
        )
        Assignment.objects.filter(pk=current.pk).update(
            status=status,
            progress=progress,
            completed_on=completed_on,
            blocked_by=blocked_by,
            blocked_reason="Waiting for guidance" if blocked_by else "",
            version=current.version + 1,
            updated_at=at,
            updated_by=actor,
        )
        current.refresh_from_db()
    return current


_REPORT_SQL = """
INSERT INTO reports_dailyreport ({figures}, locality, province_id, commune_id, slot, date, outage_systems,
    difficulties, proposals, support_needed, receipt, payload_hash, revision, late, received_at, updated_at)
SELECT {zeros}, code, province_id, code, slot, %s, '[]', '', '', %s, 'R-test', 'h', 1, %s, %s, %s
FROM localities_commune WHERE code NOT IN ({silent})
"""


def reports_for_all(days, *, silent=(), received_at=None, support_needed=False):
    """One report for every commune but the `silent` ones for each of `days` (one INSERT … SELECT per day),
    received just before its due time unless `received_at` says when."""
    silent = list(silent) or ["-----"]
    sql = _REPORT_SQL.format(
        figures=", ".join(INTEGER_FIELDS),
        zeros=", ".join(["0"] * len(INTEGER_FIELDS)),
        silent=", ".join(["%s"] * len(silent)),
    )
    with connection.cursor() as cursor:
        for day in days:
            at = received_at or (due_at(day) - datetime.timedelta(hours=1))
            late = at > due_at(day)
            cursor.execute(sql, [day, support_needed, late, at, at, *silent])


def days_back(today, first, last):
    """The days from `first` days ago to `last` days ago, oldest first."""
    return [today - datetime.timedelta(days=n) for n in range(first, last - 1, -1)]


@pytest.fixture
def run():
    """run(as_of=None, rules=None) -> RunResult: one evaluation, as the job does it."""

    def do(**kwargs):
        return alerts_run(trigger="tests", **kwargs)

    return do
