"""Each rule of DESIGN.md §8 on synthetic histories, through the run (alerts.services.runs.alerts_run): what it raises,
who is told, and how each alert closes by itself when its condition ends."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from alerts.models import Alert, AlertRun, Digest, Notification
from alerts.selectors import assignment_states
from alerts.services.delivery import digests_send
from alerts.services.support import support_request_close
from dashboards.snapshots import end_of_day
from reports.completeness import due_at
from reports.models import DailyReport
from tasks.services import assignment_update
from tests.alerts.conftest import assignment, days_back, history, local, reports_for_all
from tests.reports.factories import make_report

MISSING = ["missing_report_1", "missing_report_3", "missing_report_7"]
ASSIGNMENT_RULES = ["deadline_7d", "deadline_1d", "overdue", "stagnant", "blocked"]
pytestmark = pytest.mark.django_db


def open_alerts(**filters):
    return sorted(Alert.objects.open().filter(**filters).values_list("rule", "threshold"))


def told(user):
    return sorted(Notification.objects.filter(user=user).values_list("alert__rule", "alert__threshold"))


def ago(today, n):
    return today - datetime.timedelta(days=n)


def report_on_time(locality, day, **kwargs):
    """A report received an hour before its due time."""
    report = make_report(locality, day, **kwargs)
    DailyReport.objects.filter(pk=report.pk).update(received_at=due_at(day) - datetime.timedelta(hours=1))
    return report


# --- missing reports -------------------------------------------------------------------------------------


def test_missing_reports_climb_the_ladder_and_reporting_again_resets_it(
    run, settings, today, commune_clerk, province_officer, steering
):
    settings.ALERTS_REPORTS_EXPECTED_FROM = ago(today, 12).isoformat()
    reports_for_all(days_back(today, 12, 1), silent=["00004"])
    for day in days_back(today, 12, 10):
        report_on_time("00004", day)
    ba_dinh = {"commune_id": "00004"}

    # Ba Đình's last report is for 10 days ago. As of 8 days ago its report of 9 days ago was due: 1 day.
    run(as_of=ago(today, 8), rules=MISSING)
    assert open_alerts(**ba_dinh) == [("missing_report_1", 1)]
    assert Alert.objects.open().filter(rule__in=MISSING).count() == 1  # every other commune reported
    assert told(commune_clerk) == [("missing_report_1", 1)] and told(province_officer) == [] and told(steering) == []

    run(as_of=ago(today, 6), rules=MISSING)  # 3 days in a row: the province's officers are told
    assert open_alerts(**ba_dinh) == [("missing_report_1", 1), ("missing_report_3", 3)]
    assert told(province_officer) == [("missing_report_3", 3)] and told(commune_clerk) == [("missing_report_1", 1)]

    run(as_of=ago(today, 2), rules=MISSING)  # 7 days: the steering committee
    assert open_alerts(**ba_dinh) == [("missing_report_1", 1), ("missing_report_3", 3), ("missing_report_7", 7)]
    assert told(steering) == [("missing_report_7", 7)]
    streak = set(Alert.objects.filter(**ba_dinh).values_list("day", flat=True))
    assert streak == {ago(today, 9)}  # one streak, keyed by its first day

    # Its report for 2 days ago arrives (on time): the streak ends and its alerts close by themselves.
    report_on_time("00004", ago(today, 2))
    run(as_of=ago(today, 1), rules=MISSING)
    assert open_alerts(**ba_dinh) == []
    assert Alert.objects.filter(**ba_dinh).count() == 3

    # Silent again for yesterday: a new streak raises again, from its own first day.
    result = run(rules=MISSING)
    assert result.raised == 1
    assert open_alerts(**ba_dinh) == [("missing_report_1", 1)]
    assert Alert.objects.open().get(**ba_dinh).day == ago(today, 1)
    assert told(commune_clerk) == [("missing_report_1", 1), ("missing_report_1", 1)]


def test_a_report_received_after_the_evaluated_day_does_not_count_as_of_that_day(run, settings, today):
    settings.ALERTS_REPORTS_EXPECTED_FROM = ago(today, 4).isoformat()
    reports_for_all(days_back(today, 4, 1))
    # Ba Đình's report for 3 days ago came in late, today.
    DailyReport.objects.filter(locality="00004", date__gte=ago(today, 3)).update(received_at=timezone.now())
    run(as_of=ago(today, 2), rules=MISSING)
    assert open_alerts(commune_id="00004") == [("missing_report_1", 1)]
    run(rules=MISSING)  # now it has arrived
    assert open_alerts(commune_id="00004") == []


# --- deadlines ----------------------------------------------------------------------------------------------


def test_due_in_seven_then_one_day_tells_the_responsible_unit(run, quiet, today, agency_officer, other_agency_officer):
    from tests.tasks.conftest import set_deadline

    set_deadline("T15", 1)  # BCA's own central task, due tomorrow
    run(as_of=ago(today, 7), rules=ASSIGNMENT_RULES)  # 8 days before: nothing yet
    assert open_alerts(assignment__task__code="T15") == []
    run(as_of=ago(today, 6), rules=ASSIGNMENT_RULES)
    assert open_alerts(assignment__task__code="T15") == [("deadline_7d", 7)]
    assert told(agency_officer) == [("deadline_7d", 7)] and told(other_agency_officer) == []

    run(rules=ASSIGNMENT_RULES)
    assert open_alerts(assignment__task__code="T15") == [("deadline_1d", 1), ("deadline_7d", 7)]
    assert told(agency_officer) == [("deadline_1d", 1), ("deadline_7d", 7)]


def test_a_moved_deadline_is_a_new_warning(run, quiet, today, agency_officer):
    from tests.tasks.conftest import set_deadline

    set_deadline("T15", 5)
    run(rules=["deadline_7d"])
    set_deadline("T15", 6)
    result = run(rules=["deadline_7d"])
    assert (result.raised, result.closed) == (1, 1)
    assert Alert.objects.open().get(assignment__task__code="T15").day == today + datetime.timedelta(days=6)


def test_overdue_for_fifteen_days_tells_the_unit_and_its_head_then_the_lead_agency(
    run, quiet, today, province_officer, outsider_province_officer, agency_officer, email, head
):
    from tests.tasks.conftest import set_deadline

    email(province_officer)
    email(agency_officer)
    head("province", "01", "head.hanoi@example.org")
    head("agency", "BCA", "head.bca@example.org", language="en")
    set_deadline("T22", -15)  # province-level, led by BCA
    run(rules=ASSIGNMENT_RULES)
    hanoi = assignment("T22", province="01")
    assert open_alerts(assignment=hanoi) == [("overdue", 0), ("overdue", 14)]
    escalated = Alert.objects.get(assignment=hanoi, threshold=14)
    assert escalated.agency.code == "BCA"  # addressed to the lead agency
    assert told(province_officer) == [("overdue", 0)]
    assert told(outsider_province_officer) == [("overdue", 0)]  # HCMC's own T22, not Hà Nội's
    assert Notification.objects.filter(user=agency_officer, alert__threshold=14).count() == 34  # every province's
    digests_send()
    sent = {m.to[0]: m for m in mail.outbox}
    assert set(sent) == {
        "officer-hanoi@example.org",
        "head.hanoi@example.org",
        "head.bca@example.org",
        "officer-bca@example.org",
    }
    assert "T22" in sent["head.hanoi@example.org"].body
    assert sent["head.bca@example.org"].extra_headers["Content-Language"] == "en"


def test_thirteen_days_overdue_is_not_yet_escalated(run, quiet, province_officer):
    from tests.tasks.conftest import set_deadline

    set_deadline("T22", -13)
    run(rules=["overdue"])
    assert open_alerts(assignment=assignment("T22", province="01")) == [("overdue", 0)]


def test_completing_an_overdue_assignment_closes_its_alerts_at_once(
    run, quiet, today, province_officer, django_capture_on_commit_callbacks
):
    from tests.tasks.conftest import set_deadline

    set_deadline("T22", -15)
    run(rules=ASSIGNMENT_RULES)
    hanoi = assignment("T22", province="01")
    with django_capture_on_commit_callbacks(execute=True):
        assignment_update(
            assignment=hanoi, actor=province_officer, version=1, status="completed", progress=100, completed_on=today
        )
    assert open_alerts(assignment=hanoi) == []  # before any run: the receiver of assignments_changed
    assert Alert.objects.filter(assignment=hanoi, closed_at__isnull=False).count() == 2
    assert run(rules=ASSIGNMENT_RULES).raised == 0


def test_a_reopened_assignment_reopens_its_alert_without_telling_anyone_twice(
    run, quiet, today, province_officer, django_capture_on_commit_callbacks
):
    from tests.tasks.conftest import set_deadline

    set_deadline("T22", -3)
    run(rules=["overdue"])
    hanoi = assignment("T22", province="01")
    with django_capture_on_commit_callbacks(execute=True):
        assignment_update(
            assignment=hanoi, actor=province_officer, version=1, status="completed", progress=100, completed_on=today
        )
    assert open_alerts(assignment=hanoi) == []
    with django_capture_on_commit_callbacks(execute=True):
        assignment_update(
            assignment=hanoi, actor=province_officer, version=2, status="in_progress", progress=90, note="reopened"
        )
    result = run(rules=["overdue"])
    assert (result.raised, result.reopened) == (0, 1)
    assert open_alerts(assignment=hanoi) == [("overdue", 0)]
    assert told(province_officer) == [("overdue", 0)]


# --- stagnant and blocked -----------------------------------------------------------------------------------


def test_stagnant_after_fourteen_days_without_update_until_the_next_update(
    run, quiet, today, province_officer, email, head
):
    email(province_officer)
    head("province", "01", "head.hanoi@example.org")
    target = history(
        assignment("T29", province="01"), province_officer, [(local(ago(today, 15), 9), "in_progress", 30)]
    )
    run(rules=["stagnant"])
    assert open_alerts(assignment=target) == [("stagnant", 14)]
    assert told(province_officer) == [("stagnant", 14)]
    digests_send()
    assert sorted(m.to[0] for m in mail.outbox) == ["head.hanoi@example.org", "officer-hanoi@example.org"]

    history(target, province_officer, [(local(today, 9), "in_progress", 50)])  # an update: no longer stagnant
    assert run(rules=["stagnant"]).closed == 1
    assert open_alerts(assignment=target) == []


def test_blocked_for_eight_days_tells_the_blocking_agency_then_its_head(
    run, quiet, today, province_officer, other_agency_officer, agency_officer, email, head, api_for
):
    email(other_agency_officer)
    head("agency", "TANDTC", "head.tandtc@example.org")
    target = history(
        assignment("T22", province="01"),
        province_officer,
        [(local(ago(today, 20), 9), "in_progress", 20), (local(ago(today, 8), 9), "blocked", 20, "TANDTC")],
    )
    run(rules=["blocked", "stagnant"])
    assert open_alerts(assignment=target) == [("blocked", 0), ("blocked", 7)]  # blocked work is not "stagnant"
    blocked = Alert.objects.get(assignment=target, threshold=0)
    assert (blocked.agency.code, blocked.since) == ("TANDTC", ago(today, 8))
    assert told(other_agency_officer) == [("blocked", 0)]  # its users at once
    assert told(agency_officer) == []
    digests_send()
    addresses = sorted(m.to[0] for m in mail.outbox)
    assert addresses == ["head.tandtc@example.org", "officer-tandtc@example.org"]  # and after 7 days its head

    # The blocking agency sees the assignment it blocks, though it neither leads nor coordinates T22.
    blockers = api_for(user=other_agency_officer).get("/api/v1/blockers/").json()["results"]
    assert [(b["assignment"], b["blocking_agency"], b["since"], b["days_waiting"]) for b in blockers] == [
        (target.pk, "TANDTC", ago(today, 8).isoformat(), 8)
    ]

    history(target, province_officer, [(local(today, 9), "in_progress", 40)])  # lifted
    assert run(rules=["blocked"]).closed == 2


def test_a_block_moved_to_another_agency_is_a_new_alert(run, quiet, today, province_officer, other_agency_officer):
    target = history(
        assignment("T22", province="01"),
        province_officer,
        [(local(ago(today, 10), 9), "blocked", 20, "TANDTC"), (local(ago(today, 10), 15), "blocked", 20, "BTC")],
    )
    run(rules=["blocked"])
    (alert,) = Alert.objects.filter(assignment=target, threshold=0)
    assert alert.agency.code == "BTC" and alert.since == ago(today, 10)
    assert told(other_agency_officer) == []


# --- support requests -------------------------------------------------------------------------------------------


def test_a_support_request_tells_the_province_until_an_officer_closes_it(
    run, today, province_officer, outsider_province_officer, commune_clerk, api_for
):
    report = make_report("00004", ago(today, 1), support_needed=True)
    run(rules=["support_needed"])
    assert open_alerts(report=report) == [("support_needed", 0)]
    assert told(province_officer) == [("support_needed", 0)]
    assert told(outsider_province_officer) == [] and told(commune_clerk) == []

    support_request_close(report=report, user=province_officer, resolution="A scanner was lent to the desk.")
    assert open_alerts(report=report) == []  # at once
    assert run(rules=["support_needed"]).raised == 0
    seen = api_for(user=commune_clerk).get("/api/v1/support-requests/").json()["results"]
    assert [(s["id"], s["open"], s["resolution"]) for s in seen] == [
        (report.pk, False, "A scanner was lent to the desk.")
    ]


# --- as of a past day -------------------------------------------------------------------------------------------


def test_the_state_as_of_today_replayed_from_history_equals_the_live_rows(
    quiet, today, province_officer, commune_clerk
):
    history(
        assignment("T22", province="01"),
        province_officer,
        [(local(ago(today, 9), 9), "in_progress", 20), (local(ago(today, 4), 9), "blocked", 30, "BTC")],
    )
    history(assignment("T30", commune="00004"), commune_clerk, [(local(ago(today, 2), 9), "completed", 100)])
    live = {s.id: s for s in assignment_states()}
    replayed = {s.id: s for s in assignment_states(before=end_of_day(today))}
    assert live == replayed


def test_as_of_a_day_before_a_change_sees_the_state_before_it(run, quiet, today, province_officer):
    target = history(
        assignment("T22", province="01"),
        province_officer,
        [(local(ago(today, 30), 9), "in_progress", 20), (local(ago(today, 3), 9), "blocked", 20, "BTC")],
    )
    run(as_of=ago(today, 5), rules=["blocked", "stagnant"])
    assert open_alerts(assignment=target) == [("stagnant", 14)]  # 25 days without update, not yet blocked
    run(rules=["blocked", "stagnant"])
    assert open_alerts(assignment=target) == [("blocked", 0)]


def test_a_future_or_unknown_as_of_is_refused_and_writes_nothing(run, today):
    from alerts.services.runs import AlertsRunError

    with pytest.raises(AlertsRunError):
        run(as_of=today + datetime.timedelta(days=1))
    with pytest.raises(AlertsRunError):
        run(rules=["nonsense"])
    assert not AlertRun.objects.exists()


# --- exactly once ---------------------------------------------------------------------------------------------


def test_repeated_runs_raise_and_send_nothing_twice(run, quiet, today, province_officer, email, head):
    from tests.tasks.conftest import set_deadline

    email(province_officer)
    head("province", "01", "head.hanoi@example.org")
    set_deadline("T22", -15)
    make_report("00004", ago(today, 1), support_needed=True)
    first = run(rules=[*ASSIGNMENT_RULES, "support_needed"])
    digests_send()
    sent = len(mail.outbox)
    assert first.raised > 0 and sent == 2
    for _again in range(2):
        result = run(rules=[*ASSIGNMENT_RULES, "support_needed"])
        assert (result.raised, result.notifications, result.digests) == (0, 0, 0)
        assert digests_send().sent == 0
    assert len(mail.outbox) == sent
    assert Notification.objects.filter(user=province_officer).count() == 2  # overdue, support


def test_one_digest_per_person_per_run_lists_all_their_new_alerts(run, quiet, today, province_officer, email):
    from tests.tasks.conftest import set_deadline

    email(province_officer)
    set_deadline("T22", -15)
    make_report("00004", ago(today, 1), support_needed=True)
    make_report("00008", ago(today, 1), support_needed=True)
    run(rules=[*ASSIGNMENT_RULES, "support_needed"])
    digests_send()
    (message,) = mail.outbox
    assert message.body.count("http://") >= 3  # the overdue T22 and the two support requests
    assert Digest.objects.get().items.count() == 3
