"""Office hours: durations counted only while the office is open (DESIGN.md §12's times to acknowledge and to
resolve an incident). Generic: the caller gives the week's open days and the day's opening and closing times,
in a time zone; the settings of a deployment say what they are (plan02.settings OFFICE_HOURS_*).

A "day" of office time is one office day's length (07:30–17:00 is 9 h 30 min): "acknowledge within one day"
means by the same time on the next open day.
"""

import datetime
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

_DURATION = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")


@dataclass(frozen=True)
class OfficeHours:
    """Open `days` (Monday 0 … Sunday 6) from `opens` to `closes`, local time in `zone`."""

    days: frozenset[int]
    opens: datetime.time
    closes: datetime.time
    zone: str

    def __post_init__(self) -> None:
        if not self.days or not self.days <= set(range(7)):
            raise ValueError("office days are weekday numbers 0 (Monday) to 6 (Sunday)")
        if self.opens >= self.closes:
            raise ValueError("the office opens before it closes")

    @property
    def day_length(self) -> datetime.timedelta:
        today = datetime.date(2000, 1, 3)
        return datetime.datetime.combine(today, self.closes) - datetime.datetime.combine(today, self.opens)

    def add(self, start: datetime.datetime, duration: datetime.timedelta) -> datetime.datetime:
        """The moment `duration` of office time after `start` (an aware datetime); in `zone`."""
        if duration < datetime.timedelta(0):
            raise ValueError("a negative duration")
        tz = ZoneInfo(self.zone)
        cursor = start.astimezone(tz)
        remaining = duration
        # At most one iteration per calendar day; a week always holds an open day (checked above).
        while True:
            day = cursor.date()
            if day.weekday() in self.days:
                opens = datetime.datetime.combine(day, self.opens, tzinfo=tz)
                closes = datetime.datetime.combine(day, self.closes, tzinfo=tz)
                begin = max(cursor, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            cursor = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(0), tzinfo=tz)

    def between(self, start: datetime.datetime, end: datetime.datetime) -> datetime.timedelta:
        """Office time from `start` to `end` (zero when end is not after start)."""
        if end <= start:
            return datetime.timedelta(0)
        tz = ZoneInfo(self.zone)
        cursor, end = start.astimezone(tz), end.astimezone(tz)
        total = datetime.timedelta(0)
        while cursor < end:
            day = cursor.date()
            if day.weekday() in self.days:
                opens = datetime.datetime.combine(day, self.opens, tzinfo=tz)
                closes = datetime.datetime.combine(day, self.closes, tzinfo=tz)
                begin, finish = max(cursor, opens), min(end, closes)
                if begin < finish:
                    total += finish - begin
            cursor = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(0), tzinfo=tz)
        return total


def parse_duration(text: str, *, day: datetime.timedelta) -> datetime.timedelta:
    """ "90m", "2h", "1d" (one office day of length `day`) → a duration; ValueError otherwise."""
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 90m, 2h or 1d")
    amount, unit = int(match.group(1)), match.group(2)
    if amount <= 0:
        raise ValueError(f"{text!r} must be positive")
    return {"m": datetime.timedelta(minutes=amount), "h": datetime.timedelta(hours=amount), "d": day * amount}[unit]


def parse_days(text: str) -> frozenset[int]:
    """ "0-4" or "0,1,2,3,4,5" → weekday numbers; ValueError otherwise."""
    days: set[int] = set()
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        first, _, last = part.partition("-")
        lo, hi = int(first), int(last or first)
        if not 0 <= lo <= hi <= 6:
            raise ValueError(f"{text!r}: weekdays are 0 (Monday) to 6 (Sunday)")
        days.update(range(lo, hi + 1))
    if not days:
        raise ValueError(f"{text!r} names no weekday")
    return frozenset(days)
