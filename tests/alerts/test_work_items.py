"""Early warning for sub-tasks of local plans and follow-up items of inspections (DESIGN.md §8, §13): near the
deadline and overdue, raised once per item, telling its owner (and, for a follow-up item, the inspector),
closing when the item is completed. The clock is fixed at 10:00 today (tests/alerts/conftest.py)."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail

from alerts.models import Alert, Notification
from alerts.services.delivery import digests_send
from inspections.models import Finding, FollowUp, Inspection
from inspections.services import followup_update
from tasks.models import Assignment, LocalPlan, SubTask
from tasks.services import subtask_update

SUBTASK_RULES = ["subtask_deadline_7d", "subtask_deadline_1d", "subtask_overdue"]
FOLLOWUP_RULES = ["followup_deadline_7d", "followup_deadline_1d", "followup_overdue"]

pytestmark = pytest.mark.django_db


def days(n):
    return datetime.timedelta(days=n)


@pytest.fixture
def plan(province_officer, today):
    return LocalPlan.objects.create(
        province_id="01", number="98/KH-UBND", issued_on=today, title="Plan", created_by=province_officer
    )


def subtask(plan, *, deadline, commune="00004", department=""):
    parent = Assignment.objects.get(task__code="T18", province_id="01", level="province")
    owner = {"department": department} if department else {"commune_id": commune}
    return SubTask.objects.create(
        plan=plan, parent=parent, title="Desk", deadline=deadline, weight=Decimal("1"), **owner
    )


@pytest.fixture
def followup(inspector, today):
    inspection = Inspection.objects.create(
        title="Hà Nội", starts_on=today - days(20), ends_on=today, inspector=inspector
    )
    inspection.communes.set(["00004"])
    finding = Finding.objects.create(
        inspection=inspection,
        unit_kind="commune",
        province_id="01",
        commune_id="00004",
        visited_on=today - days(20),
        text="No scanner.",
        severity="high",
        recommendation="Buy a scanner.",
        deadline=today - days(2),
        created_by=inspector,
    )
    return FollowUp.objects.create(
        finding=finding, unit_kind="commune", province_id="01", commune_id="00004", deadline=today - days(2)
    )


def told(user):
    return sorted(Notification.objects.filter(user=user).values_list("alert__rule", "alert__threshold"))


def opened(kind, pk):
    return sorted(Alert.objects.open().filter(subject_key=f"{kind}:{pk}").values_list("rule", "threshold"))


def test_a_communes_subtask_due_in_seven_then_one_day_tells_its_clerks_once(
    run, quiet, today, plan, commune_clerk, other_commune_clerk, province_officer
):
    item = subtask(plan, deadline=today + days(7))
    run(rules=SUBTASK_RULES)
    assert opened("subtask", item.pk) == [("subtask_deadline_7d", 7)]
    assert told(commune_clerk) == [("subtask_deadline_7d", 7)]
    assert told(other_commune_clerk) == [] and told(province_officer) == []
    # Exactly once: running again, even as of the same day, raises nothing.
    assert run(rules=SUBTASK_RULES).raised == 0
    SubTask.objects.filter(pk=item.pk).update(deadline=today + days(1))
    run(rules=SUBTASK_RULES)
    # A moved deadline is a new warning: the old one closes, both thresholds hold for the new day.
    assert opened("subtask", item.pk) == [("subtask_deadline_1d", 1), ("subtask_deadline_7d", 7)]
    assert Notification.objects.filter(user=commune_clerk).count() == 3


def test_an_overdue_departments_subtask_tells_the_province_and_its_head(
    run, quiet, today, plan, province_officer, commune_clerk, email, head
):
    email(province_officer)
    head("province", "01", "head.hanoi@example.org")
    item = subtask(plan, deadline=today - days(1), department="Sở Khoa học và Công nghệ")
    run(rules=SUBTASK_RULES)
    assert opened("subtask", item.pk) == [("subtask_overdue", 0)]
    alert = Alert.objects.get(subject_key=f"subtask:{item.pk}")
    assert (alert.province_id, alert.commune_id, alert.subject_kind) == ("01", None, "subtask")
    assert told(province_officer) == [("subtask_overdue", 0)] and told(commune_clerk) == []
    digests_send()
    assert {m.to[0] for m in mail.outbox} == {"officer-hanoi@example.org", "head.hanoi@example.org"}


def test_completing_an_overdue_subtask_closes_its_alert_at_once(
    run, quiet, today, plan, commune_clerk, django_capture_on_commit_callbacks
):
    item = subtask(plan, deadline=today - days(3))
    run(rules=SUBTASK_RULES)
    assert opened("subtask", item.pk) == [("subtask_overdue", 0)]
    with django_capture_on_commit_callbacks(execute=True):
        subtask_update(
            subtask=item, actor=commune_clerk, version=1, status="completed", progress=100, completed_on=today
        )
    assert opened("subtask", item.pk) == []  # before any run: the receiver of tasks.signals.work_items_changed
    assert run(rules=SUBTASK_RULES).raised == 0


def test_a_subtask_completed_later_was_overdue_as_of_an_earlier_day(run, quiet, today, plan, commune_clerk):
    item = subtask(plan, deadline=today - days(5))
    subtask_update(subtask=item, actor=commune_clerk, version=1, status="completed", progress=100, completed_on=today)
    assert run(rules=SUBTASK_RULES).raised == 0
    # As of two days ago the item was open and past its deadline: the replay of its history says so.
    run(rules=SUBTASK_RULES, as_of=today - days(2))
    assert Alert.objects.filter(subject_key=f"subtask:{item.pk}", rule="subtask_overdue").count() == 1


def test_an_overdue_followup_tells_the_unit_its_head_and_the_inspector(
    run, quiet, followup, commune_clerk, inspector, steering, email, head
):
    email(commune_clerk)
    email(inspector)
    head("commune", "00004", "head.badinh@example.org")
    run(rules=FOLLOWUP_RULES)
    assert opened("followup", followup.pk) == [("followup_overdue", 0)]
    assert told(commune_clerk) == [("followup_overdue", 0)]
    assert told(inspector) == [("followup_overdue", 0)]
    assert told(steering) == []
    digests_send()
    assert {m.to[0] for m in mail.outbox} == {
        "clerk-badinh@example.org",
        "inspector-1@example.org",
        "head.badinh@example.org",
    }
    assert run(rules=FOLLOWUP_RULES).raised == 0


def test_a_followup_due_tomorrow_warns_the_unit_and_completing_it_closes_the_warning(
    run, quiet, today, followup, commune_clerk, inspector, django_capture_on_commit_callbacks
):
    FollowUp.objects.filter(pk=followup.pk).update(deadline=today + days(1))
    run(rules=FOLLOWUP_RULES)
    assert opened("followup", followup.pk) == [("followup_deadline_1d", 1), ("followup_deadline_7d", 7)]
    assert told(inspector) == []  # the inspector hears of overdue items only
    with django_capture_on_commit_callbacks(execute=True):
        followup_update(
            followup=FollowUp.objects.get(),
            actor=commune_clerk,
            version=1,
            status="completed",
            progress=100,
            completed_on=today,
        )
    assert opened("followup", followup.pk) == []


def test_the_alerts_list_and_api_describe_subtask_and_followup_alerts(
    run, quiet, today, plan, followup, client, api_for, province_officer, commune_clerk
):
    item = subtask(plan, deadline=today - days(1))
    run(rules=SUBTASK_RULES + FOLLOWUP_RULES)
    body = api_for(user=commune_clerk).get("/api/v1/alerts/", {"open": "true"}).json()
    subjects = sorted((row["rule"], row["subject"]["kind"], row["subject"]["id"]) for row in body["results"])
    assert subjects == [("followup_overdue", "followup", followup.pk), ("subtask_overdue", "subtask", item.pk)]
    client.force_login(province_officer)
    page = client.get("/alerts/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert f"/tasks/subtasks/{item.pk}/" in page.content.decode()
    assert f"/inspections/followups/{followup.pk}/" in page.content.decode()


# --- blocked sub-tasks and follow-up items: the party is told, as for an assignment -------------------------------

BLOCKED_RULES = [
    f"{kind}_blocked{suffix}" for kind in ("subtask", "followup") for suffix in ("", "_province", "_vendor", "_system")
]


def blocked_alerts(kind, pk):
    return sorted(
        Alert.objects.open()
        .filter(subject_key__startswith=f"{kind}:{pk}:")
        .values_list("rule", "threshold", "subject_key", "since")
    )


def test_a_subtask_blocked_by_an_agency_tells_it_then_its_head_and_unblocking_closes_it(
    run,
    quiet,
    today,
    plan,
    commune_clerk,
    agency_officer,
    email,
    head,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    from django.utils import timezone

    from tasks.models import Agency

    from .conftest import local

    email(agency_officer)
    head("agency", "BCA", "head.bca@example.org")
    item = subtask(plan, deadline=today + days(30))
    bca = Agency.objects.get(code="BCA")
    now = timezone.now
    began = today - days(8)
    monkeypatch.setattr(timezone, "now", lambda: local(began, 9))  # the block began eight days ago
    subtask_update(
        subtask=item,
        actor=commune_clerk,
        version=1,
        status="blocked",
        progress=10,
        blocked_by=bca,
        blocked_reason="Waiting for the police's data",
    )
    # Still blocked by the same agency two days later: the block still began eight days ago.
    monkeypatch.setattr(timezone, "now", lambda: local(today - days(2), 9))
    subtask_update(
        subtask=item, actor=commune_clerk, version=2, status="blocked", progress=15, blocked_by=bca, blocked_reason="W"
    )
    monkeypatch.setattr(timezone, "now", now)
    run(rules=BLOCKED_RULES)
    key = f"subtask:{item.pk}:agency:{bca.pk}"
    # Past the escalation days: its head is told too.
    assert blocked_alerts("subtask", item.pk) == [
        ("subtask_blocked", 0, key, began),
        ("subtask_blocked", 7, key, began),
    ]
    assert told(agency_officer) == [("subtask_blocked", 0)] and told(commune_clerk) == []
    assert run(rules=BLOCKED_RULES).raised == 0  # once
    digests_send()
    assert {m.to[0] for m in mail.outbox} == {"officer-bca@example.org", "head.bca@example.org"}

    with django_capture_on_commit_callbacks(execute=True):
        subtask_update(subtask=item, actor=commune_clerk, version=3, status="in_progress", progress=20)
    assert blocked_alerts("subtask", item.pk) == []  # at once, before any run
    assert run(rules=BLOCKED_RULES).raised == 0


@pytest.mark.parametrize(
    ("blocker", "rule", "party"),
    [
        ({"blocked_by_province_id": "79"}, "subtask_blocked_province", "province:79"),
        ({"blocked_by_system": "vneid"}, "subtask_blocked_system", "system:vneid"),
        ({"vendor": True}, "subtask_blocked_vendor", "vendor:{vendor}"),
    ],
)
def test_a_subtask_blocked_by_a_province_a_system_or_a_vendor_tells_that_party(
    run, quiet, today, plan, commune_clerk, outsider_province_officer, blocker, rule, party
):
    from alerts.models import Contact
    from localities.models import Province
    from tasks.models import Role, Vendor
    from tests.conftest import make_user

    support = make_user("support-1", Role.SUPPORT)
    vendor = Vendor.objects.create(code="vnpt-it", name="VNPT-IT")
    Contact.objects.create(vendor=vendor, role="head", name="A", email="a@vnpt.example")
    fields = {
        "blocked_by_province": Province.objects.get(pk="79") if "blocked_by_province_id" in blocker else None,
        "blocked_by_system": blocker.get("blocked_by_system", ""),
        "blocked_by_vendor": vendor if "vendor" in blocker else None,
    }
    item = subtask(plan, deadline=today + days(30))
    subtask_update(
        subtask=item, actor=commune_clerk, version=1, status="blocked", progress=10, blocked_reason="W", **fields
    )
    run(rules=BLOCKED_RULES)
    key = f"subtask:{item.pk}:{party.format(vendor=vendor.pk)}"
    assert blocked_alerts("subtask", item.pk) == [(rule, 0, key, today)]
    told_whom = {
        "subtask_blocked_province": outsider_province_officer,
        "subtask_blocked_system": support,
    }
    if rule in told_whom:
        assert told(told_whom[rule]) == [(rule, 0)]
    else:
        digests_send()
        assert [m.to[0] for m in mail.outbox] == ["a@vnpt.example"]
    assert told(commune_clerk) == []  # the blocked owner is not the party told


def test_a_followup_blocked_by_a_province_tells_it_and_the_alert_reads_as_the_items(
    run, quiet, today, followup, commune_clerk, outsider_province_officer, api_for
):
    from inspections.services import followup_update
    from localities.models import Province

    followup_update(
        followup=FollowUp.objects.get(),
        actor=commune_clerk,
        version=1,
        status="blocked",
        progress=10,
        blocked_by_province=Province.objects.get(pk="79"),
        blocked_reason="Waiting for the HCM data centre",
    )
    run(rules=BLOCKED_RULES)
    assert [r[:2] for r in blocked_alerts("followup", followup.pk)] == [("followup_blocked_province", 0)]
    assert told(outsider_province_officer) == [("followup_blocked_province", 0)]
    rows = api_for(user=outsider_province_officer).get("/api/v1/alerts/", {"open": "true"}).json()["results"]
    assert [(r["rule"], r["subject"]["kind"], r["subject"]["id"]) for r in rows] == [
        ("followup_blocked_province", "followup", followup.pk)
    ]


def test_a_blocked_subtask_as_of_a_past_day_is_read_from_its_history(run, quiet, today, plan, commune_clerk):
    from tasks.models import Agency

    item = subtask(plan, deadline=today + days(30))
    subtask_update(
        subtask=item,
        actor=commune_clerk,
        version=1,
        status="blocked",
        progress=10,
        blocked_by=Agency.objects.get(code="BCA"),
        blocked_reason="W",
    )
    subtask_update(subtask=item, actor=commune_clerk, version=2, status="in_progress", progress=30)
    assert run(rules=BLOCKED_RULES).raised == 0  # no longer blocked
    run(rules=BLOCKED_RULES, as_of=today - days(1))
    assert not Alert.objects.filter(rule="subtask_blocked").exists()  # yesterday it was not blocked yet


def test_the_party_told_of_a_block_sees_the_item_and_changes_nothing(
    today, plan, followup, commune_clerk, agency_officer, outsider_province_officer, api_for, client
):
    """As for an assignment (DESIGN.md §8), the blocking agency or province sees the sub-task or follow-up item
    its alert links to; it may not update it."""
    from localities.models import Province
    from tasks.models import Agency

    item = subtask(plan, deadline=today + days(30))
    subtask_update(
        subtask=item,
        actor=commune_clerk,
        version=1,
        status="blocked",
        progress=10,
        blocked_by=Agency.objects.get(code="BCA"),
        blocked_reason="W",
    )
    followup_update(
        followup=FollowUp.objects.get(),
        actor=commune_clerk,
        version=1,
        status="blocked",
        progress=10,
        blocked_by_province=Province.objects.get(pk="79"),
        blocked_reason="W",
    )
    bca = api_for(user=agency_officer)
    assert bca.get(f"/api/v1/subtasks/{item.pk}/").status_code == 200
    update = {"status": "in_progress", "progress": 20, "version": 2}
    assert bca.post(f"/api/v1/subtasks/{item.pk}/updates/", update, format="json").status_code == 403
    client.force_login(outsider_province_officer)
    assert client.get(f"/inspections/followups/{followup.pk}/").status_code == 200
    assert client.get(f"/tasks/subtasks/{item.pk}/").status_code == 404  # not what it blocks
    # Unblocked, it is theirs no more.
    subtask_update(subtask=item, actor=commune_clerk, version=2, status="in_progress", progress=20)
    assert bca.get(f"/api/v1/subtasks/{item.pk}/").status_code == 404
