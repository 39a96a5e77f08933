import datetime

import pytest

from core.officehours import OfficeHours, parse_days, parse_duration
from tests.support.conftest import MONDAY, local

HOURS = OfficeHours(frozenset(range(5)), datetime.time(7, 30), datetime.time(17), "Asia/Ho_Chi_Minh")
FRIDAY = MONDAY + datetime.timedelta(days=4)


def test_two_hours_within_one_morning():
    assert HOURS.add(local(MONDAY, 9), datetime.timedelta(hours=2)) == local(MONDAY, 11)


def test_time_after_closing_continues_next_morning():
    assert HOURS.add(local(MONDAY, 16), datetime.timedelta(hours=2)) == local(
        MONDAY + datetime.timedelta(days=1), 8, 30
    )


def test_friday_evening_waits_for_monday():
    assert HOURS.add(local(FRIDAY, 16, 30), datetime.timedelta(hours=2)) == local(
        FRIDAY + datetime.timedelta(days=3), 9
    )


def test_reported_on_sunday_counts_from_monday_opening():
    sunday = MONDAY - datetime.timedelta(days=1)
    assert HOURS.add(local(sunday, 12), datetime.timedelta(hours=8)) == local(MONDAY, 15, 30)


def test_one_office_day_is_the_same_time_next_open_day():
    day = parse_duration("1d", day=HOURS.day_length)
    assert HOURS.add(local(FRIDAY, 10), day) == local(FRIDAY + datetime.timedelta(days=3), 10)


def test_between_counts_only_open_time():
    assert HOURS.between(local(FRIDAY, 16), local(FRIDAY + datetime.timedelta(days=3), 8)) == datetime.timedelta(
        hours=1, minutes=30
    )


@pytest.mark.parametrize("text", ["", "2", "h2", "0h", "-1h", "2w"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text, day=HOURS.day_length)


def test_days_ranges():
    assert parse_days("0-4") == frozenset(range(5))
    assert parse_days("0,2,5-6") == frozenset({0, 2, 5, 6})
    with pytest.raises(ValueError):
        parse_days("3-9")
