"""Forecasts of completion dates, from the pace of the last FORECAST_WINDOW days of task snapshots.

The work of a phase or a lead agency is counted in tasks, each weighed by the share of its assignments that
are green (TaskSnapshot.done): a commune-level task counts once, by its share of green communes, not 3,321
times, so seven commune-level tasks no longer drown forty-four central ones. A task's own forecast counts
its assignments (its communes, its provinces or its agencies).

Risk: green when the work would be done by the deadline, amber up to GRACE_DAYS after it, red beyond, when
nothing moved in the window, or when the deadline has passed with work open. The reason names the numbers
it used, so a reader can check it.
"""

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

FORECAST_WINDOW = 28
GRACE_DAYS = 30
# Beyond this, a date at the recent pace says nothing (a trickle of progress puts it in the next century):
# the forecast gives no date and says how long it would take.
HORIZON_DAYS = 3 * 365


@dataclass(frozen=True)
class Progress:
    """How much work a slice has, how much is done, on which day; `unit` says what is counted."""

    day: datetime.date
    total: float
    done: float
    unit: str = "tasks"  # or "assignments"

    @property
    def remaining(self) -> float:
        return max(self.total - self.done, 0.0)


def _amount(value: float, unit: str) -> str:
    if unit == "tasks":
        return number_format(round(value, 1), decimal_pos=1)
    return number_format(round(value), force_grouping=True)


def forecast(
    *, current: Progress | None, earlier: Progress | None, deadline: datetime.date, today: datetime.date
) -> dict[str, Any]:
    """{"date", "risk" (green|amber|red), "reason"}: when the remaining work would be done at the pace
    between `earlier` and `current`."""
    if current is None or not current.total:
        return {"date": None, "risk": "amber", "reason": _("No task snapshot yet.")}
    unit_label = _("tasks (weighted by their share of green units)") if current.unit == "tasks" else _("assignments")
    values = {
        "remaining": _amount(current.remaining, current.unit),
        "total": _amount(current.total, current.unit),
        "unit": unit_label,
        "deadline": date_format(deadline, "SHORT_DATE_FORMAT"),
        "window": FORECAST_WINDOW,
    }
    if current.remaining <= 1e-9:
        return {"date": None, "risk": "green", "reason": _("All %(total)s %(unit)s are completed.") % values}
    done = current.done - (earlier.done if earlier else 0.0)
    days = (current.day - earlier.day).days if earlier else 0
    values["done"] = _amount(max(done, 0.0), current.unit)
    if done <= 1e-9 or days <= 0:
        reason = (
            _("%(remaining)s of %(total)s %(unit)s remain and none was completed in the last %(window)s days.") % values
        )
        return {"date": None, "risk": "red", "reason": reason}
    pace = done / days
    needed = int(current.remaining / pace + 0.999)
    if needed > HORIZON_DAYS:
        values |= {"pace": _amount(pace * 7, current.unit), "days": days, "years": HORIZON_DAYS // 365}
        reason = (
            _(
                "%(remaining)s of %(total)s %(unit)s remain; at the pace of the last %(days)s days (%(pace)s a week) "
                "they would take more than %(years)s years."
            )
            % values
        )
        return {"date": None, "risk": "red", "reason": reason}
    finish = current.day + datetime.timedelta(days=needed)
    values |= {
        "pace": _amount(pace * 7, current.unit),
        "finish": date_format(finish, "SHORT_DATE_FORMAT"),
        "days": days,
    }
    if finish <= deadline:
        risk = "green"
        reason = (
            _(
                "%(remaining)s of %(total)s %(unit)s remain; %(done)s were completed in the last %(days)s days "
                "(%(pace)s a week), so they would be completed by %(finish)s, before the deadline of %(deadline)s."
            )
            % values
        )
    elif today > deadline:
        risk = "red"
        reason = (
            _(
                "The deadline of %(deadline)s has passed with %(remaining)s of %(total)s %(unit)s open; at the pace of "
                "the last %(days)s days (%(pace)s a week) they would be completed by %(finish)s."
            )
            % values
        )
    else:
        late_days = (finish - deadline).days
        risk = "amber" if late_days <= GRACE_DAYS else "red"
        reason = ngettext(
            "%(remaining)s of %(total)s %(unit)s remain; %(done)s were completed in the last %(days)s days "
            "(%(pace)s a week), so they would be completed by %(finish)s, %(late)s day after the deadline of "
            "%(deadline)s.",
            "%(remaining)s of %(total)s %(unit)s remain; %(done)s were completed in the last %(days)s days "
            "(%(pace)s a week), so they would be completed by %(finish)s, %(late)s days after the deadline of "
            "%(deadline)s.",
            late_days,
        ) % {**values, "late": late_days}
    return {"date": finish, "risk": risk, "reason": reason}


def of_tasks(snapshot: Any) -> Progress | None:
    """A task-weighted slice (phase, lead agency) as Progress."""
    return Progress(snapshot.date, snapshot.tasks, snapshot.done) if snapshot is not None else None


def of_assignments(snapshot: Any) -> Progress | None:
    """A task's own snapshot as Progress in assignments."""
    return Progress(snapshot.date, snapshot.assignments, snapshot.green, "assignments") if snapshot else None


SLIPPED_RISKS = {"green": 0, "amber": 1, "red": 2}
# In words, where the colour does not show (the comparison's export) and for what a forecast is of.
RISK_LABELS = {"green": gettext_lazy("on time"), "amber": gettext_lazy("at risk"), "red": pgettext_lazy("risk", "late")}
KIND_LABELS = {"phase": gettext_lazy("phase"), "agency": gettext_lazy("agency"), "task": gettext_lazy("task")}


def slipped(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Did a forecast get worse between two meetings: a higher risk, or a later date at the same risk?"""
    b, a = SLIPPED_RISKS.get(str(before.get("risk")), 1), SLIPPED_RISKS.get(str(after.get("risk")), 1)
    if a != b:
        return a > b
    return bool(before.get("date") and after.get("date") and after["date"] > before["date"])
