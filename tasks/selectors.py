"""Reads of tasks and assignments for pages, exports and the API. Every function takes the caller's scope and
goes through tasks.scoping; each runs a fixed number of queries whatever the number of assignments (a
commune-level task has 3,321), because counting and grouping happen in SQL."""

import dataclasses
import datetime

from django.db.models import BooleanField, Case, Count, OuterRef, Q, Subquery, Sum, Value, When

from tasks.models import (
    DISPLAY_COLOURS,
    Assignment,
    AssignmentStatus,
    DisplayStatus,
    Level,
    StatusUpdate,
    Task,
)
from tasks.scoping import assignments_updatable, assignments_visible, updatable_q

ASSIGNMENT_JOINS = ["task", "task__group", "task__phase", "agency", "province", "commune", "updated_by", "blocked_by"]


def assignment_list(*, scope, today: datetime.date, queryset=None):
    """Assignments the scope may see, with the joins every list needs, the derived `display_status`, whether
    the scope `may_update` each one, and whether its last change was made `last_on_behalf` of a commune."""
    qs = assignments_visible(scope, Assignment.objects.all() if queryset is None else queryset)
    condition = updatable_q(scope)
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


def my_assignments(*, scope, today):
    """The assignments the scope may update (`?mine=true`)."""
    return assignment_list(scope=scope, today=today, queryset=assignments_updatable(scope))


# --- rollups --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Rollup:
    """A task's status and progress rolled up from the assignments the scope sees."""

    total: int = 0
    counts: dict = dataclasses.field(default_factory=dict)  # display status -> number of assignments
    progress_sum: int = 0
    blocked: int = 0

    @property
    def progress(self):
        return round(self.progress_sum / self.total) if self.total else 0

    @property
    def green(self):
        return self.counts.get(DisplayStatus.COMPLETED_ON_TIME, 0) + self.counts.get(DisplayStatus.COMPLETED_LATE, 0)

    @property
    def green_share(self):
        return self.green / self.total if self.total else 0

    @property
    def status(self):
        """All completed: completed (late if any was late); any overdue: overdue; none started: not started;
        otherwise on track."""
        if not self.total:
            return None
        if self.green == self.total:
            late = self.counts.get(DisplayStatus.COMPLETED_LATE, 0)
            return DisplayStatus.COMPLETED_LATE if late else DisplayStatus.COMPLETED_ON_TIME
        if self.counts.get(DisplayStatus.OVERDUE):
            return DisplayStatus.OVERDUE
        if self.counts.get(DisplayStatus.NOT_STARTED, 0) == self.total:
            return DisplayStatus.NOT_STARTED
        return DisplayStatus.ON_TRACK

    @property
    def colour(self):
        return DISPLAY_COLOURS.get(self.status, "grey")

    def breakdown(self):
        """(display status, label, colour, count) for every display status, in a fixed order."""
        return [(s.value, s.label, DISPLAY_COLOURS[s], self.counts.get(s.value, 0)) for s in DisplayStatus]


def task_rollups(*, scope, task_ids, today):
    """{task id: Rollup} for the given tasks, in one query."""
    rows = (
        assignments_visible(scope, Assignment.objects.filter(task_id__in=list(task_ids)))
        .with_display_status(today)
        .values("task_id", "display_status")
        .annotate(
            n=Count("pk"), progress=Sum("progress"), blocked=Count("pk", filter=Q(status=AssignmentStatus.BLOCKED))
        )
        .order_by()
    )
    rollups = {}
    for row in rows:
        rollup = rollups.setdefault(row["task_id"], Rollup())
        rollup.total += row["n"]
        rollup.counts[row["display_status"]] = row["n"]
        rollup.progress_sum += row["progress"] or 0
        rollup.blocked += row["blocked"]
    return rollups


def task_rollup(*, scope, task, today):
    return task_rollups(scope=scope, task_ids=[task.pk], today=today).get(task.pk, Rollup())


# --- commune-level tasks --------------------------------------------------------------------------------


@dataclasses.dataclass
class ProvinceShare:
    code: str
    name: str
    total: int
    green: int
    overdue: int

    @property
    def share(self):
        return self.green / self.total if self.total else 0

    @property
    def not_done(self):
        return self.total - self.green


def commune_green_shares(*, scope, task, today):
    """Share of green (completed) communes per province for a commune-level task, and the national total,
    over the communes the scope sees: one GROUP BY query (34 rows), whatever the 3,321 communes."""
    rows = (
        assignments_visible(scope, Assignment.objects.filter(task=task, level=Level.COMMUNE))
        .values("province_id", "province__name")
        .annotate(
            total=Count("pk"),
            green=Count("pk", filter=Q(status=AssignmentStatus.COMPLETED)),
            overdue=Count("pk", filter=~Q(status=AssignmentStatus.COMPLETED) & Q(task__deadline__lt=today)),
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


def communes_not_done(*, scope, task, today, province=None):
    """The communes that have not completed a commune-level task (for pagination), in a province or all."""
    qs = Assignment.objects.filter(task=task, level=Level.COMMUNE).exclude(status=AssignmentStatus.COMPLETED)
    if province is not None:
        qs = qs.filter(province=province)
    return assignment_list(scope=scope, today=today, queryset=qs).order_by("province_id", "commune_id")


@dataclasses.dataclass
class ProvinceTaskSummary:
    task: Task
    total: int = 0
    green: int = 0
    overdue: int = 0
    blocked: int = 0
    not_started: int = 0

    @property
    def share(self):
        return self.green / self.total if self.total else 0


def province_commune_summary(*, scope, province, today):
    """For a province officer: each commune-level task with how many of the province's communes are green,
    overdue, blocked and not started. Two queries (the tasks, one GROUP BY)."""
    tasks = list(Task.objects.filter(level=Level.COMMUNE).order_by("code"))
    rows = (
        assignments_visible(scope, Assignment.objects.filter(level=Level.COMMUNE, province=province))
        .values("task_id")
        .annotate(
            total=Count("pk"),
            green=Count("pk", filter=Q(status=AssignmentStatus.COMPLETED)),
            overdue=Count("pk", filter=~Q(status=AssignmentStatus.COMPLETED) & Q(task__deadline__lt=today)),
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


def province_commune_assignments(*, scope, province, task, today):
    """The province's communes for one commune-level task (paginated by the caller)."""
    qs = Assignment.objects.filter(task=task, level=Level.COMMUNE, province=province)
    return assignment_list(scope=scope, today=today, queryset=qs).order_by("commune_id")


# --- history --------------------------------------------------------------------------------------------

HISTORY_JOINS = ["actor", "blocked_by", "assignment__agency", "assignment__province", "assignment__commune"]


def assignment_history(*, assignment):
    """Every change of one assignment, newest first."""
    return StatusUpdate.objects.filter(assignment=assignment).select_related(*HISTORY_JOINS).order_by("-version")


def task_history(*, scope, task):
    """Every change of the task's assignments the scope sees, newest first (for pagination)."""
    visible = assignments_visible(scope, Assignment.objects.filter(task=task)).values("pk")
    return (
        StatusUpdate.objects.filter(assignment__in=visible)
        .select_related(*HISTORY_JOINS)
        .order_by("-created_at", "-id")
    )


def visible_status_update(*, scope, pk):
    """A history row whose assignment the scope sees, or None (for evidence downloads)."""
    visible = assignments_visible(scope).values("pk")
    return StatusUpdate.objects.filter(pk=pk, assignment__in=visible).select_related("assignment").first()


@dataclasses.dataclass(frozen=True)
class FieldChange:
    """One field of an assignment that changed between two versions."""

    field: str
    old: object
    new: object

    @property
    def label(self):
        return Assignment._meta.get_field(self.field).verbose_name

    @staticmethod
    def _display(field, value):
        if value is None or value == "":
            return "—"
        if field == "status":
            return AssignmentStatus(value).label
        if isinstance(value, datetime.date):
            return value.strftime("%d/%m/%Y")
        return str(value)

    @property
    def old_display(self):
        return self._display(self.field, self.old)

    @property
    def new_display(self):
        return self._display(self.field, self.new)


def assignment_state(assignment):
    """The fields a version fixes, with the blocking agency as its code."""
    return {
        "status": assignment.status,
        "progress": assignment.progress,
        "completed_on": assignment.completed_on,
        "blocked_by": assignment.blocked_by.code if assignment.blocked_by_id else None,
        "blocked_reason": assignment.blocked_reason or "",
    }


def assignment_changes_since(*, assignment, version):
    """What changed between `version` and the assignment's current version, field by field, and the history
    rows written since (oldest first). Two queries.

    The state at `version` comes from history: status and progress from the first later row's old values,
    the other fields from the row that produced `version` (none for version 1: the initial empty state)."""
    if version >= assignment.version:
        return [], []
    updates = list(
        StatusUpdate.objects.filter(assignment=assignment, version__gt=version)
        .select_related("actor", "blocked_by")
        .order_by("version")
    )
    if not updates:
        return [], []
    at_version = next(
        iter(StatusUpdate.objects.filter(assignment=assignment, version=version).select_related("blocked_by")), None
    )
    before = {
        "status": updates[0].old_status,
        "progress": updates[0].old_progress,
        "completed_on": at_version.completed_on if at_version else None,
        "blocked_by": at_version.blocked_by.code if at_version and at_version.blocked_by_id else None,
        "blocked_reason": at_version.blocked_reason if at_version else "",
    }
    after = {
        "status": updates[-1].new_status,
        "progress": updates[-1].new_progress,
        "completed_on": updates[-1].completed_on,
        "blocked_by": updates[-1].blocked_by.code if updates[-1].blocked_by_id else None,
        "blocked_reason": updates[-1].blocked_reason,
    }
    changes = [FieldChange(f, before[f], after[f]) for f in before if before[f] != after[f]]
    return changes, updates
