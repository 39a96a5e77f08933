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
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from dashboards import cache as dashboard_cache
from dashboards.locks import SNAPSHOT_DAY, lock_days
from dashboards.models import Dimension, SnapshotRequest, TaskSnapshot
from tasks.models import Assignment, StatusUpdate, Task
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


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The midnight (Asia/Ho_Chi_Minh) that ends `day`: history rows before it make the state as of `day`."""
    midnight = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time())
    return timezone.make_aware(midnight, timezone.get_current_timezone())


def assignment_states(day: datetime.date) -> QuerySet:
    """(task_id, province_id, level, status, progress, completed_on) of every assignment as of `day`:
    replayed from history for a past day, the assignments' own rows for today (the same thing, cheaper)."""
    if day >= timezone.localdate():
        return Assignment.objects.values_list(
            "task_id", "province_id", "level", "status", "progress", "completed_on"
        ).order_by()
    latest = StatusUpdate.objects.filter(assignment=OuterRef("pk"), created_at__lt=end_of_day(day)).order_by("-version")
    return (
        Assignment.objects.annotate(
            s=Subquery(latest.values("new_status")[:1]),
            p=Subquery(latest.values("new_progress")[:1]),
            c=Subquery(latest.values("completed_on")[:1]),
        )
        .values_list("task_id", "province_id", "level", "s", "p", "c")
        .order_by()
    )


class _Slice:
    __slots__ = ("assignments", "commune_green", "commune_total", "counts", "green")

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.assignments = self.green = self.commune_total = self.commune_green = 0

    def row(self, day: datetime.date, dimension: str, key: str, now: datetime.datetime) -> TaskSnapshot:
        return TaskSnapshot(
            date=day,
            dimension=dimension,
            key=key,
            assignments=self.assignments,
            green=self.green,
            commune_total=self.commune_total,
            commune_green=self.commune_green,
            built_at=now,
            **{field: self.counts[status] for status, field in STATUS_FIELDS.items()},
        )


def snapshot_rows(day: datetime.date) -> list[TaskSnapshot]:
    """The TaskSnapshot rows of one day (not saved)."""
    now = timezone.now()
    tasks = {t.pk: t for t in Task.objects.select_related("phase", "group", "lead_agency")}
    per_task: defaultdict[int, _Slice] = defaultdict(_Slice)
    started: Counter = Counter()
    late: Counter = Counter()
    per_province: defaultdict[str, _Slice] = defaultdict(_Slice)
    per_province_task: defaultdict[tuple[str, str], _Slice] = defaultdict(_Slice)
    for task_id, province_id, level, status, progress, completed_on in assignment_states(day):
        task = tasks[task_id]
        status = status or AssignmentStatus.NOT_STARTED
        progress = progress or 0
        shown = display_status(
            status=status, deadline=task.deadline, completed_on=completed_on, today=day, progress=progress
        )
        green = status == COMPLETED
        slices = [per_task[task_id]]
        if province_id:
            slices.append(per_province[province_id])
        if level == "commune":
            slices.append(per_province_task[(province_id, task.code)])
            per_province[province_id].commune_total += 1
            per_province[province_id].commune_green += green
        for item in slices:
            item.counts[shown] += 1
            item.assignments += 1
            item.green += green
        started[task_id] += is_started(status=status, progress=progress)
        late[task_id] += shown == DisplayStatus.COMPLETED_LATE

    rows = []
    by_dimension: defaultdict[tuple[str, str], _Slice] = defaultdict(_Slice)
    for task_id, item in per_task.items():
        task = tasks[task_id]
        rolled = task_status(
            total=item.assignments,
            completed=item.green,
            completed_late=late[task_id],
            started=started[task_id],
            deadline=task.deadline,
            day=day,
        )
        row = item.row(day, Dimension.TASK, task.code, now)
        row.status = rolled.value if rolled else ""
        rows.append(row)
        for key in (
            (Dimension.PHASE, task.phase.code),
            (Dimension.GROUP, str(task.group.number)),
            (Dimension.AGENCY, task.lead_agency.code),
        ):
            target = by_dimension[key]
            target.counts[rolled] += 1
            target.assignments += item.assignments
            target.green += item.green
    rows += [item.row(day, dimension, key, now) for (dimension, key), item in by_dimension.items()]
    rows += [item.row(day, Dimension.PROVINCE, key, now) for key, item in per_province.items()]
    rows += [
        item.row(day, Dimension.PROVINCE_TASK, f"{province}:{code}", now)
        for (province, code), item in per_province_task.items()
    ]
    return rows


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
        transaction.on_commit(dashboard_cache.invalidate)
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
