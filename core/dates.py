"""The one date parser of the portal: report fields, query parameters, spreadsheet cells, commands and job
arguments all read dates here, so every channel accepts the same text and says the same thing when it is
wrong.

Only `YYYY-MM-DD` is a date. Python's `date.fromisoformat` also takes `20250701` and `2025-W27-2`; a
person or a client sending those almost certainly meant something else, so they are refused.

A foundation module: it imports no app, so every app may use it.
"""

import datetime
import re

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Kế hoạch 02-KH/BCĐTW is dated 19 June 2025 (DOMAIN.md): the first day an as-of view can show; nothing
# was recorded before it.
PLAN_DATE = datetime.date(2025, 6, 19)

INVALID_DATE = "invalid_date"
DATE_MESSAGE = _("Must be a date written YYYY-MM-DD.")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Every date read has a day before and a day after it: a range "until D" ends at the midnight after D, "from D"
# starts at the one before, and date.max + 1 day (or date.min - 1) is an OverflowError, not a date.
FIRST_DATE = datetime.date.min + datetime.timedelta(days=1)
LAST_DATE = datetime.date.max - datetime.timedelta(days=1)
RANGE_MESSAGE = _("Must be a date from %(first)s to %(last)s.")


class DateError(ValueError):
    """Not a date written YYYY-MM-DD, or one without a day before or after it. `code` is the API's stable
    error code; str() the translated message."""

    code = INVALID_DATE

    def __init__(self, value: object = None, *, out_of_range: bool = False) -> None:
        self.value = value
        self.out_of_range = out_of_range
        super().__init__(str(self))

    def __str__(self) -> str:
        # Translated when shown, not when raised.
        if self.out_of_range:
            return str(RANGE_MESSAGE % {"first": FIRST_DATE.isoformat(), "last": LAST_DATE.isoformat()})
        return str(DATE_MESSAGE)


def parse_date(value: object, *, bounded: bool = True) -> datetime.date:
    """A date from `YYYY-MM-DD` text, or from a date or datetime (spreadsheet cells), from FIRST_DATE to
    LAST_DATE. Raises DateError. `bounded=False` lets 0001-01-01 and 9999-12-31 through, for a caller that
    checks its own window (plan date to today) before any arithmetic, so its answer names the window."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        if bounded and not FIRST_DATE <= value <= LAST_DATE:
            raise DateError(value, out_of_range=True)
        return value
    if not isinstance(value, str):
        raise DateError(value)
    text = value.strip()
    if not _DATE_RE.fullmatch(text):
        raise DateError(value)
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:  # 2025-13-01, 2025-02-30
        raise DateError(value) from None
    if bounded and not FIRST_DATE <= day <= LAST_DATE:  # 0001-01-01, 9999-12-31
        raise DateError(value, out_of_range=True)
    return day


def parse_date_or_none(value: object, *, bounded: bool = True) -> datetime.date | None:
    """parse_date(), or None for anything that is not a date (addresses whose date part is wrong: 404)."""
    try:
        return parse_date(value, bounded=bounded)
    except DateError:
        return None


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The midnight (in the portal's time zone, Asia/Ho_Chi_Minh) that ends `day`: what was recorded before
    it is the state "as of" that day."""
    midnight = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time())
    return timezone.make_aware(midnight, timezone.get_default_timezone())


class BadDay(ValueError):
    """A view's `date` parameter is refused: `code` is the API's stable error code, str() the message."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def view_day(value: str) -> datetime.date:
    """The `date` parameter of a view as of a day (dashboards, task pages, targets, meetings): YYYY-MM-DD,
    from the plan's date to today in Asia/Ho_Chi_Minh. Raises BadDay."""
    try:
        day = parse_date(value, bounded=False)  # the window below is narrower than parse_date's bounds
    except DateError as exc:
        raise BadDay(exc.code, str(exc)) from None
    today = timezone.localdate()
    if day > today:
        raise BadDay(
            "date_in_future",
            str(_("Must not be after today (%(today)s in Asia/Ho_Chi_Minh).") % {"today": today.isoformat()}),
        )
    if day < PLAN_DATE:
        raise BadDay("date_too_early", str(_("Must not be before %(first)s.") % {"first": PLAN_DATE.isoformat()}))
    return day
