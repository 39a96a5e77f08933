"""tasks.status: the Python and SQL forms of each rule agree over a grid of cases — every status × before, on
and after the deadline × completed early, on time or late."""

import datetime
import itertools

import pytest
from django.db.models import F

from localities.models import Province
from tasks.models import Assignment, Task
from tasks.status import (
    AssignmentStatus,
    DisplayStatus,
    display_status,
    is_started,
    task_rollup_aggregates,
    task_status,
    task_status_sql,
)

pytestmark = pytest.mark.django_db

DEADLINE = datetime.date(2025, 9, 30)
DAYS = {
    "before": DEADLINE - datetime.timedelta(days=1),
    "on": DEADLINE,
    "after": DEADLINE + datetime.timedelta(days=1),
}
# (status, progress, completed_on): every status, and completion early, on the deadline and late.
STATES = [
    (AssignmentStatus.NOT_STARTED, 0, None),
    (AssignmentStatus.NOT_STARTED, 10, None),  # refused by the service, but the rules must still agree on it
    (AssignmentStatus.IN_PROGRESS, 50, None),
    (AssignmentStatus.BLOCKED, 40, None),
    (AssignmentStatus.COMPLETED, 100, DEADLINE - datetime.timedelta(days=5)),
    (AssignmentStatus.COMPLETED, 100, DEADLINE),
    (AssignmentStatus.COMPLETED, 100, DEADLINE + datetime.timedelta(days=5)),
]


@pytest.fixture
def t30():
    """A commune-level task (one assignment per commune) with a fixed deadline."""
    Task.objects.filter(code="T30").update(deadline=DEADLINE)
    return Task.objects.get(code="T30")


def _set(assignment_ids, state):
    status, progress, completed_on = state
    Assignment.objects.filter(pk__in=assignment_ids).update(status=status, progress=progress, completed_on=completed_on)


def test_display_status_in_python_and_sql_agree(t30):
    ids = list(Assignment.objects.filter(task=t30).order_by("pk").values_list("pk", flat=True)[: len(STATES)])
    for pk, state in zip(ids, STATES, strict=True):
        _set([pk], state)
    for name, today in DAYS.items():
        rows = Assignment.objects.filter(pk__in=ids).with_display_status(today).values_list("pk", "display_status")
        sql = dict(rows)
        for pk, (status, progress, completed_on) in zip(ids, STATES, strict=True):
            python = display_status(
                status=status, deadline=DEADLINE, completed_on=completed_on, today=today, progress=progress
            )
            assert sql[pk] == python.value, (name, status, progress, completed_on)


def test_display_status_grid_covers_every_outcome(t30):
    outcomes = {
        display_status(status=s, deadline=DEADLINE, completed_on=c, today=today, progress=p)
        for (s, p, c), today in itertools.product(STATES, DAYS.values())
    }
    assert outcomes == set(DisplayStatus)


# Mixes of assignment states for one "task" (here: a province's communes of T30, grouped by province).
MIXES = {
    "all completed early": [4, 4, 4],
    "all completed, one late": [4, 5, 6],
    "completed and in progress": [4, 2],
    "completed and blocked": [5, 3],
    "none started": [0, 0, 0],
    "one started by progress only": [0, 1],
    "in progress": [2, 2],
    "completed and not started": [6, 0],
}


def test_task_rollup_in_python_and_sql_agree(t30):
    provinces = list(Province.objects.order_by("code").values_list("code", flat=True)[: len(MIXES)])
    expected_counts = {}
    for province, (name, mix) in zip(provinces, MIXES.items(), strict=True):
        communes = list(
            Assignment.objects.filter(task=t30, province_id=province).order_by("pk").values_list("pk", flat=True)
        )
        # Every commune of the province takes one of the mix's states, in turn.
        groups = {index: communes[index :: len(mix)] for index in range(len(mix))}
        for index, state_index in enumerate(mix):
            _set(groups[index], STATES[state_index])
        states = [STATES[mix[i % len(mix)]] for i in range(len(communes))]
        expected_counts[province] = (name, states)
    for day_name, day in DAYS.items():
        rows = (
            Assignment.objects.filter(task=t30, province_id__in=provinces)
            .values("province_id")
            .annotate(**task_rollup_aggregates())
            .annotate(rolled=task_status_sql(day))
            .order_by()
        )
        rows = list(rows)
        # One row per province of the mixes: an empty or short answer must not pass the loop below unchecked.
        assert sorted(row["province_id"] for row in rows) == sorted(provinces), day_name
        for row in rows:
            name, states = expected_counts[row["province_id"]]
            python = task_status(
                total=len(states),
                completed=sum(s == AssignmentStatus.COMPLETED for s, _p, _c in states),
                completed_late=sum(s == AssignmentStatus.COMPLETED and c > DEADLINE for s, _p, c in states),
                started=sum(is_started(status=s, progress=p) for s, p, _c in states),
                deadline=DEADLINE,
                day=day,
            )
            assert row["total"] == len(states)
            assert row["rolled"] == python.value, (name, day_name)


def test_task_without_assignments_has_no_rolled_up_status():
    assert task_status(total=0, completed=0, completed_late=0, started=0, deadline=DEADLINE, day=DEADLINE) is None
    row = (
        Assignment.objects.filter(pk__in=[])
        .values("task_id")
        .annotate(**task_rollup_aggregates())
        .annotate(rolled=task_status_sql(DEADLINE))
    )
    assert list(row) == []


def test_sql_display_status_reads_the_tasks_deadline(t30):
    """The SQL form joins the task's deadline: moving the deadline moves the status, as in Python."""
    assignment = Assignment.objects.filter(task=t30).first()
    _set([assignment.pk], STATES[2])
    today = DAYS["after"]
    assert Assignment.objects.with_display_status(today).get(pk=assignment.pk).display_status == "overdue"
    Task.objects.filter(pk=t30.pk).update(deadline=F("deadline") + datetime.timedelta(days=10))
    assert Assignment.objects.with_display_status(today).get(pk=assignment.pk).display_status == "on_track"
