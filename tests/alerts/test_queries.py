"""The run is set-based: the same number of queries whatever the number of communes, assignments or alerts
(on SQLite, Django splits an insert past ~70 rows because of SQLite's parameter limit; PostgreSQL sends one
statement for any number of rows, which the benchmark measures at national scale)."""

import datetime

import pytest
from django.db import connection

from tests.alerts.conftest import assignment, history, local, reports_for_all
from tests.reports.factories import make_report

pytestmark = pytest.mark.django_db
HANOI = ["00004", "00008", "00025", "00070", "00082", "00091"]


@pytest.fixture
def people(steering, province_officer, other_agency_officer, commune_clerk, email, head):
    for user in (steering, province_officer, other_agency_officer, commune_clerk):
        email(user)
    head("agency", "TANDTC", "head.tandtc@example.org")
    return province_officer


def scenario(n, *, today, settings, officer):
    """n silent communes, n support requests and n assignments blocked by TANDTC for 9 days."""
    yesterday = today - datetime.timedelta(days=1)
    settings.ALERTS_REPORTS_EXPECTED_FROM = yesterday.isoformat()
    reports_for_all([yesterday], silent=HANOI)
    for code in HANOI[n:]:
        make_report(code, yesterday)
    for code in HANOI[:n]:
        make_report(code, yesterday - datetime.timedelta(days=1), support_needed=True)
        history(
            assignment("T30", commune=code),
            officer,
            [(local(today - datetime.timedelta(days=9), 9), "blocked", 10, "TANDTC")],
        )


# savepoint; the run row; task facts, assignment states (history subqueries included), last reports, communes,
# open support requests, the incidents (support.rules), the provinces' first approvals, open quality warnings,
# the sub-tasks' and the follow-up items' states (alerts.work_items, inspections.rules); open alerts of the
# rules; insert the new ones, count those this run inserted, write their events (one INSERT … SELECT), read
# them; preferences, memberships, heads; insert notifications, digests, read the digests' ids, insert their
# items; the run's counts; release.
FIRST_RUN = 26
# savepoint; the run row; the ten inputs (the incidents, approvals, warnings, sub-tasks and follow-up items among
# them); open alerts; the run's counts; release.
QUIET_RUN = 15


@pytest.mark.parametrize("silent", [2, 6])
def test_a_run_costs_the_same_queries_for_2_or_6_of_everything(
    run, quiet, today, settings, people, django_assert_num_queries, silent
):
    scenario(silent, today=today, settings=settings, officer=people)
    with django_assert_num_queries(FIRST_RUN):
        result = run()
    assert result.raised == silent * 4  # missing_report_1, support_needed, blocked at 0 and at 7 days
    with django_assert_num_queries(QUIET_RUN):
        assert run().raised == 0


def test_closing_costs_two_statements_whatever_closes(run, quiet, today, settings, people, django_assert_num_queries):
    scenario(6, today=today, settings=settings, officer=people)
    run()
    settings.ALERTS_REPORTS_EXPECTED_FROM = today.isoformat()  # nobody is expected any more: every streak ends
    with django_assert_num_queries(QUIET_RUN + 2):  # the UPDATE, and the INSERT … SELECT of their events
        assert run().closed == 6
    assert connection.vendor in {"sqlite", "postgresql"}


def blocked_items(n, *, today, officer, inspector):
    """n sub-tasks and n follow-up items blocked by TANDTC for 9 days (history rows, as the service writes)."""
    from inspections.models import Finding, FollowUp, FollowUpUpdate, Inspection
    from tasks.models import Agency, LocalPlan, SubTask, SubTaskUpdate

    tandtc = Agency.objects.get(code="TANDTC")
    began = local(today - datetime.timedelta(days=9), 9)
    blocked = {"status": "blocked", "progress": 10, "blocked_by": tandtc, "blocked_reason": "W", "version": 2}
    plan = LocalPlan.objects.create(province_id="01", number="1", issued_on=today, title="P", created_by=officer)
    inspection = Inspection.objects.create(title="I", starts_on=today, ends_on=today, inspector=inspector)
    parent = assignment("T18", province="01")
    for code in HANOI[:n]:
        item = SubTask.objects.create(
            plan=plan,
            parent=parent,
            title="D",
            commune_id=code,
            deadline=today + datetime.timedelta(days=60),
            **blocked,
        )
        history = {k: v for k, v in blocked.items() if k not in {"status", "progress"}}
        SubTaskUpdate.objects.create(
            subtask=item,
            actor=officer,
            created_at=began,
            old_status="not_started",
            new_status="blocked",
            old_progress=0,
            new_progress=10,
            **history,
        )
        finding = Finding.objects.create(
            inspection=inspection,
            unit_kind="commune",
            province_id="01",
            commune_id=code,
            visited_on=today,
            text="t",
            severity="high",
            recommendation="r",
            deadline=today + datetime.timedelta(days=60),
            created_by=inspector,
        )
        followup = FollowUp.objects.create(
            finding=finding,
            unit_kind="commune",
            province_id="01",
            commune_id=code,
            deadline=today + datetime.timedelta(days=60),
            **blocked,
        )
        FollowUpUpdate.objects.create(
            followup=followup,
            actor=officer,
            created_at=began,
            old_status="not_started",
            new_status="blocked",
            old_progress=0,
            new_progress=10,
            **history,
        )


@pytest.mark.parametrize("blocked", [2, 6])
def test_blocked_items_cost_the_same_queries_for_2_or_6(
    run, quiet, today, settings, people, inspector, django_assert_num_queries, blocked
):
    """The sub-tasks' and follow-up items' blocked rules read their items (blocker and the day the block began
    included) in the one query each kind already had: nothing per item."""
    settings.ALERTS_REPORTS_EXPECTED_FROM = today.isoformat()
    blocked_items(blocked, today=today, officer=people, inspector=inspector)
    with django_assert_num_queries(FIRST_RUN):
        result = run()
    assert result.raised == blocked * 4  # subtask_blocked and followup_blocked, at 0 and at 7 days
    with django_assert_num_queries(QUIET_RUN):
        assert run().raised == 0
