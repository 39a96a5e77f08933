"""The steering committee's six working groups (DESIGN.md §13): data, membership, the landing of a member on
the group's view of phases, tasks and meetings (still reading everything), and the API."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from dashboards.models import Meeting
from tasks.models import Assignment, Membership, Role, Task, TaskGroup, WorkingGroup
from tests.conftest import make_user

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def member(db):
    """A steering member of working group 2 (digital infrastructure; task groups 2 and 8)."""
    user = make_user("steering-wg2", Role.STEERING)
    Membership.objects.filter(user=user).update(working_group=WorkingGroup.objects.get(number=2))
    return user


def group_2_codes():
    return set(Task.objects.filter(group__number__in=(2, 8)).values_list("code", flat=True))


def test_six_working_groups_follow_the_eight_task_groups_and_say_they_are_demo():
    groups = list(WorkingGroup.objects.prefetch_related("task_groups"))
    assert [g.number for g in groups] == [1, 2, 3, 4, 5, 6]
    followed = [t.number for g in groups for t in g.task_groups.all()]
    assert sorted(followed) == [t.number for t in TaskGroup.objects.all()] == list(range(1, 9))
    assert all(g.is_demo for g in groups)


def test_only_a_steering_member_belongs_to_a_working_group(agency_officer, steering):
    group = WorkingGroup.objects.get(number=1)
    Membership.objects.filter(user=steering).update(working_group=group)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(user=agency_officer).update(working_group=group)


def test_a_member_lands_on_the_groups_tasks_and_can_switch_to_all(client, member):
    client.force_login(member)
    response = client.get("/tasks/", {"phase": "urgent"}, **EN)
    assert response.status_code == 302
    assert response["Location"] == "/tasks/?phase=urgent&working_group=2"
    page = client.get(response["Location"], **EN)
    codes = {task.code for task, _rollup in page.context["rows"]}
    assert codes and codes <= group_2_codes()
    html = page.content.decode()
    assert 'data-testid="working-group-switch"' in html and "Working group view" in html
    # The switch to every group: an empty parameter, no redirect.
    everything = client.get("/tasks/", {"working_group": ""}, **EN)
    assert everything.status_code == 200
    assert everything.context["page"].paginator.count == Task.objects.count()


def test_a_member_still_reads_everything(client, member):
    client.force_login(member)
    elsewhere = Assignment.objects.filter(task__group__number=1).first()
    assert client.get(f"/tasks/assignments/{elsewhere.pk}/", **EN).status_code == 200
    assert client.get(f"/tasks/{elsewhere.task.code}/", **EN).status_code == 200


def test_a_steering_member_without_a_group_and_other_roles_are_not_redirected(client, steering, province_officer):
    for user in (steering, province_officer):
        client.force_login(user)
        assert client.get("/tasks/", **EN).status_code == 200
        assert client.get("/dashboard/phases/", **EN).status_code == 200


def test_the_phase_dashboard_shows_the_groups_tasks_and_breakdown(client, member):
    client.force_login(member)
    response = client.get("/dashboard/phases/", **EN)
    assert response.status_code == 302 and response["Location"] == "/dashboard/phases/?working_group=2"
    html = client.get(response["Location"], **EN).content.decode()
    assert 'data-testid="working-group-switch"' in html
    shown = {code for code in Task.objects.values_list("code", flat=True) if f">{code}<" in html or f"/{code}/" in html}
    assert shown and shown <= group_2_codes()
    everything = client.get("/dashboard/phases/", {"working_group": ""}, **EN).content.decode()
    assert "/tasks/T01/" in everything and "/tasks/T01/" not in html


def test_a_bad_working_group_is_named_on_the_page_and_refused_by_the_api(client, member):
    client.force_login(member)
    html = client.get("/dashboard/phases/", {"working_group": "9"}, **EN).content.decode()
    assert "working_group: &#x27;9&#x27; is not a working group" in html
    response = client.get("/api/v1/tasks/", {"working_group": "9"}, **EN)
    assert response.status_code == 400 and "working_group" in response.json()


def test_a_meeting_opens_on_the_groups_overdue_and_blocked(client, member):
    content = {
        "catalogue": "demo",
        "overdue": [{"code": "T01", "title": {"vi": "a", "en": "a"}}, {"code": "T11", "title": {"vi": "b", "en": "b"}}],
        "blocked": [{"task": "T01", "unit": "BCA"}, {"task": "T11", "unit": "BTC"}],
    }
    meeting = Meeting.objects.create(
        title="M", date=datetime.date(2025, 9, 1), content=content, created_by=member, created_at=timezone.now()
    )
    client.force_login(member)
    response = client.get(f"/dashboard/meetings/{meeting.pk}/", **EN)
    assert response.status_code == 302
    page = client.get(response["Location"], **EN)
    assert [t["code"] for t in page.context["c"]["overdue"]] == ["T11"]
    assert [b["task"] for b in page.context["c"]["blocked"]] == ["T11"]
    everything = client.get(f"/dashboard/meetings/{meeting.pk}/", {"working_group": ""}, **EN)
    assert len(everything.context["c"]["overdue"]) == 2
    assert Meeting.objects.get(pk=meeting.pk).content == content  # the frozen pack itself is untouched


def test_the_api_lists_the_groups_and_filters_tasks_and_assignments(api_for, steering):
    api = api_for(user=steering)
    body = api.get("/api/v1/working-groups/").json()
    assert [g["number"] for g in body["results"]] == [1, 2, 3, 4, 5, 6]
    assert api.get("/api/v1/working-groups/2/").json()["task_groups"] == [2, 8]
    tasks = api.get("/api/v1/tasks/", {"working_group": 2, "page_size": 100}).json()
    assert {t["code"] for t in tasks["results"]} == group_2_codes()
    assignments = api.get("/api/v1/assignments/", {"working_group": 2, "level": "central"}).json()
    assert assignments["count"] == Assignment.objects.filter(task__group__number__in=(2, 8), level="central").count()


def test_the_home_page_says_where_a_member_lands(client, member, steering):
    client.force_login(member)
    html = client.get("/", **EN).content.decode()
    assert 'data-testid="home-working-group"' in html and "/dashboard/phases/?working_group=2" in html
    client.force_login(steering)
    assert 'data-testid="home-working-group"' not in client.get("/", **EN).content.decode()


# --- the working group's view of the phases' JSON, a meeting's comparison and the exports -------------------------


def test_the_phases_api_counts_the_groups_tasks_only(api_for, steering, client):
    from dashboards.snapshots import snapshot_build

    snapshot_build(timezone.localdate())
    api = api_for(user=steering)
    whole = {p["code"]: p for p in api.get("/api/v1/dashboard/phases/").json()}
    answer = api.get("/api/v1/dashboard/phases/", {"working_group": 2})
    assert answer.status_code == 200, answer.content
    viewed = {p["code"]: p for p in answer.json()}
    assert viewed.keys() == whole.keys()
    for code, phase in viewed.items():
        # Each task is counted once, by its rolled-up status: the counts add up to the group's tasks of the phase.
        expected = Task.objects.filter(phase__code=code, group__number__in=(2, 8)).count()
        assert sum(phase["tasks"].values()) == expected, code
        assert sum(whole[code]["tasks"].values()) == Task.objects.filter(phase__code=code).count()
    assert any(sum(viewed[c]["tasks"].values()) < sum(whole[c]["tasks"].values()) for c in viewed)
    # An empty value is every group's view.
    assert {p["code"]: p["tasks"] for p in api.get("/api/v1/dashboard/phases/", {"working_group": ""}).json()} == {
        c: p["tasks"] for c, p in whole.items()
    }


@pytest.mark.parametrize("value", ["9", "two", "0"])
def test_an_unknown_working_group_is_a_400_naming_it_in_the_phases_and_changes_apis(api_for, steering, value):
    meeting = pack_meeting(steering)
    api = api_for(user=steering)
    for url, params in (
        ("/api/v1/dashboard/phases/", {}),
        (f"/api/v1/meetings/{meeting.pk}/changes/", {"since": meeting.pk}),
    ):
        answer = api.get(url, {**params, "working_group": value})
        assert answer.status_code == 400, (url, answer.content)
        assert "working_group" in answer.content.decode()


def test_the_schema_documents_the_working_group_parameter(client, steering):
    client.force_login(steering)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for path in ("/api/v1/dashboard/phases/", "/api/v1/meetings/{id}/changes/"):
        assert "working_group" in {p["name"] for p in schema["paths"][path]["get"]["parameters"]}, path


def pack(day, *, done=(), overdue=(), blocked=()):
    """A frozen pack with T01 (task group 1) and T11 (task group 2): `done` completed, `overdue` late, `blocked`
    blocked (one assignment each), and the units' parts of those done."""
    forecast = {"date": None, "risk": "green", "reason": ""}
    return {
        "date": day,
        "catalogue": "demo",
        "tasks": [
            {
                "code": code,
                "title": {"vi": code, "en": code},
                "status": "completed_on_time" if code in done else "on_track",
                "forecast": forecast,
            }
            for code in ("T01", "T11")
        ],
        "overdue": [
            {
                "code": c,
                "title": {"vi": c, "en": c},
                "lead_agency": "BCA",
                "deadline": day,
                "overdue": 1,
                "green": 0,
                "assignments": 1,
            }
            for c in overdue
        ],
        "blocked": [
            {
                "assignment": n,
                "task": c,
                "unit": "BCA",
                "unit_name": "BCA",
                "province": "",
                "blocked_by": "BTC",
                "since": day,
                "days": 1,
                "reason": "r",
            }
            for n, c in enumerate(blocked)
        ],
        "units_done": [{"task": c, "unit": "BCA", "level": "central", "completed_on": day} for c in done],
        "phases": [],
        "targets": [],
        "ranking": [],
        "not_reporting": {"provinces": []},
    }


def pack_meeting(user, content=None, day=datetime.date(2025, 9, 1)):
    return Meeting.objects.create(
        title=f"M {day}",
        date=day,
        content=content or pack(day.isoformat()),
        created_by=user,
        created_at=timezone.now(),
    )


@pytest.fixture
def two_meetings(member):
    both = ("T01", "T11")
    first = pack_meeting(member, pack("2025-09-01"), datetime.date(2025, 9, 1))
    second = pack_meeting(member, pack("2025-09-15", done=both, overdue=both, blocked=both), datetime.date(2025, 9, 15))
    return first, second


def test_a_meetings_changes_in_a_groups_view_list_its_tasks_only(api_for, member, two_meetings):
    first, second = two_meetings
    api = api_for(user=member)
    url = f"/api/v1/meetings/{second.pk}/changes/"
    everything = api.get(url, {"since": first.pk}).json()
    assert [t["task"] for t in everything["completed"]] == ["T01", "T11"]
    viewed = api.get(url, {"since": first.pk, "working_group": 2}).json()
    lists = ("completed", "newly_overdue", "newly_blocked", "units_completed")
    assert {key: [item["task"] for item in viewed[key]] for key in lists} == {key: ["T11"] for key in lists}


def test_the_comparison_page_lands_on_the_group_and_its_export_follows(client, member, two_meetings):
    import io

    from openpyxl import load_workbook

    first, second = two_meetings
    client.force_login(member)
    url = f"/dashboard/meetings/{second.pk}/changes/"
    response = client.get(url, {"since": first.pk}, **EN)
    assert response.status_code == 302 and response["Location"] == f"{url}?since={first.pk}&working_group=2"
    page = client.get(response["Location"], **EN)
    assert [t["task"] for t in page.context["changes"]["completed"]] == ["T11"]
    html = page.content.decode()
    assert 'data-testid="working-group-switch"' in html and "export=xlsx&amp;working_group=2" in html
    export = client.get(url, {"since": first.pk, "export": "xlsx", "working_group": 2}, **EN)
    assert export.status_code == 200 and "-wg2.xlsx" in export["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(export.content), read_only=True).worksheets[0]
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert "T11" in cells and "T01" not in cells
    assert any("Working group 2's view" in str(c) for c in cells)
    # Every group's view, asked for: both tasks, no redirect.
    everything = client.get(url, {"since": first.pk, "working_group": ""}, **EN)
    assert [t["task"] for t in everything.context["changes"]["completed"]] == ["T01", "T11"]


def test_a_meetings_export_follows_the_view_it_is_asked_for(client, member, two_meetings):
    import io

    from openpyxl import load_workbook

    _first, second = two_meetings
    client.force_login(member)
    page = client.get(f"/dashboard/meetings/{second.pk}/", {"working_group": 2}, **EN).content.decode()
    assert "?export=xlsx&amp;working_group=2" in page and "?export=pdf&amp;working_group=2" in page

    def overdue_sheet(**params):
        export = client.get(f"/dashboard/meetings/{second.pk}/", {"export": "xlsx", **params}, **EN)
        book = load_workbook(io.BytesIO(export.content), read_only=True)
        sheet = next(s for s in book.worksheets if s.title == "Overdue tasks")
        return {row[0] for row in sheet.iter_rows(values_only=True)} & {"T01", "T11"}

    assert overdue_sheet(working_group=2) == {"T11"}
    assert overdue_sheet() == {"T01", "T11"}  # no view asked for: the whole pack
    assert Meeting.objects.get(pk=second.pk).content["overdue"][0]["code"] == "T01"  # the pack is untouched
