"""What the early-warning rules decide on: their thresholds (settings), the rows they read (alerts.selectors reads
them set-based) and the two day rules every reader of streaks shares. Plain values and functions, no query."""

import datetime
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.utils import timezone

from core.dates import parse_date
from reports.completeness import due_at
from tasks.status import AssignmentStatus, DisplayStatus, display_status


@dataclass(frozen=True)
class Thresholds:
    """The days of DESIGN.md §8, from the ALERTS_* settings (plan02/settings.py)."""

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


def latest_due_day(moment: datetime.datetime) -> datetime.date:
    """The latest day whose report was due at `moment` (reports.completeness.due_at: the due hour of the next
    day). At 09:00 that is yesterday; at 07:00 the day before yesterday."""
    day = timezone.localtime(moment).date() - datetime.timedelta(days=1)
    while due_at(day) > moment:
        day -= datetime.timedelta(days=1)
    return day


def missing_streak(
    last_reported: datetime.date | None, *, latest_due: datetime.date, reports_from: datetime.date
) -> tuple[datetime.date, int]:
    """(first day, length) of the run of missed days that ends on `latest_due`; length 0 when the commune
    reported for `latest_due` or later. Days before `reports_from` are not expected."""
    start = reports_from if last_reported is None else max(reports_from, last_reported + datetime.timedelta(days=1))
    return start, max(0, (latest_due - start).days + 1)


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
    # What else it may wait on (DESIGN.md §13): a province, a vendor, a system (tasks.models.BLOCKER_FIELDS).
    blocked_by_province_id: str | None = None
    blocked_by_vendor_id: int | None = None
    blocked_by_system: str = ""


class TaskFacts(NamedTuple):
    deadline: datetime.date
    lead_agency_id: int
    # The first day its work could be updated: the later of its phase's start and the task's creation.
    opens_on: datetime.date


class OpenWork(NamedTuple):
    """An assignment not completed on `today`, with what every assignment rule looks at computed once."""

    state: AssignmentState
    task: TaskFacts
    today: datetime.date
    shown: str  # its display status (tasks.status)
    days_left: int  # to the task's deadline; negative once past it

    @property
    def key(self) -> str:
        return f"assignment:{self.state.id}"

    @property
    def waits_on_agency(self) -> bool:
        """Blocked by another agency: the blocker register and the blocking agency answer for it."""
        return self.state.status == AssignmentStatus.BLOCKED and bool(self.state.blocked_by_id)

    @property
    def waits_on_other(self) -> bool:
        """Blocked by anyone or anything else: a province, a vendor or a system (their own rules answer)."""
        state = self.state
        return state.status == AssignmentStatus.BLOCKED and bool(
            state.blocked_by_id or state.blocked_by_province_id or state.blocked_by_vendor_id or state.blocked_by_system
        )

    @property
    def overdue(self) -> bool:
        return self.shown == DisplayStatus.OVERDUE


def open_work(state: AssignmentState, task: TaskFacts, *, today: datetime.date) -> OpenWork | None:
    """The assignment as the rules see it; None when it is completed (a completed assignment has no alert)."""
    if state.status == AssignmentStatus.COMPLETED:
        return None
    shown = display_status(
        status=state.status,
        deadline=task.deadline,
        completed_on=state.completed_on,
        today=today,
        progress=state.progress,
    )
    return OpenWork(state, task, today, shown, (task.deadline - today).days)
