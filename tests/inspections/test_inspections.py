"""Inspections (DESIGN.md §13): inspectors record, inspected units read their own, bad input is named by field,
and the follow-up items take the assignments' workflow (the same service: history, 409 on a stale version)."""

import datetime
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from inspections.models import Finding, FollowUp, FollowUpUpdate, Inspection
from inspections.services import followup_update
from tasks.services import StaleVersion

URL = "/api/v1/inspections/"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def today():
    return timezone.localdate()


def post_json(client, url, body):
    return client.post(url, body, content_type="application/json", **EN)


@pytest.fixture
def inspection(inspector):
    inspection = Inspection.objects.create(
        title="Hà Nội, June", starts_on=today() - datetime.timedelta(days=5), ends_on=today(), inspector=inspector
    )
    inspection.provinces.set(["01"])
    inspection.communes.set(["00004"])
    return inspection


def finding_body(**change):
    return {
        "unit": "00004",
        "visited_on": today().isoformat(),
        "text": "The one-stop desk has no scanner.",
        "severity": "high",
        "recommendation": "Buy a scanner.",
        "deadline": (today() + datetime.timedelta(days=30)).isoformat(),
        **change,
    }


def test_an_inspector_records_an_inspection_and_findings(client, inspector):
    client.force_login(inspector)
    body = {
        "title": "Hà Nội",
        "starts_on": today().isoformat(),
        "ends_on": today().isoformat(),
        "provinces": ["01"],
        "communes": ["00004"],
        "tasks": ["T30"],
    }
    created = post_json(client, URL, body)
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    finding = post_json(client, f"{URL}{pk}/findings/", finding_body())
    assert finding.status_code == 201, finding.content
    assert finding.json()["unit"] == {"kind": "commune", "code": "00004", "name": finding.json()["unit"]["name"]}
    followup = FollowUp.objects.get(finding_id=finding.json()["id"])
    assert (followup.commune_id, followup.province_id, followup.status) == ("00004", "01", "not_started")


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"unit": "00008"}, "unit", "outside_scope"),  # Ngọc Hà: not named by the inspection
        ({"unit": "79"}, "unit", "outside_scope"),
        ({"unit": "BCA"}, "unit", "outside_scope"),
        ({"unit": "NOPE"}, "unit", "unknown"),
        ({"visited_on": "2020-01-01"}, "visited_on", "outside_dates"),
        ({"severity": "apocalyptic"}, "severity", "invalid_choice"),
        ({"recommendation": ""}, "recommendation", "blank"),
    ],
)
def test_bad_findings_are_refused_by_field(client, inspector, inspection, change, field, code):
    client.force_login(inspector)
    answer = post_json(client, f"{URL}{inspection.pk}/findings/", finding_body(**change))
    assert answer.status_code == 400, answer.content
    assert answer.json()["errors"][field][0]["code"] == code
    assert not Finding.objects.exists() and not FollowUp.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"provinces": ["99"]}, "provinces", "unknown"),
        ({"provinces": []}, "provinces", "units_required"),
        ({"ends_on": "2020-01-01"}, "ends_on", "before_start"),
        ({"tasks": ["T999"]}, "tasks", "unknown"),
    ],
)
def test_bad_inspections_are_refused_by_field(client, inspector, change, field, code):
    client.force_login(inspector)
    body = {"title": "x", "starts_on": today().isoformat(), "ends_on": today().isoformat(), "provinces": ["01"]}
    answer = post_json(client, URL, {**body, **change})
    assert answer.status_code == 400, answer.content
    assert answer.json()["errors"][field][0]["code"] == code


def test_only_inspectors_write(client, steering, province_officer, admin_user, inspection):
    for user in (steering, province_officer, admin_user):
        client.force_login(user)
        body = {"title": "x", "starts_on": "2025-01-01", "ends_on": "2025-01-02", "provinces": ["01"]}
        assert post_json(client, URL, body).status_code == 403
        assert post_json(client, f"{URL}{inspection.pk}/findings/", finding_body()).status_code == 403


@pytest.mark.parametrize(
    ("who", "sees_inspection", "findings"),
    [
        ("inspector", True, 2),
        ("steering", True, 2),
        ("province_officer", True, 2),  # its own finding and its commune's
        ("commune_clerk", True, 1),
        ("other_commune_clerk", False, 0),
        ("outsider_province_officer", False, 0),
        ("agency_officer", False, 0),
    ],
)
def test_inspections_and_findings_are_scoped(request, client, inspector, inspection, who, sees_inspection, findings):
    client.force_login(inspector)
    post_json(client, f"{URL}{inspection.pk}/findings/", finding_body())
    post_json(client, f"{URL}{inspection.pk}/findings/", finding_body(unit="01"))
    client.force_login(request.getfixturevalue(who))
    listed = [i["id"] for i in client.get(URL, **EN).json()["results"]]
    assert listed == ([inspection.pk] if sees_inspection else [])
    answer = client.get(f"{URL}{inspection.pk}/findings/", **EN)
    if sees_inspection:
        assert len(answer.json()["results"]) == findings
    else:
        assert answer.status_code == 404


def test_followups_take_the_assignments_workflow(client, inspector, commune_clerk, steering, inspection):
    client.force_login(inspector)
    post_json(client, f"{URL}{inspection.pk}/findings/", finding_body())
    followup = FollowUp.objects.get()
    followup_update(
        followup=followup, actor=commune_clerk, version=1, status="in_progress", progress=50, note="ordered"
    )
    with pytest.raises(StaleVersion):
        followup_update(followup=FollowUp.objects.get(), actor=commune_clerk, version=1, status="blocked", progress=5)
    assert list(FollowUpUpdate.objects.values_list("version", "new_progress")) == [(2, 50)]
    client.force_login(steering)
    page = client.post(f"/inspections/followups/{followup.pk}/", {"status": "completed", "version": "2"}, **EN)
    assert page.status_code == 403  # read-only roles read; the unit carries it out
    client.force_login(commune_clerk)
    page = client.post(
        f"/inspections/followups/{followup.pk}/",
        {"status": "completed", "progress": "100", "completed_on": today().isoformat(), "version": "1"},
        **EN,
    )
    assert page.status_code == 409  # stale: the page shows what changed


def test_the_report_exports_as_xlsx(client, inspector, steering, inspection):
    client.force_login(inspector)
    post_json(client, f"{URL}{inspection.pk}/findings/", finding_body())
    client.force_login(steering)
    answer = client.get(f"/inspections/{inspection.pk}/report.xlsx", **EN)
    assert answer.status_code == 200
    sheets = load_workbook(io.BytesIO(answer.content), read_only=True).worksheets
    rows = list(sheets[1].iter_rows(values_only=True))
    assert rows[1][1] == "00004" and rows[1][5] == "Buy a scanner."


def test_the_demo_plan_and_inspection(db):
    from inspections.demo import demo_inspection_ensure
    from tasks.demo import demo_plan_ensure, demo_users_ensure
    from tasks.models import LocalPlan, SubTask, SubTaskUpdate

    demo_users_ensure(password="pw-" + "x" * 12)
    for _ in range(2):  # idempotent
        demo_plan_ensure(write=lambda line: None)
        demo_inspection_ensure(write=lambda line: None)
    plan = LocalPlan.objects.get(province_id="01")
    assert SubTask.objects.filter(plan=plan, commune__province_id="01").count() >= 4
    assert SubTaskUpdate.objects.filter(subtask__plan=plan).exists()
    inspection = Inspection.objects.get()
    assert inspection.findings.count() == 3 and FollowUpUpdate.objects.count() == 2


def test_the_audit_trail_shows_plans_subtasks_inspections_and_followups(db):
    from audit.trail import TrailFilter, audit_trail, describe
    from inspections.demo import demo_inspection_ensure
    from tasks.demo import demo_plan_ensure, demo_users_ensure

    demo_users_ensure(password="pw-" + "x" * 12)
    demo_plan_ensure(write=lambda line: None)
    demo_inspection_ensure(write=lambda line: None)
    events = [describe(row) for row in audit_trail(TrailFilter())]
    kinds = {event["kind"] for event in events}
    assert {"local_plan", "subtask_update", "inspection", "finding", "followup_update"} <= kinds
    followup = next(e for e in events if e["kind"] == "followup_update")
    assert "0 → 30" in followup["summary"]
