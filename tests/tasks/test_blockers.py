"""Blockers that are agencies, provinces, vendors or systems (DESIGN.md §8, §13): one blocker at a time, never
one's own unit, named by the field that is wrong (in Vietnamese and English), kept in the history, shown in the
answer, and the blocking province sees what it blocks."""

import pytest
from django.db import IntegrityError, transaction

from core.systems import SYSTEM_CODES
from reports.figures import OUTAGE_SYSTEMS
from tasks.models import Agency, Assignment, StatusUpdate, Vendor
from tasks.services import assignment_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def hanoi_t22(db):
    return Assignment.objects.get(task__code="T22", province_id="01", level="province")


@pytest.fixture
def vendor(db):
    return Vendor.objects.create(code="vnpt-it", name="VNPT-IT")


def url(assignment):
    return f"/api/v1/assignments/{assignment.pk}/updates/"


def blocked(**blocker):
    return {"status": "blocked", "progress": 10, "version": 1, "blocked_reason": "Waiting", **blocker}


def test_the_systems_are_the_reports_one_closed_list():
    assert OUTAGE_SYSTEMS is not None and [code for code, _label in OUTAGE_SYSTEMS] == SYSTEM_CODES


@pytest.mark.parametrize(
    ("blocker", "kind", "code"),
    [
        ({"blocked_by_province": "79"}, "province", "79"),
        ({"blocked_by_vendor": "vnpt-it"}, "vendor", "vnpt-it"),
        ({"blocked_by_system": "vneid"}, "system", "vneid"),
        ({"blocked_by": "BCA"}, "agency", "BCA"),
    ],
)
def test_a_province_is_blocked_by_a_province_a_vendor_a_system_or_an_agency(
    api_for, province_officer, hanoi_t22, vendor, blocker, kind, code
):
    answer = api_for(user=province_officer).post(url(hanoi_t22), blocked(**blocker), format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["blocker"]["kind"] == kind and answer.json()["blocker"]["code"] == code
    row = StatusUpdate.objects.get(assignment=hanoi_t22)
    assert row.blocker["kind"] == kind and row.blocker["code"] == code  # kept in the history, for as-of views
    again = api_for(user=province_officer).get(f"/api/v1/assignments/{hanoi_t22.pk}/").json()
    assert again["blocker"] == answer.json()["blocker"]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"blocked_by_province": "01"}, "blocked_by_province", "self_block"),  # one's own unit
        ({"blocked_by_province": "79", "blocked_by_system": "vneid"}, "blocked_by_system", "one_blocker"),
        ({"blocked_by": "BCA", "blocked_by_vendor": "vnpt-it"}, "blocked_by_vendor", "one_blocker"),
        ({}, "blocked_by", "required"),
    ],
)
def test_bad_blockers_are_a_400_naming_the_field(api_for, province_officer, hanoi_t22, vendor, body, field, code):
    answer = api_for(user=province_officer).post(url(hanoi_t22), blocked(**body), format="json")
    assert answer.status_code == 400, answer.content
    assert answer.json()["errors"][field][0]["code"] == code
    assert not StatusUpdate.objects.filter(assignment=hanoi_t22).exists()


def test_a_province_blocking_itself_is_refused_in_vietnamese_and_english(api_for, province_officer, hanoi_t22):
    for language, message in (
        ("en", "A province cannot be blocked by itself."),
        ("vi", "Một tỉnh không thể tự cản trở chính mình."),
    ):
        answer = api_for(user=province_officer, language=language).post(
            url(hanoi_t22), blocked(blocked_by_province="01"), format="json"
        )
        assert answer.json()["errors"]["blocked_by_province"][0]["message"] == message


def test_unknown_systems_provinces_and_vendors_are_named(api_for, province_officer, hanoi_t22):
    client = api_for(user=province_officer)
    for field, value in (("blocked_by_system", "fax"), ("blocked_by_province", "99"), ("blocked_by_vendor", "x")):
        answer = client.post(url(hanoi_t22), blocked(**{field: value}), format="json")
        assert answer.status_code == 400 and field in answer.json()["errors"], answer.content


def test_a_blocker_is_only_given_when_blocked(province_officer, hanoi_t22):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        assignment_update(
            assignment=hanoi_t22,
            actor=province_officer,
            version=1,
            status="in_progress",
            progress=5,
            blocked_by_system="network",
        )
    assert exc.value.error_dict["blocked_by_system"][0].code == "only_when_blocked"


def test_the_database_holds_one_blocker_at_most(hanoi_t22):
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.filter(pk=hanoi_t22.pk).update(
            blocked_by=Agency.objects.get(code="BCA"), blocked_by_system="vneid"
        )


def test_the_update_form_takes_a_system_and_the_page_names_it(client, settings, province_officer, hanoi_t22):
    client.force_login(province_officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.post(
        f"/tasks/assignments/{hanoi_t22.pk}/update/",
        {
            "status": "blocked",
            "progress": "10",
            "version": "1",
            "blocked_by_system": "population_db",
            "blocked_reason": "Population data not connected",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert page.status_code in (200, 302), page.content
    assert Assignment.objects.get(pk=hanoi_t22.pk).blocked_by_system == "population_db"
    detail = client.get(f"/tasks/assignments/{hanoi_t22.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "national population database: Population data not connected" in detail


def test_the_blocking_province_sees_what_it_blocks_and_changes_nothing(
    api_for, province_officer, outsider_province_officer, hanoi_t22
):
    api_for(user=province_officer).post(url(hanoi_t22), blocked(blocked_by_province="79"), format="json")
    hcm = api_for(user=outsider_province_officer)
    assert hcm.get(f"/api/v1/assignments/{hanoi_t22.pk}/").status_code == 200
    body = {"status": "in_progress", "progress": 20, "version": 2}
    assert hcm.post(url(hanoi_t22), body, format="json").status_code == 403


def test_a_departments_subtask_cannot_be_blocked_by_its_own_province(api_for, province_officer, hanoi_t22):
    from django.utils import timezone

    from tasks.models import LocalPlan, SubTask

    plan = LocalPlan.objects.create(
        province_id="01", number="1/KH", issued_on=timezone.localdate(), title="P", created_by=province_officer
    )
    item = SubTask.objects.create(
        plan=plan, parent=hanoi_t22, title="Data", department="Sở KH&CN", deadline=timezone.localdate()
    )
    client = api_for(user=province_officer)
    answer = client.post(f"/api/v1/subtasks/{item.pk}/updates/", blocked(blocked_by_province="01"), format="json")
    assert answer.status_code == 400
    assert answer.json()["errors"]["blocked_by_province"][0]["code"] == "self_block"
    # A commune's sub-task may wait on its province: that is not its own unit.
    commune_item = SubTask.objects.create(
        plan=plan, parent=hanoi_t22, title="Desk", commune_id="00004", deadline=timezone.localdate()
    )
    answer = client.post(
        f"/api/v1/subtasks/{commune_item.pk}/updates/", blocked(blocked_by_province="01"), format="json"
    )
    assert answer.status_code == 201, answer.content


def test_a_meeting_pack_says_what_each_blocked_assignment_waited_on(api_for, province_officer, hanoi_t22, vendor):
    from django.utils import timezone

    from dashboards.meetings import _blocked

    client = api_for(user=province_officer)
    client.post(url(hanoi_t22), blocked(blocked_by_system="vneid"), format="json")
    hanoi_t62 = Assignment.objects.get(task__code="T62", province_id="01", level="province")
    client.post(url(hanoi_t62), blocked(blocked_by_vendor="vnpt-it"), format="json")
    rows = {row["task"]: (row["blocker_kind"], row["blocked_by"]) for row in _blocked(timezone.localdate())}
    assert rows == {"T22": ("system", "vneid"), "T62": ("vendor", "vnpt-it")}


def test_a_stale_version_409_names_every_blocker_field_that_changed(
    api_for, province_officer, outsider_province_officer, hanoi_t22, vendor
):
    """Someone else blocked the work on a vendor, then moved it to a system: the 409 of an older version shows
    both blocker fields, from what they were at the caller's version to what they are now."""
    client = api_for(user=province_officer)
    assert client.post(url(hanoi_t22), blocked(blocked_by_province="79"), format="json").status_code == 201
    moved = {**blocked(blocked_by_vendor="vnpt-it"), "version": 2}
    assert client.post(url(hanoi_t22), moved, format="json").status_code == 201
    moved = {**blocked(blocked_by_system="vneid"), "version": 3}
    assert client.post(url(hanoi_t22), moved, format="json").status_code == 201

    answer = client.post(url(hanoi_t22), {"status": "in_progress", "progress": 40, "version": 2}, format="json")
    assert answer.status_code == 409
    assert answer.json()["changes"] == [
        {"field": "blocked_by_province", "old": "79", "new": None},
        {"field": "blocked_by_system", "old": None, "new": "vneid"},
    ]
    # From the first version (nothing blocked), every field that moved.
    answer = client.post(url(hanoi_t22), {"status": "in_progress", "progress": 40, "version": 1}, format="json")
    assert [c["field"] for c in answer.json()["changes"]] == [
        "status",
        "progress",
        "blocked_by_system",
        "blocked_reason",
    ]


def test_a_stale_subtask_409_names_the_vendor_blocker(province_officer, hanoi_t22, vendor):
    from django.utils import timezone

    from tasks.models import LocalPlan, SubTask
    from tasks.services import StaleVersion, subtask_update

    plan = LocalPlan.objects.create(
        province_id="01", number="1/KH", issued_on=timezone.localdate(), title="P", created_by=province_officer
    )
    item = SubTask.objects.create(
        plan=plan, parent=hanoi_t22, title="Data", department="Sở KH&CN", deadline=timezone.localdate()
    )
    subtask_update(
        subtask=item,
        actor=province_officer,
        status="blocked",
        progress=10,
        version=1,
        blocked_by_vendor=vendor,
        blocked_reason="Waiting",
    )
    with pytest.raises(StaleVersion) as exc:
        subtask_update(subtask=item, actor=province_officer, status="in_progress", progress=20, version=1)
    assert ("blocked_by_vendor", None, "vnpt-it") in [(c.field, c.old, c.new) for c in exc.value.changes]
