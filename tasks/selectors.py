"""Reads of tasks and assignments for pages, exports and the API. Every function takes the caller's scope and
reads through the querysets' scoping (`Assignment.objects.visible_to(scope)`); each runs a fixed number of
queries whatever the number of assignments (a commune-level task has 3,321), because counting and grouping
happen in SQL."""

import dataclasses
import datetime
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Case, Count, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils.translation import gettext_lazy as _

from core.dates import end_of_day
from tasks.models import (
    BLOCKER_FIELDS,
    Assignment,
    AssignmentQuerySet,
    AssignmentStatus,
    DisplayStatus,
    Level,
    LocalPlan,
    StatusUpdate,
    SubTask,
    SubTaskUpdate,
    Task,
    blocker_codes,
)
from tasks.roles import Scope
from tasks.status import (
    AS_OF,
    CURRENT,
    DISPLAY_COLOURS,
    GREEN,
    colour,
    task_rollup_aggregates,
    task_status_sql,
)

ASSIGNMENT_JOINS = [
    "task",
    "task__group",
    "task__phase",
    "agency",
    "province",
    "commune",
    "updated_by",
    "blocked_by",
    "blocked_by_province",
    "blocked_by_vendor",
    "blocked_by_province",
    "blocked_by_vendor",
]


def assignment_list(
    *,
    scope: Scope,
    today: datetime.date,
    queryset: AssignmentQuerySet | None = None,
    as_of: datetime.date | None = None,
) -> AssignmentQuerySet:
    """Assignments the scope may see, with the joins every list needs, the derived `display_status`, whether
    the scope `may_update` each one, and whether its last change was made `last_on_behalf` of a commune.

    With `as_of`, each assignment's state at the end of that day (Assignment.objects.as_of) and the display
    status of that day; nothing is updatable in the past. Rows pass through `shown_as_of()` before display."""
    qs = (Assignment.objects.all() if queryset is None else queryset).visible_to(scope)
    if as_of is not None:
        return (
            qs.select_related(*ASSIGNMENT_JOINS)
            .as_of(as_of)
            .with_display_status(as_of, fields=AS_OF)
            .annotate(
                may_update=Value(False, output_field=BooleanField()),
                last_on_behalf=Value(None, output_field=BooleanField(null=True)),
                updated_by_username_at=Subquery(_latest_before(as_of).values("actor__username")[:1]),
            )
        )
    condition = Assignment.objects.updatable_q(scope)
    last_update = StatusUpdate.objects.filter(assignment=OuterRef("pk")).order_by("-version")
    return (
        qs.select_related(*ASSIGNMENT_JOINS)
        .with_display_status(today)
        .annotate(
            may_update=Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())
            if condition is not None
            else Value(False, output_field=BooleanField()),
            last_on_behalf=Subquery(last_update.values("on_behalf")[:1]),
        )
    )


def _latest_before(day: datetime.date) -> QuerySet:
    return StatusUpdate.objects.filter(assignment=OuterRef("pk"), created_at__lt=end_of_day(day)).order_by("-version")


def shown_as_of(rows: Iterable[Assignment]) -> list[Assignment]:
    """Rows of an as-of list, their state replaced by the state of that day (for display only: never saved)."""
    result = []
    for a in rows:
        a.status, a.progress, a.completed_on = a.status_at, a.progress_at, a.completed_on_at  # type: ignore[attr-defined]
        a.blocked_by_id, a.blocked_reason = a.blocked_by_at, a.blocked_reason_at  # type: ignore[attr-defined]
        a.blocked_by_system = a.blocked_by_system_at  # type: ignore[attr-defined]
        for name in ("blocked_by_province", "blocked_by_vendor"):
            if getattr(a, f"{name}_id") != getattr(a, f"{name}_at"):
                # The current row's blocker is not the day's: forget the joined one (read again if shown).
                a._state.fields_cache.pop(name, None)
                setattr(a, f"{name}_id", getattr(a, f"{name}_at"))
        a.version, a.updated_at = a.version_at, a.updated_at_at  # type: ignore[attr-defined]
        name = a.updated_by_username_at  # type: ignore[attr-defined]
        a.updated_by = get_user_model()(username=name) if name else None
        result.append(a)
    return result


def my_assignments(*, scope: Scope, today: datetime.date) -> QuerySet:
    """The assignments the scope may update (`?mine=true`)."""
    return assignment_list(scope=scope, today=today, queryset=Assignment.objects.updatable_by(scope))


# --- rollups --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Rollup:
    """A task's status and progress rolled up (tasks.status) from the assignments the scope sees."""

    total: int = 0
    counts: dict = dataclasses.field(default_factory=dict)  # display status -> number of assignments
    progress_sum: int = 0
    blocked: int = 0
    status: str | None = None

    @property
    def progress(self) -> int:
        return round(self.progress_sum / self.total) if self.total else 0

    @property
    def green(self) -> int:
        return sum(self.counts.get(s, 0) for s in GREEN)

    @property
    def green_share(self) -> float:
        return self.green / self.total if self.total else 0

    @property
    def colour(self) -> str:
        return colour(self.status)

    def breakdown(self) -> list[tuple[str, str, str, int]]:
        """(display status, label, colour, count) for every display status, in a fixed order."""
        return [(s.value, str(s.label), DISPLAY_COLOURS[s], self.counts.get(s.value, 0)) for s in DisplayStatus]


def task_rollups(
    *, scope: Scope, task_ids: Iterable[int], today: datetime.date, as_of: datetime.date | None = None
) -> dict[int, Rollup]:
    """{task id: Rollup} for the given tasks, in one query: the task's rolled-up status in SQL
    (tasks.status.task_status_sql) and its assignments counted by display status; `as_of` a past day."""
    per_status = {f"n_{s.value}": Count("pk", filter=Q(display_status=s.value)) for s in DisplayStatus}
    qs = Assignment.objects.filter(task_id__in=list(task_ids)).visible_to(scope)
    day, fields = (as_of, AS_OF) if as_of is not None else (today, CURRENT)
    if as_of is not None:
        qs = qs.as_of(as_of)
    rows = (
        qs.with_display_status(day, fields=fields)
        .values("task_id")
        .annotate(**task_rollup_aggregates(fields), **per_status)
        .annotate(rolled=task_status_sql(day))
        .order_by()
    )
    return {
        row["task_id"]: Rollup(
            total=row["total"],
            counts={s.value: row[f"n_{s.value}"] for s in DisplayStatus if row[f"n_{s.value}"]},
            progress_sum=row["progress_sum"] or 0,
            blocked=row["blocked"],
            status=row["rolled"],
        )
        for row in rows
    }


def task_rollup(*, scope: Scope, task: Task, today: datetime.date, as_of: datetime.date | None = None) -> Rollup:
    return task_rollups(scope=scope, task_ids=[task.pk], today=today, as_of=as_of).get(task.pk, Rollup())


# --- commune-level tasks --------------------------------------------------------------------------------


@dataclasses.dataclass
class ProvinceShare:
    code: str
    name: str
    total: int
    green: int
    overdue: int

    @property
    def share(self) -> float:
        return self.green / self.total if self.total else 0

    @property
    def not_done(self) -> int:
        return self.total - self.green


def commune_green_shares(
    *, scope: Scope, task: Task, today: datetime.date, as_of: datetime.date | None = None
) -> tuple[ProvinceShare, list[ProvinceShare]]:
    """Share of green (completed) communes per province for a commune-level task, and the national total,
    over the communes the scope sees: one GROUP BY query (34 rows), whatever the 3,321 communes; `as_of` a
    past day."""
    qs = Assignment.objects.filter(task=task, level=Level.COMMUNE).visible_to(scope)
    day, fields = (as_of, AS_OF) if as_of is not None else (today, CURRENT)
    if as_of is not None:
        qs = qs.as_of(as_of)
    rows = (
        qs.with_display_status(day, fields=fields)
        .values("province_id", "province__name")
        .annotate(
            total=Count("pk"),
            green=Count("pk", filter=Q(**{fields.status: AssignmentStatus.COMPLETED})),
            overdue=Count("pk", filter=Q(display_status=DisplayStatus.OVERDUE)),
        )
        .order_by("province_id")
    )
    provinces = [
        ProvinceShare(r["province_id"], r["province__name"], r["total"], r["green"], r["overdue"]) for r in rows
    ]
    nation = ProvinceShare(
        "",
        "",
        sum(p.total for p in provinces),
        sum(p.green for p in provinces),
        sum(p.overdue for p in provinces),
    )
    return nation, provinces


def communes_not_done(
    *,
    scope: Scope,
    task: Task,
    today: datetime.date,
    province: str | None = None,
    as_of: datetime.date | None = None,
) -> QuerySet:
    """The communes that have not completed a commune-level task (for pagination), in a province or all;
    `as_of` a past day."""
    qs = Assignment.objects.filter(task=task, level=Level.COMMUNE)
    if province is not None:
        qs = qs.filter(province=province)
    rows = assignment_list(scope=scope, today=today, queryset=qs, as_of=as_of)
    status = AS_OF.status if as_of is not None else CURRENT.status
    return rows.exclude(**{status: AssignmentStatus.COMPLETED}).order_by("province_id", "commune_id")


@dataclasses.dataclass
class ProvinceTaskSummary:
    task: Task
    total: int = 0
    green: int = 0
    overdue: int = 0
    blocked: int = 0
    not_started: int = 0

    @property
    def share(self) -> float:
        return self.green / self.total if self.total else 0


def province_commune_summary(*, scope: Scope, province: Any, today: datetime.date) -> list[ProvinceTaskSummary]:
    """For a province officer: each commune-level task with how many of the province's communes are green,
    overdue, blocked and not started. Two queries (the tasks, one GROUP BY)."""
    tasks = list(Task.objects.filter(level=Level.COMMUNE).order_by("code"))
    rows = (
        Assignment.objects.filter(level=Level.COMMUNE, province=province)
        .visible_to(scope)
        .with_display_status(today)
        .values("task_id")
        .annotate(
            total=Count("pk"),
            green=Count("pk", filter=Q(status=AssignmentStatus.COMPLETED)),
            overdue=Count("pk", filter=Q(display_status=DisplayStatus.OVERDUE)),
            blocked=Count("pk", filter=Q(status=AssignmentStatus.BLOCKED)),
            not_started=Count("pk", filter=Q(status=AssignmentStatus.NOT_STARTED)),
        )
        .order_by()
    )
    by_task = {r["task_id"]: r for r in rows}
    summaries = []
    for task in tasks:
        row = by_task.get(task.pk, {})
        summaries.append(
            ProvinceTaskSummary(
                task,
                **{k: row.get(k, 0) for k in ("total", "green", "overdue", "blocked", "not_started")},
            )
        )
    return summaries


def province_commune_assignments(*, scope: Scope, province: Any, task: Task, today: datetime.date) -> QuerySet:
    """The province's communes for one commune-level task (paginated by the caller)."""
    qs = Assignment.objects.filter(task=task, level=Level.COMMUNE, province=province)
    return assignment_list(scope=scope, today=today, queryset=qs).order_by("commune_id")


# --- history --------------------------------------------------------------------------------------------

HISTORY_JOINS = [
    "actor",
    "blocked_by",
    "blocked_by_province",
    "blocked_by_vendor",
    "assignment__agency",
    "assignment__province",
    "assignment__commune",
]


def assignment_history(*, assignment: Assignment) -> QuerySet:
    """Every change of one assignment, newest first."""
    return StatusUpdate.objects.filter(assignment=assignment).select_related(*HISTORY_JOINS).order_by("-version")


def task_history(*, scope: Scope, task: Task, as_of: datetime.date | None = None) -> QuerySet:
    """Every change of the task's assignments the scope sees (up to the end of `as_of`), newest first."""
    visible = Assignment.objects.filter(task=task).visible_to(scope).values("pk")
    history = StatusUpdate.objects.filter(assignment__in=visible)
    if as_of is not None:
        history = history.filter(created_at__lt=end_of_day(as_of))
    return history.select_related(*HISTORY_JOINS).order_by("-created_at", "-id")


def visible_status_update(*, scope: Scope, pk: int) -> StatusUpdate | None:
    """A history row whose assignment the scope sees, or None (for evidence downloads)."""
    visible = Assignment.objects.visible_to(scope).values("pk")
    return StatusUpdate.objects.filter(pk=pk, assignment__in=visible).select_related("assignment").first()


@dataclasses.dataclass(frozen=True)
class FieldChange:
    """One field of an assignment that changed between two versions."""

    field: str
    old: object
    new: object

    @property
    def label(self) -> str:
        return str(getattr(Assignment._meta.get_field(self.field), "verbose_name", self.field))

    @staticmethod
    def _display(field: str, value: object) -> str:
        if value is None or value == "":
            return "—"
        if field == "status":
            return str(AssignmentStatus(str(value)).label)
        if isinstance(value, datetime.date):
            return value.strftime("%d/%m/%Y")
        return str(value)

    @property
    def old_display(self) -> str:
        return self._display(self.field, self.old)

    @property
    def new_display(self) -> str:
        return self._display(self.field, self.new)


def assignment_state(assignment: Assignment) -> dict[str, Any]:
    """The fields a version fixes (of any workflow item), each blocker as its code."""
    return {
        "status": assignment.status,
        "progress": assignment.progress,
        "completed_on": assignment.completed_on,
        **blocker_codes(assignment),
        "blocked_reason": assignment.blocked_reason or "",
    }


def assignment_changes_since(*, assignment: Assignment, version: int) -> tuple[list[FieldChange], list[StatusUpdate]]:
    """What changed between `version` and the assignment's current version (item_changes_since)."""
    return item_changes_since(
        history=StatusUpdate.objects.filter(assignment=assignment), current_version=assignment.version, version=version
    )


def item_changes_since(*, history: QuerySet, current_version: int, version: int) -> tuple[list[FieldChange], list]:
    """What changed between `version` and the current version of a workflow item (an assignment, a sub-task,
    a follow-up item), field by field, and the history rows written since (oldest first). `history` is the
    item's history rows. Two queries.

    The state at `version` comes from history: status and progress from the first later row's old values,
    the other fields from the row that produced `version` (none for version 1: the initial empty state)."""
    if version >= current_version:
        return [], []
    updates = list(history.filter(version__gt=version).select_related(*BLOCKER_JOINS, "actor").order_by("version"))
    if not updates:
        return [], []
    at_version = next(iter(history.filter(version=version).select_related(*BLOCKER_JOINS)), None)
    empty = dict.fromkeys(BLOCKER_FIELDS)
    before = {
        "status": updates[0].old_status,
        "progress": updates[0].old_progress,
        "completed_on": at_version.completed_on if at_version else None,
        **(blocker_codes(at_version) if at_version else empty),
        "blocked_reason": at_version.blocked_reason if at_version else "",
    }
    after = {
        "status": updates[-1].new_status,
        "progress": updates[-1].new_progress,
        "completed_on": updates[-1].completed_on,
        **blocker_codes(updates[-1]),
        "blocked_reason": updates[-1].blocked_reason,
    }
    changes = [FieldChange(f, before[f], after[f]) for f in before if before[f] != after[f]]
    return changes, updates


# --- local plans and sub-tasks (DESIGN.md §13) ---------------------------------------------------------------

# The related rows that name an item's blocker (tasks.models.blocker_of reads them).
BLOCKER_JOINS = ["blocked_by", "blocked_by_province", "blocked_by_vendor"]

SUBTASK_JOINS = [
    "plan",
    "plan__province",
    "plan__agency",
    "parent",
    "parent__task",
    "parent__task__group",
    "parent__task__phase",
    "commune",
    "updated_by",
    *BLOCKER_JOINS,
]


def plan_list(*, scope: Scope) -> QuerySet:
    """The local plans the scope may see, with `may_edit` and the number of sub-tasks."""
    editable = LocalPlan.objects.editable_by(scope).values("pk")
    return (
        LocalPlan.objects.visible_to(scope)
        .select_related("province", "agency", "created_by")
        .annotate(
            subtask_count=Count("subtasks"),
            may_edit=Case(When(pk__in=editable, then=Value(True)), default=Value(False), output_field=BooleanField()),
        )
        .order_by("-issued_on", "pk")
    )


def subtask_list(*, scope: Scope, today: datetime.date, queryset: Any = None) -> QuerySet:
    """Sub-tasks the scope may see, with their joins, the derived `display_status` (from the sub-task's own
    deadline) and whether the scope `may_update` each one."""
    qs = (SubTask.objects.all() if queryset is None else queryset).visible_to(scope)
    condition = SubTask.objects.updatable_q(scope)
    return (
        qs.select_related(*SUBTASK_JOINS)
        .with_display_status(today)
        .annotate(
            may_update=Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())
            if condition is not None
            else Value(False, output_field=BooleanField())
        )
    )


def subtask_history(*, subtask: SubTask) -> QuerySet:
    """Every change of one sub-task, newest first."""
    return (
        SubTaskUpdate.objects.filter(subtask=subtask)
        .select_related("actor", "blocked_by", "blocked_by_province", "blocked_by_vendor", "subtask__commune")
        .order_by("-version")
    )


def visible_subtask_update(*, scope: Scope, pk: int) -> SubTaskUpdate | None:
    """A sub-task history row whose sub-task the scope sees, or None (for evidence downloads)."""
    visible = SubTask.objects.visible_to(scope).values("pk")
    return SubTaskUpdate.objects.filter(pk=pk, subtask__in=visible).first()


# --- the demo catalogue -------------------------------------------------------------------------------------

DEMO_NOTE = _(
    "Demo catalogue: these tasks are built from public facts and are not the official list of Plan 02. An "
    "administrator can import the official catalogue with manage.py import_tasks."
)


def demo_catalogue() -> bool:
    """Is any task of the loaded catalogue not official (the demo catalogue)? Every page, export and JSON
    that shows tasks says so while it is."""
    return Task.objects.filter(is_official=False).exists()


def demo_notes() -> list[str]:
    """The note for the exports that show tasks: the demo label, or nothing for an official catalogue."""
    return [str(DEMO_NOTE)] if demo_catalogue() else []
