"""A blocker that is a province, a vendor or a system is told as an agency is (DESIGN.md §8, §13): the
province's officers (its head after the escalation days), the vendor's contacts by e-mail, the central support
team for a system; each raised once, closed when the work is unblocked, listed in the blocker register."""

import datetime

import pytest
from django.core import mail

from alerts.models import Alert, Contact, Notification
from alerts.services.delivery import digests_send
from tasks.models import Agency, Assignment, Role, Vendor
from tests.alerts.conftest import assignment, local
from tests.conftest import make_user

RULES = ["blocked", "blocked_province", "blocked_vendor", "blocked_system", "stagnant"]
pytestmark = pytest.mark.django_db


def block(target, actor, at, **blocker):
    """Write the blocking update at `at`, as the update service would (history row and the item's state)."""
    from tasks.models import StatusUpdate

    current = Assignment.objects.get(pk=target.pk)
    StatusUpdate.objects.create(
        assignment=current,
        actor=actor,
        created_at=at,
        old_status=current.status,
        new_status="blocked",
        old_progress=current.progress,
        new_progress=10,
        blocked_reason="Waiting",
        version=current.version + 1,
        **blocker,
    )
    Assignment.objects.filter(pk=current.pk).update(
        status="blocked",
        progress=10,
        blocked_reason="Waiting",
        version=current.version + 1,
        updated_at=at,
        updated_by=actor,
        **blocker,
    )
    return Assignment.objects.get(pk=current.pk)


def told(user):
    return sorted(Notification.objects.filter(user=user).values_list("alert__rule", "alert__threshold"))


def test_a_blocking_province_is_told_then_its_head(
    run, quiet, today, province_officer, outsider_province_officer, email, head
):
    email(outsider_province_officer)
    head("province", "79", "head.hcm@example.org")
    hanoi = block(
        assignment("T22", province="01"),
        province_officer,
        local(today - datetime.timedelta(days=8), 9),
        blocked_by_province_id="79",
    )
    run(rules=RULES)
    assert told(outsider_province_officer) == [("blocked_province", 0)]
    assert told(province_officer) == []  # the blocked province is not the party told
    alerts = Alert.objects.filter(assignment=hanoi, rule="blocked_province")
    assert sorted(alerts.values_list("threshold", "province_id")) == [(0, "79"), (7, "79")]
    assert not Alert.objects.filter(assignment=hanoi, rule="stagnant").exists()  # waiting is not stagnating
    digests_send()
    assert {m.to[0] for m in mail.outbox} == {"officer-hcm@example.org", "head.hcm@example.org"}
    assert run(rules=RULES).raised == 0  # once


def test_a_vendor_is_told_through_its_contacts(run, quiet, today, province_officer):
    vendor = Vendor.objects.create(code="vnpt-it", name="VNPT-IT")
    Contact.objects.create(vendor=vendor, role="head", name="A", email="a@vnpt.example")
    Contact.objects.create(vendor=vendor, role="focal_point", name="B", email="b@vnpt.example", language="en")
    block(assignment("T22", province="01"), province_officer, local(today, 8), blocked_by_vendor=vendor)
    run(rules=RULES)
    alert = Alert.objects.get(rule="blocked_vendor")
    assert alert.vendor == vendor and alert.threshold == 0
    digests_send()
    assert sorted(m.to[0] for m in mail.outbox) == ["a@vnpt.example", "b@vnpt.example"]


def test_a_system_is_told_to_the_central_support_team_and_unblocking_closes_it(
    run, quiet, today, province_officer, django_capture_on_commit_callbacks
):
    from tasks.services import assignment_update

    support = make_user("support-1", Role.SUPPORT)
    hanoi = block(assignment("T22", province="01"), province_officer, local(today, 8), blocked_by_system="vneid")
    run(rules=RULES)
    assert told(support) == [("blocked_system", 0)]
    with django_capture_on_commit_callbacks(execute=True):
        assignment_update(
            assignment=hanoi, actor=province_officer, version=hanoi.version, status="in_progress", progress=30
        )
    assert not Alert.objects.open().filter(rule="blocked_system").exists()


def test_the_blocker_register_lists_every_kind_of_blocker(run, quiet, today, province_officer, api_for, steering):
    block(assignment("T22", province="01"), province_officer, local(today, 8), blocked_by_province_id="79")
    block(assignment("T62", province="01"), province_officer, local(today, 8), blocked_by_system="network")
    rows = api_for(user=steering).get("/api/v1/blockers/").json()["results"]
    assert sorted((r["task"], r["blocker"]["kind"], r["blocker"]["code"], r["blocking_agency"]) for r in rows) == [
        ("T22", "province", "79", None),
        ("T62", "system", "network", None),
    ]


def party(kind, code):
    """The four blocker fields of an update naming one party (the others emptied)."""
    fields = {"blocked_by": None, "blocked_by_province_id": None, "blocked_by_vendor": None, "blocked_by_system": ""}
    if kind == "agency":
        return {**fields, "blocked_by": Agency.objects.get(code=code)}
    return {**fields, {"province": "blocked_by_province_id", "system": "blocked_by_system"}[kind]: code}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("province", "79"), ("province", "48")),
        (("system", "vneid"), ("system", "network")),
        (("agency", "BCA"), ("system", "vneid")),
    ],
)
def test_a_blocker_is_waited_on_since_the_update_that_named_it(
    run, quiet, today, province_officer, api_for, steering, first, second
):
    """Whatever blocks: a later update still blocked by the same party (more progress, another reason) keeps the
    day the block began — in the register, its days waiting and the alert raised once; naming another party
    starts a new block."""
    began = today - datetime.timedelta(days=9)
    hanoi = block(assignment("T22", province="01"), province_officer, local(began, 9), **party(*first))
    hanoi = block(hanoi, province_officer, local(today - datetime.timedelta(days=2), 9), **party(*first))
    run(rules=RULES)

    def register():
        (row,) = api_for(user=steering).get("/api/v1/blockers/").json()["results"]
        return row["since"], row["days_waiting"]

    assert register() == (began.isoformat(), 9)
    raised = Alert.objects.filter(assignment=hanoi).exclude(rule="stagnant")
    assert raised.exists() and {a.since for a in raised} == {began}
    assert run(rules=RULES).raised == 0  # the second update raised nothing new

    moved = today - datetime.timedelta(days=1)
    block(hanoi, province_officer, local(moved, 9), **party(*second))
    assert register() == (moved.isoformat(), 1)
    run(rules=RULES)
    assert set(Alert.objects.open().filter(assignment=hanoi).values_list("since", flat=True)) == {moved}


def test_every_blocked_key_fits_the_alerts_subject_key():
    """The longest key a blocked rule makes — the largest id, the longest system code — fits Alert.subject_key
    (PostgreSQL refuses a longer one, and the whole run with it)."""
    from alerts.facts import AssignmentState, OpenWork, TaskFacts, Thresholds
    from alerts.rules import BlockedBySystem
    from alerts.work_items import ItemState, SubTaskBlockedBySystem
    from core.systems import SYSTEM_CODES

    today = datetime.date(2026, 1, 10)
    biggest, longest = 2**63 - 1, max(SYSTEM_CODES, key=len)
    limit = Alert._meta.get_field("subject_key").max_length
    thresholds = Thresholds.from_settings()
    state = AssignmentState(biggest, 1, "commune", None, "01", "00004", "blocked", 10, None, None, today, today)
    work = OpenWork(state._replace(blocked_by_system=longest), TaskFacts(today, 1, today), today, "blocked", 30)
    item = ItemState(biggest, today, "blocked", "00004", "01", None, blocked_by_system=longest, blocked_since=today)
    keys = [c.key for c in BlockedBySystem().check(work, thresholds)]
    keys += [c.key for c in SubTaskBlockedBySystem().check(item, today=today, thresholds=thresholds)]
    assert len(keys) == 2 and max(len(k) for k in keys) <= limit, keys
