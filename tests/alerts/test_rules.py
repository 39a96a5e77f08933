"""The rules as plain functions over rows (alerts.rules): no database."""

import datetime

import pytest
from django.utils import translation

from alerts.facts import AssignmentState, TaskFacts, Thresholds, latest_due_day, missing_streak
from alerts.rules import Rule, assignment_conditions, audiences, missing_conditions, title
from tests.alerts.conftest import local

DAY = datetime.date(2026, 3, 20)
T = Thresholds(
    deadline_early=7,
    deadline_last=1,
    overdue_escalation=14,
    stagnant=14,
    blocked_escalation=7,
    missing=(1, 3, 7),
    reports_from=datetime.date(2025, 7, 1),
)


def state(**changes):
    values = {
        "id": 9,
        "task_id": 1,
        "level": "commune",
        "agency_id": None,
        "province_id": "01",
        "commune_id": "00004",
        "status": "in_progress",
        "progress": 40,
        "completed_on": None,
        "blocked_by_id": None,
        "last_update": DAY - datetime.timedelta(days=2),
        "blocked_since": None,
    }
    values.update(changes)
    return AssignmentState(**values)


def task(days_left, lead=5):
    return TaskFacts(
        deadline=DAY + datetime.timedelta(days=days_left),
        lead_agency_id=lead,
        opens_on=DAY - datetime.timedelta(days=90),
    )


def rules_of(conditions):
    return sorted((c.rule, c.threshold) for c in conditions)


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        (8, []),
        (7, [("deadline_7d", 7)]),
        (2, [("deadline_7d", 7)]),
        (1, [("deadline_1d", 1), ("deadline_7d", 7)]),
        (0, [("deadline_1d", 1), ("deadline_7d", 7)]),
        (-1, [("overdue", 0)]),
        (-13, [("overdue", 0)]),
        (-14, [("overdue", 0), ("overdue", 14)]),
        (-15, [("overdue", 0), ("overdue", 14)]),
    ],
)
def test_deadline_rules_follow_the_days_left(days_left, expected):
    assert rules_of(assignment_conditions(state(), task(days_left), today=DAY, thresholds=T)) == expected


def test_the_overdue_escalation_is_addressed_to_the_lead_agency():
    first, escalated = assignment_conditions(state(), task(-15, lead=5), today=DAY, thresholds=T)
    assert (first.agency_id, escalated.agency_id) == (None, 5)
    assert first.day == escalated.day == DAY - datetime.timedelta(days=15)  # keyed by the deadline
    assert escalated.since == first.day + datetime.timedelta(days=14)


def test_a_completed_assignment_raises_nothing_even_when_it_was_late():
    done = state(status="completed", progress=100, completed_on=DAY - datetime.timedelta(days=1))
    assert list(assignment_conditions(done, task(-30), today=DAY, thresholds=T)) == []


def test_stagnant_after_fourteen_days_without_update_keyed_by_the_last_update():
    quiet = state(last_update=DAY - datetime.timedelta(days=14))
    (stagnant,) = assignment_conditions(quiet, task(30), today=DAY, thresholds=T)
    assert (stagnant.rule, stagnant.threshold, stagnant.day) == ("stagnant", 14, DAY - datetime.timedelta(days=14))
    assert (
        list(
            assignment_conditions(
                state(last_update=DAY - datetime.timedelta(days=13)), task(30), today=DAY, thresholds=T
            )
        )
        == []
    )


def test_never_updated_work_is_stagnant_once_its_task_has_been_open_for_fourteen_days():
    never = state(status="not_started", progress=0, last_update=None)
    opened = TaskFacts(
        deadline=DAY + datetime.timedelta(days=30), lead_agency_id=5, opens_on=DAY - datetime.timedelta(days=13)
    )
    assert list(assignment_conditions(never, opened, today=DAY, thresholds=T)) == []
    (stagnant,) = assignment_conditions(
        never, opened._replace(opens_on=DAY - datetime.timedelta(days=14)), today=DAY, thresholds=T
    )
    assert stagnant.rule == "stagnant"


def test_blocked_tells_the_blocking_agency_and_after_seven_days_its_head_instead_of_stagnant():
    since = DAY - datetime.timedelta(days=8)
    blocked = state(status="blocked", blocked_by_id=3, blocked_since=since, last_update=since)
    conditions = list(assignment_conditions(blocked, task(30), today=DAY, thresholds=T))
    assert rules_of(conditions) == [("blocked", 0), ("blocked", 7)]
    assert {c.key for c in conditions} == {"assignment:9:blocked_by:3"}
    assert {(c.agency_id, c.day) for c in conditions} == {(3, since)}
    six_days = blocked._replace(blocked_since=DAY - datetime.timedelta(days=6))
    assert rules_of(assignment_conditions(six_days, task(30), today=DAY, thresholds=T)) == [("blocked", 0)]


@pytest.mark.parametrize(
    ("last", "expected"),
    [
        (DAY, (DAY + datetime.timedelta(days=1), 0)),  # reported for the latest day due
        (DAY - datetime.timedelta(days=1), (DAY, 1)),
        (DAY - datetime.timedelta(days=3), (DAY - datetime.timedelta(days=2), 3)),
        (None, (datetime.date(2025, 7, 1), (DAY - datetime.date(2025, 7, 1)).days + 1)),
    ],
)
def test_a_streak_runs_from_the_day_after_the_last_report_to_the_latest_day_due(last, expected):
    assert missing_streak(last, latest_due=DAY, reports_from=datetime.date(2025, 7, 1)) == expected


def test_the_ladder_raises_each_step_the_streak_has_reached_keyed_by_its_first_day():
    last = {"00001": DAY, "00004": DAY - datetime.timedelta(days=3), "00007": DAY - datetime.timedelta(days=8)}
    communes = [("00001", "01"), ("00004", "01"), ("00007", "01")]
    conditions = list(missing_conditions(communes, last, latest_due=DAY, thresholds=T))
    assert sorted((c.commune_id, c.rule, c.day) for c in conditions) == [
        ("00004", "missing_report_1", DAY - datetime.timedelta(days=2)),
        ("00004", "missing_report_3", DAY - datetime.timedelta(days=2)),
        ("00007", "missing_report_1", DAY - datetime.timedelta(days=7)),
        ("00007", "missing_report_3", DAY - datetime.timedelta(days=7)),
        ("00007", "missing_report_7", DAY - datetime.timedelta(days=7)),
    ]


@pytest.mark.parametrize(
    ("hour", "expected"),
    [
        (7, DAY - datetime.timedelta(days=2)),
        (8, DAY - datetime.timedelta(days=1)),
        (23, DAY - datetime.timedelta(days=1)),
    ],
)
def test_the_latest_day_due_turns_at_the_due_hour(hour, expected):
    assert latest_due_day(local(DAY, hour)) == expected


def test_each_rule_has_its_audience():
    assert [a.unit for a in audiences(Rule.MISSING_REPORT_1, 1)] == ["commune"]
    assert [a.unit for a in audiences(Rule.MISSING_REPORT_3, 3)] == ["province"]
    assert [a.unit for a in audiences(Rule.MISSING_REPORT_7, 7)] == ["steering"]
    assert [(a.who, a.unit) for a in audiences(Rule.OVERDUE, 0)] == [("users", "unit"), ("head", "unit")]
    assert [(a.who, a.unit) for a in audiences(Rule.OVERDUE, 14)] == [("users", "agency"), ("head", "agency")]
    assert [(a.who, a.unit) for a in audiences(Rule.BLOCKED, 7)] == [("head", "agency")]


def test_titles_read_in_the_active_language():
    with translation.override("en"):
        line = title(rule="missing_report_3", threshold=3, subject="Phường Ba Đình (00004)", day=DAY, since=DAY)
    assert line == "No daily report for 3 days in a row (since 20/03/2026): Phường Ba Đình (00004)"
    with translation.override("vi"):
        line = title(rule="overdue", threshold=0, subject="T30 · Phường Ba Đình", day=DAY, since=DAY)
    assert "20/03/2026" in line and "T30 · Phường Ba Đình" in line
