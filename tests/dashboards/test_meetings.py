"""Meetings: frozen as of a day by steering members and the admin, read by inspectors, never changed by what
happens afterwards, compared with an earlier one."""

import copy
import datetime

import pytest
from django.db import connection
from django.utils import timezone

from core.models import AppendOnlyError
from dashboards.meetings import meeting_changes, meeting_create
from dashboards.models import Meeting
from reports import services as report_services
from tasks.models import Assignment
from tasks.scoping import scope_for_user
from tasks.services import assignment_update
from tests.dashboards.test_dashboards import seed
from tests.reports.helpers import payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def day():
    _start, end = seed(2)
    return end


def test_steering_freezes_a_meeting_through_the_api(client, steering, day):
    client.force_login(steering)
    response = client.post(
        "/api/v1/meetings/", {"title": "Phiên họp tháng", "date": day.isoformat()}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert {"id", "title", "date", "created_by", "created_at", "content"} <= set(body)
    assert body["created_by"] == steering.username and body["date"] == day.isoformat()
    content = body["content"]
    assert {p["code"] for p in content["phases"]} == {"urgent", "breakthrough"}
    assert len(content["ranking"]) == 34 and len(content["targets"]) == 9
    assert content["not_reporting"]["expected"] == 3355
    assert content["catalogue"] == "demo"
    assert client.get(f"/api/v1/meetings/{body['id']}/").json() == body


@pytest.mark.parametrize(
    ("payload_", "field", "code"),
    [
        ({"title": "x", "date": "2999-01-01"}, "date", "date_in_future"),
        ({"title": "x", "date": "2025-02-30"}, "date", "invalid_date"),
        ({"title": "x", "date": "2020-01-01"}, "date", "date_too_early"),
        ({"title": "", "date": "2025-09-01"}, "title", "required"),
        ({"title": "x" * 201, "date": "2025-09-01"}, "title", "max_length"),
        ({"title": "x", "date": "2025-09-01", "extra": 1}, "extra", "unknown_field"),
    ],
)
def test_bad_meetings_are_a_400_naming_the_field(client, steering, payload_, field, code):
    client.force_login(steering)
    response = client.post("/api/v1/meetings/", payload_, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][field][0]["code"] == code
    assert not Meeting.objects.exists()


def test_only_steering_and_the_admin_create_inspectors_read_others_see_nothing(
    client, steering, inspector, admin_user, province_officer, commune_clerk, agency_officer, day
):
    meeting = meeting_create(scope=scope_for_user(steering), actor=steering, title="A", date=day.isoformat())
    client.force_login(admin_user)
    assert (
        client.post(
            "/api/v1/meetings/", {"title": "B", "date": day.isoformat()}, content_type="application/json"
        ).status_code
        == 201
    )
    client.force_login(inspector)
    assert (
        client.post(
            "/api/v1/meetings/", {"title": "C", "date": day.isoformat()}, content_type="application/json"
        ).status_code
        == 403
    )
    assert client.get(f"/api/v1/meetings/{meeting.pk}/").status_code == 200
    assert client.get(f"/dashboard/meetings/{meeting.pk}/").status_code == 200
    for outsider in (province_officer, commune_clerk, agency_officer):
        client.force_login(outsider)
        assert client.get(f"/api/v1/meetings/{meeting.pk}/").status_code == 404
        assert client.get("/api/v1/meetings/").json()["count"] == 0
        assert (
            client.post(
                "/api/v1/meetings/", {"title": "D", "date": day.isoformat()}, content_type="application/json"
            ).status_code
            == 403
        )
        assert client.get(f"/dashboard/meetings/{meeting.pk}/").status_code == 404


def test_a_meeting_never_changes_afterwards(client, steering, commune_clerk, day):
    meeting = meeting_create(scope=scope_for_user(steering), actor=steering, title="Frozen", date=day.isoformat())
    client.force_login(steering)
    before = client.get(f"/api/v1/meetings/{meeting.pk}/").json()
    # Afterwards: an assignment is completed and a report of the meeting's day is corrected.
    assignment = Assignment.objects.select_related("task").get(task__code="T30", commune_id="00004")
    assignment_update(
        assignment=assignment,
        actor=commune_clerk,
        version=assignment.version,
        status="completed",
        progress=100,
        completed_on=timezone.localdate(),
    )
    outcome = report_services.daily_report_correct(
        locality="00004",
        date=day.isoformat(),
        payload=payload(day=day, received_online=999_999),
        reason="typo",
        user=commune_clerk,
    )
    assert outcome.status in ("corrected", "not_found", "locked")
    assert client.get(f"/api/v1/meetings/{meeting.pk}/").json() == before
    with pytest.raises(AppendOnlyError):
        meeting.title = "changed"
        meeting.save()
    with pytest.raises(AppendOnlyError):
        Meeting.objects.filter(pk=meeting.pk).update(title="changed")
    with pytest.raises(AppendOnlyError):
        meeting.delete()


@pytest.mark.services
def test_the_database_refuses_to_change_a_meeting(postgresql, steering, day):
    # The trigger exists on PostgreSQL only (dashboards 0005); SQLite relies on the model's refusal above.
    from django.db import transaction
    from django.db.utils import DatabaseError

    meeting = meeting_create(scope=scope_for_user(steering), actor=steering, title="Frozen", date=day.isoformat())
    with (
        pytest.raises(DatabaseError, match="dashboards_meeting is a record: UPDATE refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE dashboards_meeting SET title = 'x' WHERE id = %s", [meeting.pk])
    meeting.refresh_from_db()
    assert meeting.title == "Frozen"


def _pack(**overrides):
    base = {
        "version": 1,
        "date": "2025-09-01",
        "catalogue": "demo",
        "phases": [
            {
                "code": "urgent",
                "forecast": {"date": "2025-09-10", "risk": "green", "reason": {"vi": "", "en": ""}},
                "agencies": [{"code": "BCA", "forecast": {"date": None, "risk": "amber", "reason": {}}}],
            },
        ],
        "tasks": [
            {
                "code": "T01",
                "title": {"vi": "a", "en": "a"},
                "status": "on_track",
                "forecast": {"date": "2025-09-20", "risk": "green", "reason": {}},
            },
            {
                "code": "T02",
                "title": {"vi": "b", "en": "b"},
                "status": "on_track",
                "forecast": {"date": "2025-09-20", "risk": "green", "reason": {}},
            },
            {
                "code": "T03",
                "title": {"vi": "c", "en": "c"},
                "status": "overdue",
                "forecast": {"date": None, "risk": "red", "reason": {}},
            },
        ],
        "overdue": [{"code": "T03"}],
        "blocked": [{"assignment": 1, "task": "T01"}, {"assignment": 2, "task": "T02"}],
        "targets": [{"code": "fully_online_share", "value": 0.7}, {"code": "e_result_services", "value": None}],
        "ranking": [{"province": "01", "name": "Hà Nội", "rank": 1}, {"province": "79", "name": "HCM", "rank": 2}],
        "not_reporting": {},
    }
    pack = copy.deepcopy(base)
    for key, value in overrides.items():
        pack[key] = value
    return pack


def test_the_comparison_of_a_constructed_pair_lists_exactly_what_changed(steering):
    make = lambda title, day, content: Meeting.objects.create(  # noqa: E731
        title=title, date=day, content=content, created_by=steering, created_at=timezone.now()
    )
    before = make("September", datetime.date(2025, 9, 1), _pack())
    after_pack = _pack(
        date="2025-10-01",
        tasks=[
            {
                "code": "T01",
                "title": {"vi": "a", "en": "a"},
                "status": "completed_on_time",
                "forecast": {"date": None, "risk": "green", "reason": {}},
            },
            {
                "code": "T02",
                "title": {"vi": "b", "en": "b"},
                "status": "overdue",
                "forecast": {"date": None, "risk": "red", "reason": {}},
            },
            {
                "code": "T03",
                "title": {"vi": "c", "en": "c"},
                "status": "overdue",
                "forecast": {"date": None, "risk": "red", "reason": {}},
            },
        ],
        overdue=[{"code": "T02"}, {"code": "T03"}],
        blocked=[{"assignment": 2, "task": "T02"}, {"assignment": 3, "task": "T03"}],
        targets=[{"code": "fully_online_share", "value": 0.82}, {"code": "e_result_services", "value": None}],
        ranking=[{"province": "79", "name": "HCM", "rank": 1}, {"province": "01", "name": "Hà Nội", "rank": 2}],
    )
    after_pack["phases"][0]["forecast"] = {"date": "2025-10-20", "risk": "amber", "reason": {}}
    after = make("October", datetime.date(2025, 10, 1), after_pack)
    changes = meeting_changes(meeting=after, since=before)
    assert [t["task"] for t in changes["completed"]] == ["T01"]
    assert [t["task"] for t in changes["newly_overdue"]] == ["T02"]
    assert [b["assignment"] for b in changes["newly_blocked"]] == [3]
    assert [b["assignment"] for b in changes["unblocked"]] == [1]
    assert {(f["kind"], f["code"]) for f in changes["forecast_slipped"]} == {("phase", "urgent"), ("task", "T02")}
    assert changes["targets"] == [{"code": "fully_online_share", "before": 0.7, "after": 0.82}]
    assert [(p["province"], p["rank_before"], p["rank_after"]) for p in changes["provinces"]] == [
        ("79", 2, 1),
        ("01", 1, 2),
    ]


def test_the_changes_api_and_pages(client, steering, inspector, day):
    first = meeting_create(
        scope=scope_for_user(steering), actor=steering, title="One", date=(day - datetime.timedelta(days=1)).isoformat()
    )
    second = meeting_create(scope=scope_for_user(steering), actor=steering, title="Two", date=day.isoformat())
    client.force_login(inspector)
    body = client.get(f"/api/v1/meetings/{second.pk}/changes/", {"since": first.pk}).json()
    assert set(body) >= {
        "completed",
        "newly_overdue",
        "newly_blocked",
        "unblocked",
        "forecast_slipped",
        "targets",
        "provinces",
    }
    assert client.get(f"/api/v1/meetings/{second.pk}/changes/").status_code == 400
    assert client.get(f"/api/v1/meetings/{second.pk}/changes/", {"since": "999999"}).status_code == 400
    for url in (
        f"/dashboard/meetings/{second.pk}/",
        f"/dashboard/meetings/{second.pk}/changes/?since={first.pk}",
        "/dashboard/meetings/",
    ):
        assert client.get(url).status_code == 200, url
    for url in (
        f"/dashboard/meetings/{second.pk}/?export=xlsx",
        f"/dashboard/meetings/{second.pk}/changes/?since={first.pk}&export=xlsx",
    ):
        response = client.get(url)
        assert response["Content-Type"].startswith("application/vnd.openxmlformats"), url


def test_the_meetings_page_freezes_one_for_steering(client, steering, inspector, day):
    client.force_login(steering)
    response = client.post("/dashboard/meetings/", {"title": "Tháng 12", "date": day.isoformat()})
    assert response.status_code == 302
    assert Meeting.objects.get().title == "Tháng 12"
    bad = client.post("/dashboard/meetings/", {"title": "", "date": "2999-01-01"})
    assert bad.status_code == 400 and 'data-field="date"' in bad.text and 'data-field="title"' in bad.text
    client.force_login(inspector)
    assert 'data-testid="meeting-form"' not in client.get("/dashboard/meetings/").text


def test_an_agency_that_completes_its_share_of_a_task_is_in_the_changes(client, steering, commune_clerk, day):
    """Issue 19, item 5: an agency completes its part of a task that other agencies share; the task is not
    complete, so `completed` stays empty, and `units_completed` names the agency. A commune completing its part
    of a commune-level task moves that task's share of green communes."""
    from django.db.models import Count

    from tasks.roles import Role
    from tests.conftest import make_user

    shared = (
        Assignment.objects.filter(level="central")
        .values("task")
        .annotate(n=Count("pk"))
        .filter(n__gte=2)
        .order_by("task__code")
        .values_list("task__code", flat=True)
    )
    task_code = shared[0]
    mine = (
        Assignment.objects.select_related("agency")
        .filter(task__code=task_code, level="central")
        .exclude(status="completed")
        .order_by("agency__code")
        .first()
    )
    assert mine is not None
    officer = make_user("officer-shared", Role.AGENCY_OFFICER, agency=mine.agency.code)
    first = meeting_create(scope=scope_for_user(steering), actor=steering, title="One", date=day.isoformat())
    today = timezone.localdate()
    assignment_update(
        assignment=mine, actor=officer, version=mine.version, status="completed", progress=100, completed_on=today
    )
    commune = Assignment.objects.get(task__code="T30", commune_id="00004")
    assignment_update(
        assignment=commune,
        actor=commune_clerk,
        version=commune.version,
        status="completed",
        progress=100,
        completed_on=today,
    )
    second = meeting_create(scope=scope_for_user(steering), actor=steering, title="Two", date=today.isoformat())
    changes = meeting_changes(meeting=second, since=first)
    assert task_code not in [t["task"] for t in changes["completed"]]
    assert changes["units_completed"] == [
        {"task": task_code, "unit": mine.agency.code, "level": "central", "completed_on": today.isoformat()}
    ]
    moved = {g["task"]: g for g in changes["green_share"]}
    assert set(moved) == {"T30"}
    total = Assignment.objects.filter(task__code="T30").count()
    assert moved["T30"]["after"] == pytest.approx(moved["T30"]["before"] + 1 / total, abs=1e-4)
    # The same in the API, on the page and in the XLSX.
    client.force_login(steering)
    body = client.get(f"/api/v1/meetings/{second.pk}/changes/", {"since": first.pk}).json()
    assert body["units_completed"] == changes["units_completed"] and body["green_share"] == changes["green_share"]
    page = client.get(f"/dashboard/meetings/{second.pk}/changes/", {"since": first.pk}).text
    assert f"<td>{task_code}</td><td>{mine.agency.code}</td>" in page
    from io import BytesIO

    from openpyxl import load_workbook

    response = client.get(f"/dashboard/meetings/{second.pk}/changes/", {"since": first.pk, "export": "xlsx"})
    book = load_workbook(BytesIO(b"".join(response.streaming_content) if response.streaming else response.content))
    units = [row for row in book.worksheets[-2].iter_rows(values_only=True) if row and row[0] == task_code]
    assert [(r[0], r[2]) for r in units] == [(task_code, mine.agency.code)]
    green = [row for row in book.worksheets[-1].iter_rows(values_only=True) if row and row[0] == "T30"]
    assert len(green) == 1


def test_a_pack_frozen_before_units_done_were_kept_replays_them_from_history(steering, agency_officer, day):
    """A version-1 pack has no units_done nor task levels: the comparison replays and looks them up, and
    finds what a version-2 pack of the same day holds."""
    from dashboards.meetings import _green_shares, _pack_units_done

    mine = Assignment.objects.filter(level="central", agency__code="BCA").exclude(status="completed").first()
    today = timezone.localdate()
    assignment_update(
        assignment=mine,
        actor=agency_officer,
        version=mine.version,
        status="completed",
        progress=100,
        completed_on=today,
    )
    pack = meeting_create(scope=scope_for_user(steering), actor=steering, title="One", date=today.isoformat()).content
    old = copy.deepcopy(pack)
    del old["units_done"]
    for t in old["tasks"]:
        del t["level"]
    assert {"task": mine.task.code, "unit": "BCA", "level": "central", "completed_on": today.isoformat()} in (
        pack["units_done"]
    )
    assert _pack_units_done(old) == pack["units_done"]
    commune_tasks = set(Assignment.objects.filter(level="commune").values_list("task__code", flat=True))
    assert commune_tasks and set(_green_shares(pack, set())) == commune_tasks
    assert _green_shares(old, commune_tasks) == _green_shares(pack, set())
