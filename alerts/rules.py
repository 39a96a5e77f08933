"""The early-warning rules of DESIGN.md §8, in one place: what raises an alert, on which subject, at which
threshold, keyed by which day, and who is told.

The rules are plain functions over rows already read (alerts.selectors reads them set-based, a fixed number of
queries for the whole country): they decide, they never query. Each returns `Condition`s, the alerts that
should be open now. The run (alerts.services.alerts_run) inserts the missing ones and closes the open ones
that are no longer conditions, so an alert closes by itself when its condition ends.

An alert's identity is (rule, subject key, threshold, day) — the unique constraint `alert_once_uniq`:
| rule | subject | threshold | day | who is told |
|---|---|---|---|---|
| deadline_7d, deadline_1d | assignment | 7 / 1 | the deadline | the responsible unit's users |
| overdue | assignment | 0 | the deadline | the unit's users and its head |
| overdue | assignment | 14 | the deadline | the task's lead agency: its users and its head |
| stagnant | assignment | 14 | its last update (or when its work could start) | the unit's users and its head |
| blocked | assignment + blocking agency | 0 | the day the block began | the blocking agency's users |
| blocked | assignment + blocking agency | 7 | the day the block began | the blocking agency's head |
| missing_report_1, _3, _7 | commune | 1 / 3 / 7 | the streak's first day | its clerks / its province's |
|   |   |   |   | officers / the steering committee |
| support_needed | report | 0 | the report's day | the province's officers |
Thresholds are settings (ALERTS_*, plan02/settings.py); the numbers above are the defaults.
"""

import datetime
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.dates import parse_date
from reports.completeness import due_at
from tasks.status import AssignmentStatus, DisplayStatus, display_status


class Rule(models.TextChoices):
    DEADLINE_7D = "deadline_7d", _("deadline approaching: early warning")
    DEADLINE_1D = "deadline_1d", _("deadline approaching: last warning")
    OVERDUE = "overdue", _("overdue")
    STAGNANT = "stagnant", _("stagnant")
    BLOCKED = "blocked", _("blocked by an agency")
    MISSING_REPORT_1 = "missing_report_1", _("daily report missing")
    MISSING_REPORT_3 = "missing_report_3", _("daily report missing for several days")
    MISSING_REPORT_7 = "missing_report_7", _("daily report missing for a week or more")
    SUPPORT_NEEDED = "support_needed", _("support requested")


ASSIGNMENT_RULES = frozenset({Rule.DEADLINE_7D, Rule.DEADLINE_1D, Rule.OVERDUE, Rule.STAGNANT, Rule.BLOCKED})
MISSING_RULES = (Rule.MISSING_REPORT_1, Rule.MISSING_REPORT_3, Rule.MISSING_REPORT_7)
REPORT_RULES = frozenset({Rule.SUPPORT_NEEDED})


class SubjectKind(models.TextChoices):
    ASSIGNMENT = "assignment", _("assignment")
    COMMUNE = "commune", _("commune")
    REPORT = "report", _("report")


@dataclass(frozen=True)
class Thresholds:
    deadline_early: int
    deadline_last: int
    overdue_escalation: int
    stagnant: int
    blocked_escalation: int
    missing: tuple[int, int, int]
    reports_from: datetime.date

    @classmethod
    def from_settings(cls) -> "Thresholds":
        return cls(
            deadline_early=settings.ALERTS_DEADLINE_EARLY_DAYS,
            deadline_last=settings.ALERTS_DEADLINE_LAST_DAYS,
            overdue_escalation=settings.ALERTS_OVERDUE_ESCALATION_DAYS,
            stagnant=settings.ALERTS_STAGNANT_DAYS,
            blocked_escalation=settings.ALERTS_BLOCKED_ESCALATION_DAYS,
            missing=tuple(settings.ALERTS_MISSING_REPORT_DAYS),  # type: ignore[arg-type]
            reports_from=parse_date(settings.ALERTS_REPORTS_EXPECTED_FROM),
        )


@dataclass(frozen=True, order=True)
class Condition:
    """An alert that should be open. (rule, key, threshold, day) is its identity; the rest describes it."""

    rule: str
    key: str
    threshold: int
    day: datetime.date
    kind: str
    since: datetime.date
    assignment_id: int | None = None
    commune_id: str | None = None
    report_id: int | None = None
    province_id: str | None = None
    # The agency that has to act: the responsible agency of a central assignment, the blocking agency, or
    # the lead agency an overdue assignment is escalated to.
    agency_id: int | None = None

    @property
    def identity(self) -> tuple[str, str, int, datetime.date]:
        return (self.rule, self.key, self.threshold, self.day)


# --- evaluation moment ------------------------------------------------------------------------------------


def latest_due_day(moment: datetime.datetime) -> datetime.date:
    """The latest day whose report was due at `moment` (reports.completeness.due_at: the due hour of the next
    day). At 09:00 that is yesterday; at 07:00 the day before yesterday."""
    day = timezone.localtime(moment).date() - datetime.timedelta(days=1)
    while due_at(day) > moment:
        day -= datetime.timedelta(days=1)
    return day


# --- assignments ------------------------------------------------------------------------------------------


class AssignmentState(NamedTuple):
    """An assignment as of the evaluated moment (alerts.selectors.assignment_states)."""

    id: int
    task_id: int
    level: str
    agency_id: int | None
    province_id: str | None
    commune_id: str | None
    status: str
    progress: int
    completed_on: datetime.date | None
    blocked_by_id: int | None
    last_update: datetime.date | None  # local date of its latest history row
    blocked_since: datetime.date | None  # local date the current block began


class TaskFacts(NamedTuple):
    deadline: datetime.date
    lead_agency_id: int
    # The first day its work could be updated: the later of its phase's start and the task's creation.
    opens_on: datetime.date


def assignment_conditions(
    state: AssignmentState, task: TaskFacts, *, today: datetime.date, thresholds: Thresholds
) -> Iterator[Condition]:
    """The alerts an open assignment should have on `today`. A completed assignment has none."""
    if state.status == AssignmentStatus.COMPLETED:
        return
    key = f"assignment:{state.id}"
    unit_agency = state.agency_id  # set for central assignments only

    def alert(
        rule: str,
        threshold: int,
        day: datetime.date,
        since: datetime.date,
        agency_id: int | None,
        subject_key: str = key,
    ) -> Condition:
        return Condition(
            rule,
            subject_key,
            threshold,
            day,
            kind=SubjectKind.ASSIGNMENT,
            since=since,
            assignment_id=state.id,
            commune_id=state.commune_id,
            province_id=state.province_id,
            agency_id=agency_id,
        )

    shown = display_status(
        status=state.status,
        deadline=task.deadline,
        completed_on=state.completed_on,
        today=today,
        progress=state.progress,
    )
    days_left = (task.deadline - today).days
    if shown == DisplayStatus.OVERDUE:
        yield alert(Rule.OVERDUE, 0, task.deadline, task.deadline + datetime.timedelta(days=1), unit_agency)
        escalation = thresholds.overdue_escalation
        if -days_left >= escalation:
            since = task.deadline + datetime.timedelta(days=escalation)
            yield alert(Rule.OVERDUE, escalation, task.deadline, since, task.lead_agency_id)
    else:
        for rule, days in ((Rule.DEADLINE_7D, thresholds.deadline_early), (Rule.DEADLINE_1D, thresholds.deadline_last)):
            if 0 <= days_left <= days:
                yield alert(rule, days, task.deadline, task.deadline - datetime.timedelta(days=days), unit_agency)
    if state.status == AssignmentStatus.BLOCKED and state.blocked_by_id:
        # Waiting on another agency is not the unit's stagnation: the blocker register and the blocking
        # agency answer for it.
        since = state.blocked_since or state.last_update or today
        blocked_key = f"{key}:blocked_by:{state.blocked_by_id}"
        yield alert(Rule.BLOCKED, 0, since, since, state.blocked_by_id, blocked_key)
        if (today - since).days >= thresholds.blocked_escalation:
            yield alert(Rule.BLOCKED, thresholds.blocked_escalation, since, since, state.blocked_by_id, blocked_key)
        return
    reference = state.last_update or task.opens_on
    if (today - reference).days >= thresholds.stagnant:
        yield alert(Rule.STAGNANT, thresholds.stagnant, reference, reference, unit_agency)


# --- communes that stopped reporting ----------------------------------------------------------------------


def missing_streak(
    last_reported: datetime.date | None, *, latest_due: datetime.date, reports_from: datetime.date
) -> tuple[datetime.date, int]:
    """(first day, length) of the run of missed days that ends on `latest_due`; length 0 when the commune
    reported for `latest_due` or later. Days before `reports_from` are not expected."""
    start = reports_from if last_reported is None else max(reports_from, last_reported + datetime.timedelta(days=1))
    return start, max(0, (latest_due - start).days + 1)


def missing_conditions(
    communes: Iterable[tuple[str, str]],
    last_reported: Mapping[str, datetime.date],
    *,
    latest_due: datetime.date,
    thresholds: Thresholds,
) -> Iterator[Condition]:
    """Each threshold of the ladder a commune's current streak has reached, keyed by the streak's first
    day: raised once per streak, closed when a report ends it, raised again by a later streak."""
    for code, province_id in communes:
        start, length = missing_streak(
            last_reported.get(code), latest_due=latest_due, reports_from=thresholds.reports_from
        )
        for rule, days in zip(MISSING_RULES, thresholds.missing, strict=True):
            if length >= days:
                yield Condition(
                    rule,
                    f"commune:{code}",
                    days,
                    start,
                    kind=SubjectKind.COMMUNE,
                    since=start,
                    commune_id=code,
                    province_id=province_id,
                )


def support_condition(*, report_id: int, day: datetime.date, province_id: str, commune_id: str | None) -> Condition:
    """A report that asked for support, until a province officer closes it with a resolution."""
    return Condition(
        Rule.SUPPORT_NEEDED,
        f"report:{report_id}",
        0,
        day,
        kind=SubjectKind.REPORT,
        since=day,
        report_id=report_id,
        commune_id=commune_id,
        province_id=province_id,
    )


# --- who is told --------------------------------------------------------------------------------------------


class Audience(NamedTuple):
    """`who`: "users" (in-portal notification, and e-mail to those with an address) or "head" (the unit's
    accountable head among its contacts: e-mail, with or without a portal account). `unit`: "unit" (the
    assignment's responsible unit), "agency" (the alert's agency), "commune", "province" or "steering"."""

    who: str
    unit: str


def audiences(rule: str, threshold: int) -> tuple[Audience, ...]:
    if rule in (Rule.DEADLINE_7D, Rule.DEADLINE_1D):
        return (Audience("users", "unit"),)
    if rule == Rule.OVERDUE:
        if threshold == 0:
            return (Audience("users", "unit"), Audience("head", "unit"))
        return (Audience("users", "agency"), Audience("head", "agency"))  # the lead agency
    if rule == Rule.STAGNANT:
        return (Audience("users", "unit"), Audience("head", "unit"))
    if rule == Rule.BLOCKED:
        return (Audience("users", "agency"),) if threshold == 0 else (Audience("head", "agency"),)
    if rule == Rule.MISSING_REPORT_1:
        return (Audience("users", "commune"),)
    if rule == Rule.MISSING_REPORT_3:
        return (Audience("users", "province"),)
    if rule == Rule.MISSING_REPORT_7:
        return (Audience("users", "steering"),)
    if rule == Rule.SUPPORT_NEEDED:
        return (Audience("users", "province"),)
    raise ValueError(f"unknown rule {rule!r}")


# --- how an alert reads ---------------------------------------------------------------------------------------


def _day(value: datetime.date) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


def title(*, rule: str, threshold: int, subject: str, day: datetime.date, since: datetime.date) -> str:
    """One line in the active language (notifications, digests, lists)."""
    params: dict[str, Any] = {"subject": subject, "days": threshold, "day": _day(day), "since": _day(since)}
    if rule in (Rule.DEADLINE_7D, Rule.DEADLINE_1D):
        if threshold == 0:
            return gettext("Due today: %(subject)s") % params
        return (
            ngettext(
                "Due within %(days)s day (by %(day)s): %(subject)s",
                "Due within %(days)s days (by %(day)s): %(subject)s",
                threshold,
            )
            % params
        )
    if rule == Rule.OVERDUE:
        if threshold == 0:
            return gettext("Overdue since %(since)s: %(subject)s") % params
        return (
            ngettext(
                "Overdue for %(days)s day, for the lead agency: %(subject)s",
                "Overdue for %(days)s days, for the lead agency: %(subject)s",
                threshold,
            )
            % params
        )
    if rule == Rule.STAGNANT:
        return (
            ngettext(
                "No update for %(days)s day (last on %(since)s): %(subject)s",
                "No update for %(days)s days (last on %(since)s): %(subject)s",
                threshold,
            )
            % params
        )
    if rule == Rule.BLOCKED:
        if threshold == 0:
            return gettext("Blocked by your agency since %(since)s: %(subject)s") % params
        return (
            ngettext(
                "Blocked by your agency for %(days)s day (since %(since)s): %(subject)s",
                "Blocked by your agency for %(days)s days (since %(since)s): %(subject)s",
                threshold,
            )
            % params
        )
    if rule in MISSING_RULES:
        return (
            ngettext(
                "No daily report for %(days)s day in a row (since %(since)s): %(subject)s",
                "No daily report for %(days)s days in a row (since %(since)s): %(subject)s",
                threshold,
            )
            % params
        )
    if rule == Rule.SUPPORT_NEEDED:
        return gettext("Support requested in the report of %(day)s: %(subject)s") % params
    raise ValueError(f"unknown rule {rule!r}")
