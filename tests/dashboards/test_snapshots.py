import datetime

import pytest
from django.utils import timezone

from dashboards import cache as dashboard_cache
from dashboards.models import TaskSnapshot
from dashboards.snapshots import snapshot_build
from tasks.models import Assignment, DisplayStatus, StatusUpdate, Task


def history(assignment, actor, when, status, progress, completed_on=None):
    """Append a history row and move the assignment, as the update service does."""
    version = assignment.version + 1
    StatusUpdate.objects.create(
        assignment=assignment,
        actor=actor,
        created_at=when,
        old_status=assignment.status,
        new_status=status,
        old_progress=assignment.progress,
        new_progress=progress,
        completed_on=completed_on,
        version=version,
    )
    Assignment.objects.filter(pk=assignment.pk).update(
        status=status, progress=progress, completed_on=completed_on, version=version
    )
    assignment.refresh_from_db()


def at(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def snap(day, dimension, key):
    return TaskSnapshot.objects.get(date=day, dimension=dimension, key=key)


@pytest.fixture
def t01(agency_officer):
    """T01 (central, 3 agencies) with a deadline ten days ahead; BCA completes on day -2."""
    today = timezone.localdate()
    Task.objects.filter(code="T01").update(deadline=today + datetime.timedelta(days=10))
    task = Task.objects.get(code="T01")
    bca = task.assignments.get(agency__code="BCA")
    history(bca, agency_officer, at(today - datetime.timedelta(days=5)), "in_progress", 40)
    history(
        bca,
        agency_officer,
        at(today - datetime.timedelta(days=2)),
        "completed",
        100,
        completed_on=today - datetime.timedelta(days=2),
    )
    return task


@pytest.mark.django_db
def test_task_snapshot_reconstructs_each_day_from_history(t01):
    today = timezone.localdate()
    for offset in (6, 3, 0):
        snapshot_build(today - datetime.timedelta(days=offset))
    before = snap(today - datetime.timedelta(days=6), "task", "T01")
    assert (before.not_started, before.on_track, before.green) == (3, 0, 0)
    assert before.status == DisplayStatus.NOT_STARTED
    middle = snap(today - datetime.timedelta(days=3), "task", "T01")
    assert (middle.not_started, middle.on_track, middle.green) == (2, 1, 0)
    assert middle.status == DisplayStatus.ON_TRACK
    now = snap(today, "task", "T01")
    assert (now.completed_on_time, now.not_started, now.green, now.assignments) == (1, 2, 1, 3)


@pytest.mark.django_db
def test_task_is_completed_only_when_every_assignment_is(t01, agency_officer):
    today = timezone.localdate()
    for assignment in t01.assignments.exclude(agency__code="BCA"):
        history(assignment, agency_officer, at(today), "completed", 100, completed_on=today)
    snapshot_build(today)
    assert snap(today, "task", "T01").status == DisplayStatus.COMPLETED_ON_TIME


@pytest.mark.django_db
def test_past_deadline_open_tasks_are_overdue_and_counted_by_phase_group_and_agency():
    today = timezone.localdate()
    snapshot_build(today)
    urgent = snap(today, "phase", "urgent")
    n_urgent = Task.objects.filter(phase__code="urgent").count()
    assert urgent.overdue == n_urgent  # every demo deadline is in 2025 and nothing is done
    assert urgent.assignments == Assignment.objects.filter(task__phase__code="urgent").count()
    assert sum(s.overdue for s in TaskSnapshot.objects.filter(date=today, dimension="group")) == 67
    assert snap(today, "agency", "BCA").overdue == Task.objects.filter(lead_agency__code="BCA").count()


@pytest.mark.django_db
def test_province_slices_count_the_share_of_green_communes(commune_clerk):
    today = timezone.localdate()
    task = Task.objects.filter(level="commune").order_by("code").first()
    assignment = task.assignments.get(commune_id="00004")
    history(assignment, commune_clerk, at(today), "completed", 100, completed_on=today)
    snapshot_build(today)
    hanoi = snap(today, "province", "01")
    assert hanoi.commune_green == 1
    assert hanoi.commune_total == 126 * Task.objects.filter(level="commune").count()
    per_task = snap(today, "province_task", f"01:{task.code}")
    assert (per_task.green, per_task.assignments) == (1, 126)
    assert snap(today, "province", "79").commune_green == 0


@pytest.mark.django_db
def test_rebuilding_a_day_replaces_its_rows():
    today = timezone.localdate()
    first = snapshot_build(today)
    assert snapshot_build(today) == first
    assert TaskSnapshot.objects.filter(date=today).count() == first


@pytest.mark.django_db
def test_an_assignment_update_refreshes_todays_snapshot_after_commit(
    agency_officer, django_capture_on_commit_callbacks
):
    from tasks.services import assignment_update

    today = timezone.localdate()
    snapshot_build(today)
    assert snap(today, "task", "T01").on_track == 0
    Task.objects.filter(code="T01").update(deadline=today + datetime.timedelta(days=5))
    assignment = Assignment.objects.select_related("task").get(task__code="T01", agency__code="BCA")
    before = dashboard_cache.generation()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assignment_update(assignment=assignment, actor=agency_officer, version=1, status="in_progress", progress=20)
    # The snapshot's job; the rebuild renews the dashboards' cache generation inside its own transaction.
    assert [c.__qualname__ for c in callbacks] == ["assignments_changed_after_commit.<locals>.<lambda>"]
    assert dashboard_cache.generation() != before
    assert snap(today, "task", "T01").on_track == 1
