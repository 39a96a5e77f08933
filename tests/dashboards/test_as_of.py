"""Every view as of a day: the state at the end of day D, rebuilt from the append-only history, checked
against an independent replay of that history (plain Python over the StatusUpdate rows)."""

import datetime
from collections import defaultdict

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.dates import end_of_day
from dashboards import selectors
from dashboards.models import Dimension, TaskSnapshot
from dashboards.snapshots import snapshot_build, snapshot_ensure, snapshot_rows
from tasks.demo import seed_task_history
from tasks.models import Assignment, StatusUpdate, Task
from tasks.scoping import scope_for_user
from tasks.selectors import commune_green_shares, task_rollups

pytestmark = pytest.mark.django_db

DAY = datetime.date(2025, 9, 15)


@pytest.fixture(scope="module")
def history(django_db_setup, django_db_blocker):
    """The demo history of every assignment up to yesterday, once for the module (rolled back after it)."""
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            seed_task_history(end=timezone.localdate() - datetime.timedelta(days=1), seed=7)
            yield
            transaction.set_rollback(True)


def replay(day):
    """{assignment id: (status, progress)} at the end of `day`: the last history row written before the
    midnight that ends it; no row means not started."""
    cutoff = end_of_day(day)
    state = {}
    rows = StatusUpdate.objects.filter(created_at__lt=cutoff).order_by("created_at", "version")
    for assignment_id, status, progress in rows.values_list("assignment_id", "new_status", "new_progress"):
        state[assignment_id] = (status, progress)
    return state


def expected(day):
    """Per task: (assignments, green); per phase: (tasks, sum of green shares); per province: commune-level
    (green, total) — from the replay alone."""
    state = replay(day)
    per_task = defaultdict(lambda: [0, 0])
    province_communes = defaultdict(lambda: [0, 0])
    for pk, task_id, level, province_id in Assignment.objects.values_list("pk", "task_id", "level", "province_id"):
        green = state.get(pk, ("not_started", 0))[0] == "completed"
        per_task[task_id][0] += 1
        per_task[task_id][1] += green
        if level == "commune":
            province_communes[province_id][0] += green
            province_communes[province_id][1] += 1
    tasks = {t.pk: t for t in Task.objects.select_related("phase")}
    phases = defaultdict(lambda: [0, 0.0])
    for task_id, (total, green) in per_task.items():
        phases[tasks[task_id].phase.code][0] += 1
        phases[tasks[task_id].phase.code][1] += green / total
    return {tasks[k].code: tuple(v) for k, v in per_task.items()}, dict(phases), dict(province_communes)


def test_snapshots_of_a_past_day_match_an_independent_replay(history):
    tasks, phases, communes = expected(DAY)
    rows = {(r.dimension, r.key): r for r in snapshot_rows(DAY)}
    assert {code: (rows[("task", code)].assignments, rows[("task", code)].green) for code in tasks} == tasks
    for code, (n, done) in phases.items():
        assert rows[("phase", code)].tasks == n
        assert rows[("phase", code)].done == pytest.approx(done)
    for province, (green, total) in communes.items():
        assert (rows[("province", province)].commune_green, rows[("province", province)].commune_total) == (
            green,
            total,
        )


def test_the_task_pages_as_of_a_day_match_the_replay(history, steering):
    tasks, _phases, _communes = expected(DAY)
    scope = scope_for_user(steering)
    by_code = dict(Task.objects.values_list("code", "pk"))
    rollups = task_rollups(scope=scope, task_ids=by_code.values(), today=timezone.localdate(), as_of=DAY)
    assert {code: (rollups[pk].total, rollups[pk].green) for code, pk in by_code.items()} == tasks
    t30 = Task.objects.get(code="T30")
    nation, _provinces = commune_green_shares(scope=scope, task=t30, today=timezone.localdate(), as_of=DAY)
    assert (nation.total, nation.green) == tasks["T30"]


def test_the_phase_json_as_of_a_day_matches_the_replay(history, client, steering):
    _tasks, phases, _communes = expected(DAY)
    client.force_login(steering)
    body = client.get("/api/v1/dashboard/phases/", {"date": DAY.isoformat()}).json()
    assert {p["code"] for p in body} == set(phases)
    for item in body:
        assert item["date"] == DAY.isoformat() and item["as_of"]
        assert sum(item["tasks"].values()) == phases[item["code"]][0]
        assert item["days_left"] == (datetime.date.fromisoformat(item["deadline"]) - DAY).days
    later = client.get("/api/v1/dashboard/phases/", {"date": (DAY + datetime.timedelta(days=60)).isoformat()}).json()
    assert later != body


def test_a_snapshot_built_before_its_day_ended_is_rebuilt_for_an_as_of_view(history):
    snapshot_build(DAY)
    TaskSnapshot.objects.filter(date=DAY).update(built_at=end_of_day(DAY) - datetime.timedelta(hours=3), green=0)
    assert snapshot_ensure([DAY]) == [DAY]  # provisional: rebuilt
    assert TaskSnapshot.objects.filter(date=DAY, dimension=Dimension.TASK, green__gt=0).exists()
    assert snapshot_ensure([DAY]) == []  # final now: kept


@pytest.mark.parametrize("value", ["2025-13-01", "0001-01-01", "2999-01-01", "yesterday"])
def test_a_bad_or_future_date_is_a_400(client, steering, value):
    client.force_login(steering)
    for url in ("/api/v1/dashboard/phases/", "/api/v1/dashboard/national/", "/api/v1/dashboard/provinces/"):
        response = client.get(url, {"date": value})
        assert response.status_code == 400, url
        assert "date" in response.json()


def test_as_of_views_run_a_fixed_number_of_queries_whatever_the_history(history, client, steering):
    client.force_login(steering)
    snapshot_ensure([DAY, DAY - datetime.timedelta(days=28)])
    # The page cache learns a path on its first request (from then on a miss reads the generations too).
    assert client.get("/dashboard/phases/", {"date": DAY.isoformat()}).status_code == 200
    counts = []
    for _ in range(2):
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/dashboard/phases/", {"date": DAY.isoformat()}).status_code == 200
        counts.append(len(queries.captured_queries))
        # More history after the day shown changes nothing in its view, nor in its cost.
        snapshot_build(DAY + datetime.timedelta(days=1))
    assert counts[0] == counts[1]
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/tasks/T30/", {"date": DAY.isoformat()}).status_code == 200
    first = len(queries.captured_queries)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/tasks/T30/", {"date": (DAY + datetime.timedelta(days=30)).isoformat()}).status_code == 200
    assert len(queries.captured_queries) == first


def test_the_province_ranking_green_column_follows_the_date(history, client, steering):
    client.force_login(steering)
    from dashboards.snapshots import as_of_ensure

    as_of_ensure(DAY)
    as_of_ensure(timezone.localdate() - datetime.timedelta(days=1))
    early = selectors.provinces(DAY)
    late = selectors.provinces(timezone.localdate() - datetime.timedelta(days=1))
    assert [i["green_share"] for i in early] != [i["green_share"] for i in late]
    _tasks, _phases, communes = expected(DAY)
    for item in early:
        green, total = communes[item["province"].code]
        assert item["green_share"] == pytest.approx(green / total)


def test_the_task_page_as_of_a_day_shows_the_state_of_that_day(history, client, steering):
    client.force_login(steering)
    page = client.get("/tasks/T01/", {"date": DAY.isoformat()})
    assert page.status_code == 200
    assert 'data-testid="as-of-banner"' in page.text
    state = replay(DAY)
    for a in page.context["page"]:
        assert a.status == state.get(a.pk, ("not_started", 0))[0]
        assert a.may_update is False
    history_rows = page.context["history"]
    assert all(row.created_at < end_of_day(DAY) for row in history_rows)
