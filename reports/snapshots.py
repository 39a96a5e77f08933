"""Task snapshots: the state of the plan's tasks as of the end of a day, by phase, group, lead agency,
province, task and (province, commune-level task), reconstructed from the append-only history so past days
can be rebuilt too.

An assignment's state as of day D is its latest StatusUpdate before the midnight that ends D (not started
when there is none); its display status follows tasks.models.display_status with D as "today". A task is
completed when all its assignments are, on the date of the last one. One query reads the ~24,000
assignments' states; the counting is done in Python over those rows (bounded by the catalogue, not by
history).
"""

import datetime
import logging
from collections import Counter, defaultdict

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from reports import cache as dashboard_cache
from reports.rollup_models import Dimension, TaskSnapshot
from tasks.models import Assignment, AssignmentStatus, DisplayStatus, StatusUpdate, Task, display_status

logger = logging.getLogger(__name__)

STATUS_FIELDS = {
    DisplayStatus.COMPLETED_ON_TIME: "completed_on_time",
    DisplayStatus.COMPLETED_LATE: "completed_late",
    DisplayStatus.ON_TRACK: "on_track",
    DisplayStatus.OVERDUE: "overdue",
    DisplayStatus.NOT_STARTED: "not_started",
}
COMPLETED = AssignmentStatus.COMPLETED


def _cutoff(day):
    midnight = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time())
    return timezone.make_aware(midnight, timezone.get_current_timezone())


def assignment_states(day):
    """(task_id, province_id, level, status, progress, completed_on) of every assignment as of `day`."""
    latest = StatusUpdate.objects.filter(assignment=OuterRef("pk"), created_at__lt=_cutoff(day)).order_by("-version")
    return (
        Assignment.objects.annotate(
            s=Subquery(latest.values("new_status")[:1]),
            p=Subquery(latest.values("new_progress")[:1]),
            c=Subquery(latest.values("completed_on")[:1]),
        )
        .values_list("task_id", "province_id", "level", "s", "p", "c")
        .order_by()
    )


def task_display_status(*, total, green, started, last_done, deadline, day):
    """Rolled-up display status of a task from its assignments' counts."""
    if total and green == total:
        return DisplayStatus.COMPLETED_LATE if last_done and last_done > deadline else DisplayStatus.COMPLETED_ON_TIME
    if day > deadline:
        return DisplayStatus.OVERDUE
    if not started:
        return DisplayStatus.NOT_STARTED
    return DisplayStatus.ON_TRACK


class _Slice:
    __slots__ = ("assignments", "commune_green", "commune_total", "counts", "green")

    def __init__(self):
        self.counts = Counter()
        self.assignments = self.green = self.commune_total = self.commune_green = 0

    def row(self, day, dimension, key, now):
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


def snapshot_rows(day):
    """The TaskSnapshot rows of one day (not saved)."""
    now = timezone.now()
    tasks = {t.pk: t for t in Task.objects.select_related("phase", "group", "lead_agency")}
    per_task = defaultdict(_Slice)
    started = Counter()
    last_done = {}
    per_province = defaultdict(_Slice)
    per_province_task = defaultdict(_Slice)
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
        if status != AssignmentStatus.NOT_STARTED or progress:
            started[task_id] += 1
        if green and completed_on and (task_id not in last_done or completed_on > last_done[task_id]):
            last_done[task_id] = completed_on

    rows = []
    by_dimension = defaultdict(_Slice)
    for task_id, item in per_task.items():
        task = tasks[task_id]
        shown = task_display_status(
            total=item.assignments,
            green=item.green,
            started=started[task_id],
            last_done=last_done.get(task_id),
            deadline=task.deadline,
            day=day,
        )
        row = item.row(day, Dimension.TASK, task.code, now)
        row.status = shown.value
        rows.append(row)
        for key in (
            (Dimension.PHASE, task.phase.code),
            (Dimension.GROUP, str(task.group.number)),
            (Dimension.AGENCY, task.lead_agency.code),
        ):
            target = by_dimension[key]
            target.counts[shown] += 1
            target.assignments += item.assignments
            target.green += item.green
    rows += [item.row(day, dimension, key, now) for (dimension, key), item in by_dimension.items()]
    rows += [item.row(day, Dimension.PROVINCE, key, now) for key, item in per_province.items()]
    rows += [
        item.row(day, Dimension.PROVINCE_TASK, f"{province}:{code}", now)
        for (province, code), item in per_province_task.items()
    ]
    return rows


@transaction.atomic
def snapshot_build(day):
    """Replace the snapshots of `day`. Idempotent."""
    rows = snapshot_rows(day)
    TaskSnapshot.objects.filter(date=day).delete()
    TaskSnapshot.objects.bulk_create(rows, batch_size=1000)
    transaction.on_commit(dashboard_cache.invalidate)
    return len(rows)


def snapshot_build_range(*, start, end, progress=None):
    day = start
    while day <= end:
        snapshot_build(day)
        if progress:
            progress(1)
        day += datetime.timedelta(days=1)


def snapshot_request():
    """Enqueue the rebuild of today's snapshots (call after commit). A down broker only delays the refresh:
    the hourly beat job rebuilds them anyway."""
    from reports import jobs

    try:
        jobs.task_snapshot.delay()
    except Exception:  # the update is committed; the dashboards catch up at the next scheduled snapshot
        logger.warning("could not enqueue the task snapshot", exc_info=True)
