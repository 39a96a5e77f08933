"""The status rules of Plan 02's tasks, each in its Python and its SQL form side by side.

- An assignment's **display status** is derived from its status, progress, completion date, its task's
  deadline and the day it is looked at; it is never stored or typed.
- A task's **rolled-up status** is derived from its assignments: completed when every one is (late if any
  was completed after the deadline), otherwise overdue once the deadline has passed, not started while
  none has started, on track otherwise.

The Python forms serve rows already in memory (task snapshots of past days, replayed from history); the
SQL forms serve lists that filter, sort and count in the database. tests/tasks/test_status.py compares the
two over every status × before/on/after the deadline × completed early/on time/late.
"""

import datetime
from dataclasses import dataclass

from django.db import models
from django.db.models import Case, Count, F, Max, Q, Sum, Value, When
from django.utils.translation import gettext_lazy as _


class AssignmentStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("not started")
    IN_PROGRESS = "in_progress", _("in progress")
    BLOCKED = "blocked", _("blocked")
    COMPLETED = "completed", _("completed")


class DisplayStatus(models.TextChoices):
    """Derived from status, deadline, completion date and the day; never stored."""

    COMPLETED_ON_TIME = "completed_on_time", _("completed on time")
    COMPLETED_LATE = "completed_late", _("completed late")
    ON_TRACK = "on_track", _("on track")
    OVERDUE = "overdue", _("overdue")
    NOT_STARTED = "not_started", _("not started")


DISPLAY_COLOURS = {
    DisplayStatus.COMPLETED_ON_TIME: "green",
    DisplayStatus.COMPLETED_LATE: "green",
    DisplayStatus.ON_TRACK: "amber",
    DisplayStatus.NOT_STARTED: "amber",
    DisplayStatus.OVERDUE: "red",
}
GREEN = frozenset({DisplayStatus.COMPLETED_ON_TIME, DisplayStatus.COMPLETED_LATE})


def colour(status: str | None) -> str:
    return DISPLAY_COLOURS.get(status, "grey") if status else "grey"  # type: ignore[call-overload]


# --- one assignment -------------------------------------------------------------------------------------


def display_status(
    *,
    status: str,
    deadline: datetime.date,
    completed_on: datetime.date | None,
    today: datetime.date,
    progress: int = 0,
) -> DisplayStatus:
    """Python form; display_status_sql() is the same rule in SQL."""
    if status == AssignmentStatus.COMPLETED:
        if completed_on and completed_on > deadline:
            return DisplayStatus.COMPLETED_LATE
        return DisplayStatus.COMPLETED_ON_TIME
    if today > deadline:
        return DisplayStatus.OVERDUE
    if status == AssignmentStatus.NOT_STARTED and not progress:
        return DisplayStatus.NOT_STARTED
    return DisplayStatus.ON_TRACK


@dataclass(frozen=True)
class StateFields:
    """Where an Assignment queryset holds the state the SQL forms read: the assignment's own columns, or the
    annotations of AssignmentQuerySet.as_of(day) (the state at the end of a past day, from history)."""

    status: str = "status"
    progress: str = "progress"
    completed_on: str = "completed_on"


CURRENT = StateFields()
AS_OF = StateFields(status="status_at", progress="progress_at", completed_on="completed_on_at")


def display_status_sql(
    today: datetime.date, *, deadline: str = "task__deadline", fields: StateFields = CURRENT
) -> Case:
    """SQL form of display_status(), for Assignment querysets (`deadline` names the deadline column)."""
    completed = Q(**{fields.status: AssignmentStatus.COMPLETED})
    return Case(
        When(
            completed & Q(**{f"{fields.completed_on}__gt": F(deadline)}), then=Value(DisplayStatus.COMPLETED_LATE.value)
        ),
        When(completed, then=Value(DisplayStatus.COMPLETED_ON_TIME.value)),
        When(**{f"{deadline}__lt": today}, then=Value(DisplayStatus.OVERDUE.value)),
        When(
            **{fields.status: AssignmentStatus.NOT_STARTED, fields.progress: 0},
            then=Value(DisplayStatus.NOT_STARTED.value),
        ),
        default=Value(DisplayStatus.ON_TRACK.value),
        output_field=models.CharField(),
    )


def is_started(*, status: str, progress: int) -> bool:
    """An assignment has started once its status or its progress says so (the NOT_STARTED rule above)."""
    return status != AssignmentStatus.NOT_STARTED or bool(progress)


def started_q(fields: StateFields = CURRENT) -> Q:
    """is_started() as a Q."""
    return ~Q(**{fields.status: AssignmentStatus.NOT_STARTED, fields.progress: 0})


# --- a task, rolled up from its assignments -------------------------------------------------------------


def task_status(
    *,
    total: int,
    completed: int,
    completed_late: int,
    started: int,
    deadline: datetime.date,
    day: datetime.date,
) -> DisplayStatus | None:
    """Python form of the rollup of a task's assignments (counts over the assignments considered);
    None for a task without assignments. task_status_sql() is the same rule in SQL."""
    if not total:
        return None
    if completed == total:
        return DisplayStatus.COMPLETED_LATE if completed_late else DisplayStatus.COMPLETED_ON_TIME
    if day > deadline:
        return DisplayStatus.OVERDUE
    if not started:
        return DisplayStatus.NOT_STARTED
    return DisplayStatus.ON_TRACK


def task_rollup_aggregates(fields: StateFields = CURRENT) -> dict[str, models.Aggregate]:
    """The counts task_status() takes, as aggregates over assignments grouped by task."""
    completed = Q(**{fields.status: AssignmentStatus.COMPLETED})
    return {
        "total": Count("pk"),
        "completed": Count("pk", filter=completed),
        "completed_late": Count("pk", filter=completed & Q(**{f"{fields.completed_on}__gt": F("task__deadline")})),
        "started": Count("pk", filter=started_q(fields)),
        "blocked": Count("pk", filter=Q(**{fields.status: AssignmentStatus.BLOCKED})),
        "progress_sum": Sum(fields.progress),
        "deadline": Max("task__deadline"),
    }


def task_status_sql(day: datetime.date) -> Case:
    """SQL form of task_status(), over the aliases of task_rollup_aggregates()."""
    all_done = Q(total__gt=0, completed=F("total"))
    return Case(
        When(all_done & Q(completed_late__gt=0), then=Value(DisplayStatus.COMPLETED_LATE.value)),
        When(all_done, then=Value(DisplayStatus.COMPLETED_ON_TIME.value)),
        When(total=0, then=Value(None)),
        When(deadline__lt=day, then=Value(DisplayStatus.OVERDUE.value)),
        When(started=0, then=Value(DisplayStatus.NOT_STARTED.value)),
        default=Value(DisplayStatus.ON_TRACK.value),
        output_field=models.CharField(null=True),
    )
