"""The plan's whole cast of actors (DESIGN.md §13): the widened agency list, each agency with its kind and the
source of its name, and tasks carried out by every ministry (`all_ministries`)."""

import json

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import translation

from tasks.models import ALL_MINISTRIES_KINDS, Agency, Assignment, Level, Task, TaskLevel
from tests.tasks.test_catalogue_import import GOOD_ROW, write_csv

REFERENCE = json.loads((settings.BASE_DIR / "fixtures" / "reference.json").read_text(encoding="utf-8"))
# The documents of DOMAIN.md an agency's name may come from; anything else is "demo".
SOURCES = {"Thông báo 315/TB-VPCP (23/6/2025)", "Công văn 15662-CV/VPTW (26/6/2025)", "demo"}


@pytest.mark.django_db
def test_the_agency_list_covers_the_political_system_each_with_kind_and_source():
    kinds = set(Agency.objects.values_list("kind", flat=True))
    assert kinds == set(Agency.Kind.values)
    assert Agency.objects.count() == len(REFERENCE["agencies"]) > 11
    assert set(Agency.objects.values_list("source", flat=True)) <= SOURCES
    # Named by Notice 315/TB-VPCP; the ministries DOMAIN.md does not name stay demo.
    assert Agency.objects.get(code="BCA").source.startswith("Thông báo 315/TB-VPCP")
    assert Agency.objects.get(code="BYT").is_demo
    assert {"UBKTTW", "VPQH", "MTTQ", "TANDTC", "VKSNDTC"} <= set(Agency.objects.values_list("code", flat=True))


@pytest.mark.django_db
def test_the_agency_api_shows_kind_and_source_and_filters_by_them(api_for, steering):
    steering_api = api_for(user=steering)
    body = steering_api.get("/api/v1/agencies/", {"kind": "ministry_level"}).json()
    codes = {row["code"] for row in body["results"]}
    assert codes == set(Agency.objects.filter(kind="ministry_level").values_list("code", flat=True))
    bca = steering_api.get("/api/v1/agencies/BCA/").json()
    assert bca["kind"] == "ministry" and bca["source"] == "Thông báo 315/TB-VPCP (23/6/2025)"
    demo = steering_api.get("/api/v1/agencies/", {"source": "demo", "page_size": 100}).json()
    assert "BYT" in {row["code"] for row in demo["results"]} and "BCA" not in {row["code"] for row in demo["results"]}


@pytest.mark.django_db
def test_an_all_ministries_task_is_assigned_to_every_ministry_and_its_lead(tmp_path):
    row = {**GOOD_ROW, "code": "M01", "level": "all_ministries", "lead_agency": "VPCP", "coordinating_agencies": "MTTQ"}
    call_command("import_tasks", str(write_csv(tmp_path / "c.csv", [row])), "--apply")
    task = Task.objects.get(code="M01")
    assert task.level == TaskLevel.ALL_MINISTRIES
    ministries = set(Agency.objects.filter(kind__in=ALL_MINISTRIES_KINDS).values_list("code", flat=True))
    assert len(ministries) >= 14
    assigned = Assignment.objects.filter(task=task)
    assert set(assigned.values_list("agency__code", flat=True)) == ministries | {"VPCP", "MTTQ"}
    # Each ministry's part is a central assignment: its officers update it, the dashboards count it as one.
    assert set(assigned.values_list("level", flat=True)) == {Level.CENTRAL}
    # Importing the same file again changes nothing.
    call_command("import_tasks", str(write_csv(tmp_path / "c.csv", [row])), "--apply")
    assert Assignment.objects.filter(task=task).count() == len(ministries) + 2


@pytest.mark.django_db
def test_an_unknown_level_names_the_levels_including_all_ministries(tmp_path, capsys):
    row = {**GOOD_ROW, "level": "ministries"}
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_tasks", str(write_csv(tmp_path / "c.csv", [row])), "--apply")
    assert "expected one of central, all_ministries, province, commune" in capsys.readouterr().err


@pytest.mark.django_db
def test_the_agencies_page_lists_every_agency_with_its_kind_and_source(client, steering):
    client.force_login(steering)
    with translation.override("en"):
        html = client.get("/dashboard/agencies/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    listed = html.split('data-testid="agency-list"')[1]
    for agency in Agency.objects.all():
        assert agency.name_vi in listed or agency.name_en in listed
    assert "Thông báo 315/TB-VPCP (23/6/2025)" in listed
    assert listed.count("data-demo") == Agency.objects.filter(source="demo").count()


@pytest.mark.django_db
def test_the_demo_shows_working_groups_an_all_ministries_task_and_blockers_of_every_kind():
    from tasks.demo import DEMO_ALL_MINISTRIES_TASK, demo_actors_ensure, demo_users_ensure
    from tasks.models import Membership, WorkingGroup

    demo_users_ensure(password="pw-" + "x" * 12)
    for _ in range(2):  # idempotent
        demo_actors_ensure(write=lambda line: None)
    assert all(group.members.exists() for group in WorkingGroup.objects.all())
    assert Membership.objects.get(user__username="steering").working_group.number == 4
    task = Task.objects.get(code=DEMO_ALL_MINISTRIES_TASK)
    assert task.level == TaskLevel.ALL_MINISTRIES and not task.is_official
    assert task.assignments.count() >= Agency.objects.filter(kind__in=ALL_MINISTRIES_KINDS).count()
    by_province = Assignment.objects.get(blocked_by_province_id="01")
    assert (by_province.task.code, by_province.agency.code, by_province.status) == ("M01", "BCA", "blocked")
    by_system = Assignment.objects.exclude(blocked_by_system="").get()
    assert (by_system.province_id, by_system.blocked_by_system) == ("01", "population_db")
    assert by_system.updates.count() == 1  # through the workflow service: with its history row
