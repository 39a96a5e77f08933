"""Local plans and sub-tasks (DESIGN.md §13): the weighted roll-up against a hand computation, the scoping of
every list, the workflow on sub-tasks (the same service as assignments': rules, history, 409 on a stale
version) and bad input named by field."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tasks.models import Assignment, LocalPlan, SubTask, SubTaskUpdate
from tasks.plans import weighted_rollup
from tasks.services import StaleVersion, subtask_update

PLANS, SUBTASKS = "/api/v1/plans/", "/api/v1/subtasks/"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def deadline(days=30):
    return timezone.localdate() + datetime.timedelta(days=days)


@pytest.fixture
def hanoi_t18(db):
    return Assignment.objects.get(task__code="T18", province_id="01", level="province")


@pytest.fixture
def plan(province_officer, hanoi_t18):
    plan = LocalPlan.objects.create(
        province_id="01", number="98/KH-UBND", issued_on=timezone.localdate(), title="Plan", created_by=province_officer
    )
    return plan


@pytest.fixture
def subtasks(plan, hanoi_t18):
    common = {"plan": plan, "parent": hanoi_t18, "deadline": deadline()}
    return {
        "dept": SubTask.objects.create(title="Data", department="Sở KH&CN", weight=Decimal("2"), **common),
        "badinh": SubTask.objects.create(title="Desk", commune_id="00004", weight=Decimal("1"), **common),
        "ngocha": SubTask.objects.create(title="Desk", commune_id="00008", weight=Decimal("1.5"), **common),
    }


def login(client, user):
    client.force_login(user)
    return client


def post_json(client, url, body):
    return client.post(url, body, content_type="application/json", **EN)


def test_rollup_by_weight_matches_a_hand_computation(subtasks):
    dept, badinh, ngocha = subtasks["dept"], subtasks["badinh"], subtasks["ngocha"]
    dept.progress, badinh.progress, ngocha.progress = 100, 50, 20
    rollup = weighted_rollup([dept, badinh, ngocha])
    # (2 × 100 + 1 × 50 + 1.5 × 20) ÷ (2 + 1 + 1.5) = 280 ÷ 4.5 = 62.22… → 62
    assert rollup.total_weight == Decimal("4.5")
    assert rollup.progress == 62
    assert rollup.formula == "(2 × 100 + 1 × 50 + 1.5 × 20) ÷ 4.5 = 62%"
    # Weights are relative: multiplying them all changes nothing.
    for s in (dept, badinh, ngocha):
        s.weight *= 10
    assert weighted_rollup([dept, badinh, ngocha]).progress == 62


def test_the_plan_detail_and_the_assignment_page_show_the_rollup(client, steering, subtasks, hanoi_t18):
    SubTask.objects.filter(pk=subtasks["dept"].pk).update(progress=100, status="in_progress")
    login(client, steering)
    plan_id = subtasks["dept"].plan_id
    body = client.get(f"{PLANS}{plan_id}/", **EN).json()
    assert body["rollups"] == [
        {
            "assignment": hanoi_t18.pk,
            "task": "T18",
            "progress": 44,  # 2 × 100 ÷ 4.5 = 44.4
            "formula": "(2 × 100 + 1 × 0 + 1.5 × 0) ÷ 4.5 = 44%",
            "total_weight": "4.50",
        }
    ]
    page = client.get(f"/tasks/assignments/{hanoi_t18.pk}/", **EN)
    assert page.status_code == 200
    assert "(2 × 100 + 1 × 0 + 1.5 × 0) ÷ 4.5 = 44%" in page.content.decode()


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("steering", {"dept", "badinh", "ngocha"}),
        ("inspector", {"dept", "badinh", "ngocha"}),
        ("province_officer", {"dept", "badinh", "ngocha"}),
        ("commune_clerk", {"badinh"}),
        ("outsider_province_officer", set()),
        ("other_agency_officer", set()),
    ],
)
def test_subtask_list_is_scoped(request, client, subtasks, who, expected):
    login(client, request.getfixturevalue(who))
    names = {v: k for k, v in ((k, s.pk) for k, s in subtasks.items())}
    got = {names[r["id"]] for r in client.get(SUBTASKS, **EN).json()["results"]}
    assert got == expected
    plans = client.get(PLANS, **EN).json()["results"]
    assert bool(plans) == bool(expected)


def test_mine_lists_what_one_may_update(client, commune_clerk, province_officer, steering, subtasks):
    login(client, commune_clerk)
    assert [r["id"] for r in client.get(SUBTASKS, {"mine": "true"}, **EN).json()["results"]] == [subtasks["badinh"].pk]
    login(client, steering)
    assert client.get(SUBTASKS, {"mine": "true"}, **EN).json()["results"] == []
    login(client, province_officer)
    assert len(client.get(SUBTASKS, {"mine": "true"}, **EN).json()["results"]) == 3


def test_my_tasks_shows_the_owners_subtasks(client, commune_clerk, province_officer, subtasks):
    login(client, commune_clerk)
    rows = list(client.get("/tasks/mine/", **EN).context["subtasks"])
    assert [s.pk for s in rows] == [subtasks["badinh"].pk]
    login(client, province_officer)
    rows = list(client.get("/tasks/mine/", **EN).context["subtasks"])
    assert [s.pk for s in rows] == [subtasks["dept"].pk]  # its departments'; the communes' are theirs


def test_subtask_update_answers_like_an_assignment_update(client, commune_clerk, subtasks):
    badinh = subtasks["badinh"]
    login(client, commune_clerk)
    url = f"{SUBTASKS}{badinh.pk}/updates/"
    first = post_json(client, url, {"status": "in_progress", "progress": 40, "version": 1, "note": "started"})
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["version"] == 2 and body["progress"] == 40 and body["update"]["new_progress"] == 40
    stale = post_json(client, url, {"status": "in_progress", "progress": 60, "version": 1})
    assert stale.status_code == 409
    conflict = stale.json()
    assert conflict["code"] == "stale_version" and conflict["your_version"] == 1 and conflict["current_version"] == 2
    assert {"field": "progress", "old": 0, "new": 40} in conflict["changes"]
    assert conflict["current"]["id"] == badinh.pk
    assert SubTaskUpdate.objects.filter(subtask=badinh).count() == 1  # nothing written by the stale one
    history = client.get(url, **EN).json()["results"]
    assert [(h["version"], h["new_status"], h["note"]) for h in history] == [(2, "in_progress", "started")]
    # The rules are the assignments': completed needs 100 and a date.
    refused = post_json(client, url, {"status": "completed", "progress": 90, "version": 2})
    assert refused.status_code == 400
    assert set(refused.json()["errors"]) == {"progress", "completed_on"}


def test_subtask_update_scoping(client, commune_clerk, other_commune_clerk, steering, province_officer, subtasks):
    badinh = subtasks["badinh"]
    url = f"{SUBTASKS}{badinh.pk}/updates/"
    body = {"status": "in_progress", "progress": 10, "version": 1}
    login(client, other_commune_clerk)
    assert post_json(client, url, body).status_code == 404
    login(client, steering)
    assert post_json(client, url, body).status_code == 403
    login(client, province_officer)
    answer = post_json(client, url, body)
    assert answer.status_code == 201
    assert answer.json()["update"]["on_behalf"] is True  # a province officer for its commune


def test_the_service_refuses_a_stale_version_and_writes_history(commune_clerk, subtasks):
    badinh = subtasks["badinh"]
    subtask_update(subtask=badinh, actor=commune_clerk, version=1, status="in_progress", progress=20)
    with pytest.raises(StaleVersion) as caught:
        subtask_update(
            subtask=SubTask.objects.get(pk=badinh.pk), actor=commune_clerk, version=1, status="blocked", progress=20
        )
    assert caught.value.item.version == 2
    assert list(SubTaskUpdate.objects.filter(subtask=badinh).values_list("version", flat=True)) == [2]


def test_an_agency_cannot_block_its_own_subtask(client, agency_officer):
    bca = Assignment.objects.get(task__code="T15", agency__code="BCA")
    plan = LocalPlan.objects.create(
        agency=bca.agency, number="1", issued_on=timezone.localdate(), title="BCA plan", created_by=agency_officer
    )
    subtask = SubTask.objects.create(plan=plan, parent=bca, title="Cameras", department="C06", deadline=deadline())
    login(client, agency_officer)
    answer = post_json(
        client,
        f"{SUBTASKS}{subtask.pk}/updates/",
        {"status": "blocked", "progress": 10, "version": 1, "blocked_by": "BCA", "blocked_reason": "us"},
    )
    assert answer.status_code == 400
    assert answer.json()["errors"]["blocked_by"][0]["code"] == "self_block"


def test_create_a_plan_and_subtasks(client, province_officer, hanoi_t18):
    login(client, province_officer)
    created = post_json(client, PLANS, {"number": "12/KH", "date": "2025-06-01", "title": "Hà Nội's plan"})
    assert created.status_code == 201, created.content
    assert created.json()["unit"] == {"kind": "province", "code": "01", "name": created.json()["unit"]["name"]}
    plan_id = created.json()["id"]
    again = post_json(client, PLANS, {"number": "12/KH", "date": "2025-06-01", "title": "again"})
    assert again.status_code == 400 and again.json()["errors"]["number"][0]["code"] == "unique"
    body = {
        "plan": plan_id,
        "parent": hanoi_t18.pk,
        "title": "Desk",
        "commune": "00004",
        "deadline": "2025-09-01",
        "weight": "2",
    }
    answer = post_json(client, SUBTASKS, body)
    assert answer.status_code == 201, answer.content
    assert answer.json()["owner"]["kind"] == "commune" and answer.json()["weight"] == "2.00"


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"weight": "0"}, "weight", "not_positive"),
        ({"weight": "-1"}, "weight", "not_positive"),
        ({"weight": "abc"}, "weight", "invalid"),
        ({"weight": "NaN"}, "weight", "invalid"),
        ({"commune": "26734"}, "commune", "outside_province"),  # a commune of Hồ Chí Minh City
        ({"commune": "99999"}, "commune", "outside_province"),
        ({"department": "Sở Nội vụ"}, "commune", "one_owner"),
        ({"commune": None}, "department", "owner_required"),
    ],
)
def test_bad_subtasks_are_refused_by_field(client, province_officer, plan, hanoi_t18, change, field, code):
    login(client, province_officer)
    body = {
        "plan": plan.pk,
        "parent": hanoi_t18.pk,
        "title": "Desk",
        "commune": "00004",
        "deadline": "2025-09-01",
        "weight": "1",
        **change,
    }
    answer = post_json(client, SUBTASKS, body)
    assert answer.status_code == 400, answer.content
    assert answer.json()["errors"][field][0]["code"] == code
    assert not SubTask.objects.exists()


def test_a_parent_of_another_unit_is_refused(client, province_officer, plan):
    hcm = Assignment.objects.get(task__code="T18", province_id="79", level="province")
    login(client, province_officer)
    body = {"plan": plan.pk, "parent": hcm.pk, "title": "x", "department": "Sở", "deadline": "2025-09-01", "weight": 1}
    answer = post_json(client, SUBTASKS, body)
    assert answer.status_code == 400 and answer.json()["errors"]["parent"][0]["code"] == "not_the_plans_unit"
    # Sub-tasks are one level deep: there is no field to name a sub-task as a parent.
    answer = post_json(client, SUBTASKS, {**body, "parent_subtask": 1})
    assert answer.status_code == 400 and "parent_subtask" in answer.json()["errors"]


def test_only_the_own_unit_writes_plans(client, steering, commune_clerk, outsider_province_officer, plan, hanoi_t18):
    body = {"number": "1", "date": "2025-06-01", "title": "x"}
    for user in (steering, commune_clerk):
        login(client, user)
        assert post_json(client, PLANS, body).status_code == 403
    login(client, outsider_province_officer)
    sub = {
        "plan": plan.pk,
        "parent": hanoi_t18.pk,
        "title": "x",
        "department": "Sở",
        "deadline": "2025-09-01",
        "weight": 1,
    }
    assert post_json(client, SUBTASKS, sub).status_code == 404  # the plan is not its to see


def test_pages_of_a_plan(client, province_officer, commune_clerk, subtasks, hanoi_t18):
    plan_id = subtasks["dept"].plan_id
    login(client, province_officer)
    assert client.get(f"/tasks/plans/{plan_id}/", **EN).status_code == 200
    answer = client.post(
        f"/tasks/plans/{plan_id}/subtasks/new/",
        {"parent": str(hanoi_t18.pk), "title": "x", "commune": "26734", "deadline": "2025-09-01", "weight": "1"},
        **EN,
    )
    assert answer.status_code == 400 and "commune" in answer.context["form"].errors
    login(client, commune_clerk)
    assert client.get(f"/tasks/subtasks/{subtasks['badinh'].pk}/", **EN).status_code == 200
    assert client.get(f"/tasks/subtasks/{subtasks['ngocha'].pk}/", **EN).status_code == 404
    assert client.get(f"/tasks/plans/{plan_id}/subtasks/new/", **EN).status_code == 403
    answer = client.post(
        f"/tasks/subtasks/{subtasks['badinh'].pk}/update/",
        {"status": "in_progress", "progress": "30", "version": "1"},
        **EN,
    )
    assert answer.status_code == 302
    assert SubTask.objects.get(pk=subtasks["badinh"].pk).progress == 30


def test_bulk_xlsx_round_trip_of_subtasks(client, province_officer, subtasks):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import Workbook, load_workbook

    login(client, province_officer)
    exported = client.get("/tasks/subtasks/export.xlsx", {"mine": "true"}, **EN)
    assert exported.status_code == 200
    rows = list(load_workbook(io.BytesIO(exported.content), read_only=True).worksheets[0].iter_rows(values_only=True))
    header, data = list(rows[0]), [list(r) for r in rows[1:]]
    assert {r[0] for r in data} == {s.pk for s in subtasks.values()}
    for row in data:
        row[header.index("status")], row[header.index("progress")] = "in_progress", 35
    stale_id = subtasks["ngocha"].pk
    SubTask.objects.filter(pk=stale_id).update(version=5)  # someone saved meanwhile: that row is refused
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in data:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    upload = SimpleUploadedFile("subtasks.xlsx", buffer.getvalue())
    dry = client.post("/tasks/subtasks/bulk/", {"file": upload}, **EN)
    assert dry.status_code == 200
    outcomes = {r.assignment.pk: r.outcome for r in dry.context["plan"].rows}
    assert outcomes == {subtasks["dept"].pk: "change", subtasks["badinh"].pk: "change", stale_id: "stale"}
    # A token of the sub-tasks' page is refused by the assignments' page.
    assert client.post("/tasks/assignments/bulk/", {"token": dry.context["token"]}, **EN).status_code == 302
    assert not SubTaskUpdate.objects.exists()
    applied = client.post("/tasks/subtasks/bulk/", {"token": dry.context["token"]}, **EN)
    assert applied.status_code == 302
    assert sorted(SubTaskUpdate.objects.values_list("subtask_id", "new_progress", "on_behalf")) == sorted(
        [(subtasks["dept"].pk, 35, False), (subtasks["badinh"].pk, 35, True)]
    )


def test_subtask_history_is_append_only(commune_clerk, subtasks):
    from django.db import DatabaseError, connection, transaction

    from core.models import AppendOnlyError

    row = subtask_update(subtask=subtasks["badinh"], actor=commune_clerk, version=1, status="in_progress", progress=5)
    with pytest.raises(AppendOnlyError):
        SubTaskUpdate.objects.filter(pk=row.pk).update(note="rewritten")
    if connection.vendor == "postgresql":  # the trigger of migration 0003, for any SQL client
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE tasks_subtaskupdate SET note = 'x' WHERE id = %s", [row.pk])
    assert SubTaskUpdate.objects.get(pk=row.pk).note == ""


def test_lists_run_a_fixed_number_of_queries(client, steering, plan, hanoi_t18):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, steering)
    client.get(SUBTASKS, **EN)  # the session and the user, once
    counts = []
    for more in (1, 6):
        for _ in range(more):
            SubTask.objects.create(plan=plan, parent=hanoi_t18, title="x", department="Sở", deadline=deadline())
        with CaptureQueriesContext(connection) as captured:
            assert client.get(SUBTASKS, **EN).status_code == 200
            assert client.get(f"{PLANS}{plan.pk}/", **EN).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]  # 2 or 7 sub-tasks: the same queries (no query per row)
