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
