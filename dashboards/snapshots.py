"""Task snapshots: the state of the plan's tasks as of the end of a day, by phase, group, lead agency,
province, task and (province, commune-level task), reconstructed from the append-only history so past days
can be rebuilt too.

An assignment's state as of day D is its latest StatusUpdate before the midnight that ends D (not started
when there is none); for today that is its current row, read without the history. Display statuses and the
task rollup follow tasks.status with D as "today". One query reads the ~24,000 assignments' states; the
counting is done in Python over those rows (bounded by the catalogue, not by history).

Rebuilds of a day are serialised (dashboards.locks) and requested through an outbox (SnapshotRequest), so
that the saves arriving while a rebuild is pending share it, as reports share their rollups.
"""

import datetime
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Min, QuerySet
from django.utils import timezone

from core.dates import end_of_day
from dashboards import cache as dashboard_cache
from dashboards.locks import SNAPSHOT_DAY, lock_days
from dashboards.models import Dimension, SnapshotRequest, TaskSnapshot
from tasks.models import Assignment, Task
from tasks.status import AssignmentStatus, DisplayStatus, display_status, is_started, task_status

logger = logging.getLogger(__name__)

STATUS_FIELDS = {
    DisplayStatus.COMPLETED_ON_TIME: "completed_on_time",
    DisplayStatus.COMPLETED_LATE: "completed_late",
    DisplayStatus.ON_TRACK: "on_track",
    DisplayStatus.OVERDUE: "overdue",
    DisplayStatus.NOT_STARTED: "not_started",
}
COMPLETED = AssignmentStatus.COMPLETED


def assignment_states(day: datetime.date) -> QuerySet:
    """(task_id, province_id, level, status, progress, completed_on) of every assignment as of `day`:
    replayed from history for a past day (Assignment.objects.as_of), the assignments' own rows for today
    (the same thing, cheaper)."""
    columns = ["task_id", "province_id", "level"]
    if day >= timezone.localdate():
        return Assignment.objects.values_list(*columns, "status", "progress", "completed_on").order_by()
    return Assignment.objects.as_of(day).values_list(*columns, "status_at", "progress_at", "completed_on_at").order_by()


class _Counts:
    """An assignment-level tally: how many, how many green (completed), completed late, started."""

    __slots__ = ("completed_late", "green", "started", "total")

    def __init__(self) -> None:
        self.total = self.green = self.completed_late = self.started = 0

    def add(self, *, green: bool, late: bool, started: bool) -> None:
        self.total += 1
        self.green += green
        self.completed_late += late
        self.started += started

    @property
    def share(self) -> float:
        return self.green / self.total if self.total else 0.0

    def rolled(self, *, deadline: datetime.date, day: datetime.date) -> DisplayStatus | None:
        return task_status(
            total=self.total,
            completed=self.green,
            completed_late=self.completed_late,
            started=self.started,
            deadline=deadline,
            day=day,
        )


class _Slice:
    """One snapshot row being counted."""

    __slots__ = ("assignments", "commune_green", "commune_total", "counts", "done", "green", "status", "tasks")

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.assignments = self.green = self.commune_total = self.commune_green = self.tasks = 0
        self.done = 0.0
        self.status = ""

    def add_task(self, tally: _Counts, rolled: DisplayStatus | None) -> None:
        """A task of a task-classifying slice: counted once, by its rolled-up status and its green share."""
        self.counts[rolled] += 1
        self.tasks += 1
        self.done += tally.share
        self.assignments += tally.total
        self.green += tally.green

    def row(self, day: datetime.date, dimension: str, key: str, now: datetime.datetime) -> TaskSnapshot:
        return TaskSnapshot(
            date=day,
            dimension=dimension,
            key=key,
            assignments=self.assignments,
            green=self.green,
            commune_total=self.commune_total,
            commune_green=self.commune_green,
            tasks=self.tasks,
            done=round(self.done, 6),
            status=self.status,
            built_at=now,
            **{field: self.counts[status] for status, field in STATUS_FIELDS.items()},
        )


def snapshot_rows(day: datetime.date) -> list[TaskSnapshot]:
    """The TaskSnapshot rows of one day (not saved): one pass over the assignments' states as of the day,
    then every slice from the per-task and per-(province, task) tallies."""
    now = timezone.now()
    tasks = {t.pk: t for t in Task.objects.select_related("phase", "group", "lead_agency")}
    per_task: defaultdict[int, _Counts] = defaultdict(_Counts)
    per_province_task: defaultdict[tuple[str, int], _Counts] = defaultdict(_Counts)
    task_slices: defaultdict[int, _Slice] = defaultdict(_Slice)  # assignment-classifying, by task
    province_slices: defaultdict[str, _Slice] = defaultdict(_Slice)
    province_task_slices: defaultdict[tuple[str, int], _Slice] = defaultdict(_Slice)
    for task_id, province_id, level, status, progress, completed_on in assignment_states(day):
        task = tasks[task_id]
        status = status or AssignmentStatus.NOT_STARTED
        progress = progress or 0
        shown = display_status(
            status=status, deadline=task.deadline, completed_on=completed_on, today=day, progress=progress
        )
        green = status == COMPLETED
        state = {
            "green": green,
            "late": shown == DisplayStatus.COMPLETED_LATE,
            "started": is_started(status=status, progress=progress),
        }
        per_task[task_id].add(**state)
        slices = [task_slices[task_id]]
        if province_id:
            per_province_task[(province_id, task_id)].add(**state)
            slices += [province_slices[province_id], province_task_slices[(province_id, task_id)]]
            if level == "commune":
                province_slices[province_id].commune_total += 1
                province_slices[province_id].commune_green += green
        for item in slices:
            item.counts[shown] += 1
            item.assignments += 1
            item.green += green

    rows = []
    by_task_slice: defaultdict[tuple[str, str], _Slice] = defaultdict(_Slice)
    for task_id, tally in per_task.items():
        task = tasks[task_id]
        rolled = tally.rolled(deadline=task.deadline, day=day)
        item = task_slices[task_id]
        item.tasks, item.done, item.status = 1, tally.share, rolled.value if rolled else ""
        rows.append(item.row(day, Dimension.TASK, task.code, now))
        phase = task.phase.code
        for key in (
            (Dimension.PHASE, phase),
            (Dimension.GROUP, str(task.group.number)),
            (Dimension.AGENCY, task.lead_agency.code),
            (Dimension.PHASE_GROUP, f"{phase}:{task.group.number}"),
            (Dimension.PHASE_AGENCY, f"{phase}:{task.lead_agency.code}"),
        ):
            by_task_slice[key].add_task(tally, rolled)
    for (province_id, task_id), tally in per_province_task.items():
        task = tasks[task_id]
        rolled = tally.rolled(deadline=task.deadline, day=day)
        item = province_task_slices[(province_id, task_id)]
        item.tasks, item.done, item.status = 1, tally.share, rolled.value if rolled else ""
        rows.append(item.row(day, Dimension.PROVINCE_TASK, f"{province_id}:{task.code}", now))
        province_slices[province_id].tasks += 1
        province_slices[province_id].done += tally.share
        by_task_slice[(Dimension.PHASE_PROVINCE, f"{task.phase.code}:{province_id}")].add_task(tally, rolled)
    rows += [item.row(day, dimension, key, now) for (dimension, key), item in by_task_slice.items()]
    rows += [item.row(day, Dimension.PROVINCE, key, now) for key, item in province_slices.items()]
    return rows


def snapshot_ensure(days: Iterable[datetime.date]) -> list[datetime.date]:
    """Build the snapshots an as-of view needs: past days that have none (the beat never snapshotted them),
    and past days whose snapshot was built before the day ended (the hourly job's last run of that day
    missed what came after it). A past day's state never changes once the day is over — history is
    append-only and stamped when written — so the snapshot built then is final. Returns the days built."""
    today = timezone.localdate()
    wanted = sorted({d for d in days if d <= today})
    built_at = dict(
        TaskSnapshot.objects.filter(date__in=wanted, dimension=Dimension.PHASE)
        .values("date")
        .annotate(at=Min("built_at"))
        .values_list("date", "at")
        .order_by()
    )
    stale = [d for d in wanted if d not in built_at or (d < today and built_at[d] < end_of_day(d))]
    for day in stale:
        snapshot_build(day)
    return stale


def as_of_ensure(day: datetime.date | None) -> None:
    """Build what a view as of the end of `day` reads (the dashboards' selectors read snapshots, never build
    them): that day's snapshots and those of FORECAST_WINDOW days before, which its forecasts compare with.
    Nothing for the latest view (day None: the kept snapshots). Call it before the selector."""
    if day is not None:
        from dashboards.forecasts import FORECAST_WINDOW

        snapshot_ensure([day, day - datetime.timedelta(days=FORECAST_WINDOW)])


def snapshot_build(day: datetime.date, *, only_if_requested: bool = False) -> int:
    """Replace the snapshots of `day`. Idempotent. With `only_if_requested` (the job), nothing is done when
    no request is pending (an earlier job took it). Returns the number of rows written."""
    with transaction.atomic():
        lock_days(SNAPSHOT_DAY, [day])
        deleted, _ = SnapshotRequest.objects.filter(date=day).delete()
        if only_if_requested and not deleted:
            return 0
        rows = snapshot_rows(day)
        TaskSnapshot.objects.filter(date=day).delete()
        TaskSnapshot.objects.bulk_create(rows, batch_size=1000)
        dashboard_cache.invalidate()  # in this transaction: the new generation is visible with the new rows
    return len(rows)


def snapshot_build_range(
    *, start: datetime.date, end: datetime.date, progress: Callable[[int], Any] | None = None
) -> None:
    day = start
    while day <= end:
        snapshot_build(day)
        if progress:
            progress(1)
        day += datetime.timedelta(days=1)


def snapshot_request(days: Iterable[datetime.date]) -> list[datetime.date]:
    """Record that these days' snapshots must be rebuilt; returns the days whose request is new (they need
    a job; a pending one already has it)."""
    new = []
    now = timezone.now()
    for day in sorted(set(days)):
        try:
            with transaction.atomic():
                _request, created = SnapshotRequest.objects.get_or_create(date=day, defaults={"requested_at": now})
        except IntegrityError:  # created meanwhile by a concurrent save: it is pending, with its job
            created = False
        if created:
            new.append(day)
    return new


def snapshot_catch_up(*, older_than: datetime.timedelta | None = datetime.timedelta(minutes=2)) -> int:
    """Rebuild the days whose snapshot request has waited longer than `older_than` (all with None)."""
    pending = SnapshotRequest.objects.order_by("date")
    if older_than is not None:
        pending = pending.filter(requested_at__lt=timezone.now() - older_than)
    return sum(1 for day in pending.values_list("date", flat=True) if snapshot_build(day, only_if_requested=True))
