"""The early-warning rules of DESIGN.md §8, one spec each (alerts.specs): what raises an alert, on which subject,
at which threshold, keyed by which day, who is told, and how it reads. alerts.apps registers them.

Detection is set-based: the rules over assignments share one read of every assignment's state (and of the tasks'
facts), the three missing-report rules one read of the communes' last reports, per evaluation — a fixed number of
queries for the whole country. Each rule then decides over rows already read (alerts.facts), without a query.
The run (alerts.services.runs) inserts the missing alerts and closes the open ones that are no longer
conditions, so an alert closes by itself when its condition ends.

An alert's identity is (rule, subject key, threshold, day) — the unique constraint `alert_once_uniq`:
| rule | subject | threshold | day | who is told |
|---|---|---|---|---|
| deadline_7d, deadline_1d | assignment | 7 / 1 | the deadline | the responsible unit's users |
| overdue | assignment | 0 | the deadline | the unit's users and its head |
| overdue | assignment | 14 | the deadline | the task's lead agency: its users and its head |
| stagnant | assignment | 14 | its last update (or when its work could start) | the unit's users and its head |
| blocked | assignment + blocking agency | 0 | the day the block began | the blocking agency's users |
| blocked | assignment + blocking agency | 7 | the day the block began | the blocking agency's head |
| blocked_province | assignment + blocking province | 0 / 7 | the day the block began | the province's officers / |
|   |   |   |   | its head |
| blocked_vendor | assignment + blocking vendor | 0 | the day the block began | the vendor's contacts (e-mail) |
| blocked_system | assignment + blocking system | 0 | the day the block began | the central support team |
| missing_report_1, _3, _7 | commune | 1 / 3 / 7 | the streak's first day | its clerks / its province's |
|   |   |   |   | officers / the steering committee |
| support_needed | report | 0 | the report's day | the province's officers |
Thresholds are settings (ALERTS_*, plan02/settings.py); the numbers above are the defaults.
"""

import abc
import datetime
import enum
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from alerts import selectors, specs, subjects
from alerts.facts import (
    AssignmentState,
    OpenWork,
    TaskFacts,
    Thresholds,
    latest_due_day,
    missing_streak,
    open_work,
)
from alerts.specs import AlertRule, Audience, Condition, Evaluation
from localities.models import Commune
from tasks.models import AssignmentStatus


class Rule(enum.StrEnum):
    """The codes of the rules this app defines (apps above it register more: alerts.specs.codes() has all)."""

    DEADLINE_7D = "deadline_7d"
    DEADLINE_1D = "deadline_1d"
    OVERDUE = "overdue"
    STAGNANT = "stagnant"
    BLOCKED = "blocked"
    BLOCKED_PROVINCE = "blocked_province"
    BLOCKED_VENDOR = "blocked_vendor"
    BLOCKED_SYSTEM = "blocked_system"
    MISSING_REPORT_1 = "missing_report_1"
    MISSING_REPORT_3 = "missing_report_3"
    MISSING_REPORT_7 = "missing_report_7"
    SUPPORT_NEEDED = "support_needed"


UNIT_USERS = Audience("users", "unit")
UNIT_HEAD = Audience("head", "unit")
AGENCY_USERS = Audience("users", "agency")
AGENCY_HEAD = Audience("head", "agency")


def _day(value: datetime.date) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


def _params(*, threshold: int, subject: str, day: datetime.date, since: datetime.date) -> dict[str, Any]:
    return {"subject": subject, "days": threshold, "day": _day(day), "since": _day(since)}


def thresholds_of(evaluation: Evaluation) -> Thresholds:
    return evaluation.shared("alerts.thresholds", Thresholds.from_settings)


# --- assignments ------------------------------------------------------------------------------------------


def _read_open_work(evaluation: Evaluation) -> list[OpenWork]:
    tasks = selectors.task_facts()
    found = []
    for state in selectors.assignment_states(before=evaluation.before):
        work = open_work(state, tasks[state.task_id], today=evaluation.today)
        if work is not None:
            found.append(work)
    return found


class AssignmentRule(AlertRule):
    """A rule over each assignment not completed. `check` decides for one (no query), so a service that changed
    some assignments can close at once the alerts that ended (alerts.services.runs.alerts_close_ended)."""

    subject = subjects.ASSIGNMENT

    def detect(self, evaluation: Evaluation) -> Iterator[Condition]:
        thresholds = thresholds_of(evaluation)
        for work in evaluation.shared("alerts.open_work", lambda: _read_open_work(evaluation)):
            yield from self.check(work, thresholds)

    @abc.abstractmethod
    def check(self, work: OpenWork, thresholds: Thresholds) -> Iterator[Condition]:
        """This rule's conditions for one open assignment."""

    def condition(
        self,
        work: OpenWork,
        threshold: int,
        day: datetime.date,
        since: datetime.date,
        agency_id: int | None,
        key: str | None = None,
    ) -> Condition:
        state = work.state
        return Condition(
            self.code,
            key or work.key,
            threshold,
            day,
            kind=self.subject.code,
            since=since,
            assignment_id=state.id,
            commune_id=state.commune_id,
            province_id=state.province_id,
            agency_id=agency_id,
        )


class DeadlineRule(AssignmentRule):
    """Raised `days` before the deadline of work that is not overdue; the unit's users are told."""

    audiences = (UNIT_USERS,)

    @abc.abstractmethod
    def days(self, thresholds: Thresholds) -> int: ...

    def check(self, work: OpenWork, thresholds: Thresholds) -> Iterator[Condition]:
        days = self.days(thresholds)
        if not work.overdue and 0 <= work.days_left <= days:
            deadline = work.task.deadline
            # The unit's agency: set for central assignments only.
            yield self.condition(work, days, deadline, deadline - datetime.timedelta(days=days), work.state.agency_id)

    def title(self, *, threshold: int, subject: str, day: datetime.date, since: datetime.date) -> str:
        params = _params(threshold=threshold, subject=subject, day=day, since=since)
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


class DeadlineEarly(DeadlineRule):
    code = Rule.DEADLINE_7D
    label = _("deadline approaching: early warning")

    def days(self, thresholds: Thresholds) -> int:
        return thresholds.deadline_early


class DeadlineLast(DeadlineRule):
    code = Rule.DEADLINE_1D
    label = _("deadline approaching: last warning")

    def days(self, thresholds: Thresholds) -> int:
        return thresholds.deadline_last


class Overdue(AssignmentRule):
    """Past the deadline: the unit is told at once (keyed by the deadline), the task's lead agency after the
    escalation days."""

    code = Rule.OVERDUE
    label = _("overdue")
    audiences = (UNIT_USERS, UNIT_HEAD)
    escalation = (AGENCY_USERS, AGENCY_HEAD)  # the lead agency

    def check(self, work: OpenWork, thresholds: Thresholds) -> Iterator[Condition]:
        if not work.overdue:
            return
        deadline = work.task.deadline
        yield self.condition(work, 0, deadline, deadline + datetime.timedelta(days=1), work.state.agency_id)
        escalation = thresholds.overdue_escalation
        if -work.days_left >= escalation:
            since = deadline + datetime.timedelta(days=escalation)
            yield self.condition(work, escalation, deadline, since, work.task.lead_agency_id)

    def title(self, *, threshold: int, subject: str, day: datetime.date, since: datetime.date) -> str:
        params = _params(threshold=threshold, subject=subject, day=day, since=since)
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


class Stagnant(AssignmentRule):
    """No update for the stagnant days since the last one (or since its work could start). Work waiting on
    another agency is not the unit's stagnation: `blocked` answers for it."""

    code = Rule.STAGNANT
    label = _("stagnant")
    audiences = (UNIT_USERS, UNIT_HEAD)

    def check(self, work: OpenWork, thresholds: Thresholds) -> Iterator[Condition]:
        if work.waits_on_other:
            return
        reference = work.state.last_update or work.task.opens_on
        if (work.today - reference).days >= thresholds.stagnant:
            yield self.condition(work, thresholds.stagnant, reference, reference, work.state.agency_id)

    def title(self, *, threshold: int, subject: str, day: datetime.date, since: datetime.date) -> str:
        return ngettext(
            "No update for %(days)s day (last on %(since)s): %(subject)s",
            "No update for %(days)s days (last on %(since)s): %(subject)s",
            threshold,
        ) % _params(threshold=threshold, subject=subject, day=day, since=since)


class Blocked(AssignmentRule):
    """Blocked by an agency: that agency's users are told at once, its head after the escalation days. Keyed by
    the blocking agency and the day the block began, so a new block is a new alert."""

    code = Rule.BLOCKED
    label = _("blocked by an agency")
    audiences = (AGENCY_USERS,)
    escalation = (AGENCY_HEAD,)

    def check(self, work: OpenWork, thresholds: Thresholds) -> Iterator[Condition]:
        if not work.waits_on_agency:
            return
        state = work.state
        since = state.blocked_since or state.last_update or work.today
        key = f"{work.key}:blocked_by:{state.blocked_by_id}"
        yield self.condition(work, 0, since, since, state.blocked_by_id, key)
        if (work.today - since).days >= thresholds.blocked_escalation:
            yield self.condition(work, thresholds.blocked_escalation, since, since, state.blocked_by_id, key)

    def title(self, *, threshold: int, subject: str, day: datetime.date, since: datetime.date) -> str:
        params = _params(threshold=threshold, subject=subject, day=day, since=since)
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


class BlockedByOther(AssignmentRule):
    """Blocked by a province, a vendor or a system (DESIGN.md §13): the party is told as an agency is (§8),
    through what it has — a province its officers (and its head after the escalation days), a vendor its
    contacts, a system the central support team that follows outages (§12). Keyed by the party and the day the
    block began (the update that named it: a later update still blocked by the same party changes nothing)."""

    field: ClassVar[str]
    kind: ClassVar[str]

    def check(self, work: OpenWork, thresholds: Thresholds) -> Iterator[Condition]:
        state = work.state
        party = getattr(state, self.field)
        if state.status != AssignmentStatus.BLOCKED or not party:
            return
        since = state.blocked_since or state.last_update or work.today
        yield self.party_condition(work, 0, since, party)
        if self.escalation is not None and (work.today - since).days >= thresholds.blocked_escalation:
            yield self.party_condition(work, thresholds.blocked_escalation, since, party)

    def party_condition(self, work: OpenWork, threshold: int, since: datetime.date, party: Any) -> Condition:
        state = work.state
        return Condition(
            self.code,
            f"{work.key}:blocked_by_{self.kind}:{party}",
            threshold,
            since,
            kind=self.subject.code,
            since=since,
            assignment_id=state.id,
            commune_id=state.commune_id,
            # A blocking province is the alert's province: its officers are told and see it.
            province_id=party if self.kind == "province" else state.province_id,
            agency_id=state.agency_id,
            vendor_id=party if self.kind == "vendor" else None,
        )

    def title(self, *, threshold: int, subject: str, day: datetime.date, since: datetime.date) -> str:
        params = _params(threshold=threshold, subject=subject, day=day, since=since)
        if threshold == 0:
            return self.first_title() % params
        return (
            ngettext(
                "Waiting on you for %(days)s day (since %(since)s): %(subject)s",
                "Waiting on you for %(days)s days (since %(since)s): %(subject)s",
                threshold,
            )
            % params
        )

    @abc.abstractmethod
    def first_title(self) -> str: ...


class BlockedByProvince(BlockedByOther):
    code = Rule.BLOCKED_PROVINCE
    label = _("blocked by a province")
    field = "blocked_by_province_id"
    kind = "province"
    audiences = (Audience("users", "province"),)
    escalation = (Audience("head", "province"),)

    def first_title(self) -> str:
        return gettext("Blocked by your province since %(since)s: %(subject)s")


class BlockedByVendor(BlockedByOther):
    code = Rule.BLOCKED_VENDOR
    label = _("blocked by a vendor")
    field = "blocked_by_vendor_id"
    kind = "vendor"
    audiences = (Audience("contacts", "vendor"),)

    def first_title(self) -> str:
        return gettext("Waiting on your company since %(since)s: %(subject)s")


class BlockedBySystem(BlockedByOther):
    code = Rule.BLOCKED_SYSTEM
    label = _("blocked by a system")
    field = "blocked_by_system"
    kind = "system"
    audiences = (Audience("users", "support"),)

    def first_title(self) -> str:
        return gettext("Blocked by a system since %(since)s: %(subject)s")


def assignment_conditions(
    state: AssignmentState, task: TaskFacts, *, today: datetime.date, thresholds: Thresholds
) -> Iterator[Condition]:
    """The alerts every registered assignment rule says an assignment should have on `today`."""
    work = open_work(state, task, today=today)
    if work is None:
        return
    for spec in specs.rules():
        if isinstance(spec, AssignmentRule):
            yield from spec.check(work, thresholds)


# --- communes that stopped reporting ----------------------------------------------------------------------

Streak = tuple[str, str, datetime.date, int]  # commune code, province code, first missed day, length


def streaks(
    communes: Iterable[tuple[str, str]],
    last_reported: Mapping[str, datetime.date],
    *,
    latest_due: datetime.date,
    reports_from: datetime.date,
) -> list[Streak]:
    found = []
    for code, province_id in communes:
        start, length = missing_streak(last_reported.get(code), latest_due=latest_due, reports_from=reports_from)
        if length:
            found.append((code, province_id, start, length))
    return found


def _read_streaks(evaluation: Evaluation) -> list[Streak]:
    thresholds = thresholds_of(evaluation)
    last = selectors.last_reports(reports_from=thresholds.reports_from, before=evaluation.before)
    communes = Commune.objects.values_list("code", "province_id").order_by()
    return streaks(communes, last, latest_due=latest_due_day(evaluation.moment), reports_from=thresholds.reports_from)


class MissingReportRule(AlertRule):
    """One step of the ladder: raised once per streak of missed daily reports that has reached the step's days
    (ALERTS_MISSING_REPORT_DAYS[step]), keyed by the streak's first day; closed when a report ends the streak,
    raised again by a later one."""

    subject = subjects.COMMUNE
    step: ClassVar[int]

    def detect(self, evaluation: Evaluation) -> Iterator[Condition]:
        thresholds = thresholds_of(evaluation)
        return self.check(evaluation.shared("alerts.streaks", lambda: _read_streaks(evaluation)), thresholds)

    def check(self, found: Iterable[Streak], thresholds: Thresholds) -> Iterator[Condition]:
        days = thresholds.missing[self.step]
        for code, province_id, start, length in found:
            if length >= days:
                yield Condition(
                    self.code,
                    f"commune:{code}",
                    days,
                    start,
                    kind=self.subject.code,
                    since=start,
                    commune_id=code,
                    province_id=province_id,
                )

    def title(self, *, threshold: int, subject: str, day: datetime.date, since: datetime.date) -> str:
        return ngettext(
            "No daily report for %(days)s day in a row (since %(since)s): %(subject)s",
            "No daily report for %(days)s days in a row (since %(since)s): %(subject)s",
            threshold,
        ) % _params(threshold=threshold, subject=subject, day=day, since=since)


class MissingReport1(MissingReportRule):
    code = Rule.MISSING_REPORT_1
    label = _("daily report missing")
    step = 0
    audiences = (Audience("users", "commune"),)


class MissingReport3(MissingReportRule):
    code = Rule.MISSING_REPORT_3
    label = _("daily report missing for several days")
    step = 1
    audiences = (Audience("users", "province"),)


class MissingReport7(MissingReportRule):
    code = Rule.MISSING_REPORT_7
    label = _("daily report missing for a week or more")
    step = 2
    audiences = (Audience("users", "steering"),)


def missing_conditions(
    communes: Iterable[tuple[str, str]],
    last_reported: Mapping[str, datetime.date],
    *,
    latest_due: datetime.date,
    thresholds: Thresholds,
) -> Iterator[Condition]:
    """Each step of the ladder a commune's current streak has reached (every registered missing-report rule)."""
    found = streaks(communes, last_reported, latest_due=latest_due, reports_from=thresholds.reports_from)
    for spec in specs.rules():
        if isinstance(spec, MissingReportRule):
            yield from spec.check(found, thresholds)


# --- support requests -----------------------------------------------------------------------------------------


def support_condition(*, report_id: int, day: datetime.date, province_id: str, commune_id: str | None) -> Condition:
    return Condition(
        Rule.SUPPORT_NEEDED,
        f"report:{report_id}",
        0,
        day,
        kind=subjects.REPORT.code,
        since=day,
        report_id=report_id,
        commune_id=commune_id,
        province_id=province_id,
    )


class SupportNeeded(AlertRule):
    """A report that asked for support, until a province officer closes it with a resolution."""

    code = Rule.SUPPORT_NEEDED
    label = _("support requested")
    subject = subjects.REPORT
    audiences = (Audience("users", "province"),)

    def detect(self, evaluation: Evaluation) -> Iterator[Condition]:
        rows = selectors.open_support_requests(before=evaluation.before).values_list(
            "pk", "date", "province_id", "commune_id"
        )
        for pk, day, province_id, commune_id in rows:
            yield support_condition(report_id=pk, day=day, province_id=province_id, commune_id=commune_id)

    def title(self, *, threshold: int, subject: str, day: datetime.date, since: datetime.date) -> str:
        return gettext("Support requested in the report of %(day)s: %(subject)s") % _params(
            threshold=threshold, subject=subject, day=day, since=since
        )


# The order of the lists, filters and digests.
RULES: tuple[AlertRule, ...] = (
    DeadlineEarly(),
    DeadlineLast(),
    Overdue(),
    Stagnant(),
    Blocked(),
    BlockedByProvince(),
    BlockedByVendor(),
    BlockedBySystem(),
    MissingReport1(),
    MissingReport3(),
    MissingReport7(),
    SupportNeeded(),
)


# --- read by rule code (any app's rule) -------------------------------------------------------------------------


def audiences(rule: str, threshold: int) -> tuple[Audience, ...]:
    return specs.rule(rule).audiences_for(threshold)


def title(*, rule: str, threshold: int, subject: str, day: datetime.date, since: datetime.date) -> str:
    return specs.rule(rule).title(threshold=threshold, subject=subject, day=day, since=since)
