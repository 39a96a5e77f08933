"""dashboards.forecasts: the completion date at the recent pace, its risk colour and a reason that names the
numbers it used; tasks weighed by their share of green units."""

import datetime

from django.utils import translation

from dashboards.forecasts import Progress, forecast, of_tasks, slipped
from dashboards.models import TaskSnapshot

TODAY = datetime.date(2026, 1, 1)
DEADLINE = datetime.date(2026, 3, 1)
EARLIER = Progress(TODAY - datetime.timedelta(days=28), 100, 20, "assignments")


def at(done, total=100, unit="assignments"):
    return Progress(TODAY, total, done, unit)


def test_colours_follow_the_finish_against_the_deadline():
    on_pace = forecast(current=at(76), earlier=EARLIER, deadline=DEADLINE, today=TODAY)
    assert on_pace["risk"] == "green" and on_pace["date"] == datetime.date(2026, 1, 13)
    slow = forecast(current=at(24), earlier=EARLIER, deadline=DEADLINE, today=TODAY)
    assert slow["risk"] == "red" and slow["date"] > DEADLINE
    stalled = forecast(current=at(20), earlier=EARLIER, deadline=DEADLINE, today=TODAY)
    assert stalled["risk"] == "red" and stalled["date"] is None
    done = forecast(current=at(100), earlier=EARLIER, deadline=DEADLINE, today=TODAY)
    assert done["risk"] == "green" and done["date"] is None
    a_bit_late = forecast(current=at(40), earlier=EARLIER, deadline=DEADLINE, today=TODAY)
    assert a_bit_late["risk"] == "amber"
    past = forecast(current=at(90), earlier=EARLIER, deadline=TODAY - datetime.timedelta(days=1), today=TODAY)
    assert past["risk"] == "red"
    assert forecast(current=None, earlier=None, deadline=DEADLINE, today=TODAY)["risk"] == "amber"


def test_the_reason_names_the_numbers_it_used():
    with translation.override("en"):
        slow = forecast(current=at(24), earlier=EARLIER, deadline=DEADLINE, today=TODAY)
        weighted = forecast(
            current=Progress(TODAY, 28, 12.5), earlier=Progress(EARLIER.day, 28, 10.0), deadline=DEADLINE, today=TODAY
        )
    assert "76 of 100 assignments remain" in slow["reason"]
    assert "4 were completed in the last 28 days" in slow["reason"]
    assert "after the deadline of" in slow["reason"]
    assert "15.5 of 28.0 tasks (weighted by their share of green units) remain" in weighted["reason"]
    assert "2.5 were completed" in weighted["reason"]


def test_a_commune_level_task_counts_once_by_its_share_of_green_communes():
    """Seven commune-level tasks of 3,321 assignments each beside 44 central ones: the phase's work is 51
    tasks, and a commune-level task half done is half a task, not 1,660 assignments."""
    snapshot = TaskSnapshot(date=TODAY, tasks=51, done=44 * 0.5 + 7 * 0.5, assignments=23_247 + 44, green=11_645)
    progress = of_tasks(snapshot)
    assert (progress.total, progress.done, progress.remaining) == (51, 25.5, 25.5)


def test_a_forecast_slips_when_its_risk_rises_or_its_date_moves_later():
    green = {"risk": "green", "date": datetime.date(2026, 2, 1)}
    assert slipped(green, {"risk": "amber", "date": datetime.date(2026, 2, 1)})
    assert slipped(green, {"risk": "green", "date": datetime.date(2026, 2, 10)})
    assert not slipped(green, {"risk": "green", "date": datetime.date(2026, 1, 20)})
    assert not slipped({"risk": "red", "date": None}, green)


def test_a_trickle_of_progress_gives_no_date_in_the_next_century():
    with translation.override("en"):
        trickle = forecast(current=at(20.01), earlier=EARLIER, deadline=DEADLINE, today=TODAY)
    assert trickle["risk"] == "red" and trickle["date"] is None
    assert "would take more than 3 years" in trickle["reason"]
