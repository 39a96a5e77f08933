"""Dashboard selectors. They read rollups and snapshots only (never reports across communes), with a fixed
number of queries whatever the length of history. Pages, JSON twins and XLSX exports all use these."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Max, Subquery, Sum
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from localities.models import Province
from reports.figures import INTEGER_FIELDS, rates
from reports.rollup_models import Dimension, NationDayRollup, ProvinceDayRollup, TaskSnapshot
from reports.rollups import communes_by_slot, missing_localities
from tasks.models import Agency, Phase, TaskGroup

TREND_DAYS = 60
PERIOD_DAYS = 30
FORECAST_WINDOW = 28
ONLINE_TARGET = 0.8
STATUS_KEYS = ["completed_on_time", "completed_late", "on_track", "overdue", "not_started"]


def default_day():
    """The latest day with a national rollup (today, or yesterday before anyone reports), else yesterday."""
    latest = NationDayRollup.objects.filter(date__lte=timezone.localdate()).aggregate(d=Max("date"))["d"]
    return latest or timezone.localdate() - datetime.timedelta(days=1)


def _totals(row):
    return {f: int(getattr(row, f)) if row else 0 for f in INTEGER_FIELDS}


def _completeness(row, expected_default=0):
    if row is None:
        return {"expected": expected_default, "received": 0, "on_time": 0, "late": 0, "missing": expected_default}
    return {
        "expected": row.localities_expected,
        "received": row.localities_received,
        "on_time": row.localities_received - row.localities_late,
        "late": row.localities_late,
        "missing": row.localities_expected - row.localities_received,
    }


def _rates(totals):
    derived = rates(totals)
    return {"online": derived["online"], "fully_online": derived["fully_online"], "on_time": derived["on_time"]}


def figures_block(row, *, day, expected_default=0):
    """The JSON shape of DESIGN.md §6 for one rollup row (national or province)."""
    totals = _totals(row)
    return {
        "date": day.isoformat(),
        "as_of": timezone.localtime(row.built_at).isoformat() if row else None,
        "totals": totals,
        "rates": _rates(totals),
        "completeness": _completeness(row, expected_default),
    }


@dataclass
class Coverage:
    """The freshness and coverage line every number carries."""

    as_of: datetime.datetime | None
    communes_received: int
    communes_expected: int
    late: int
    provinces_received: int
    provinces_expected: int

    def __str__(self):
        if self.as_of is None:
            return _("no rollup yet for this day")
        return _("as of %(time)s · %(received)s of %(expected)s communes reported · %(late)s late") % {
            "time": date_format(timezone.localtime(self.as_of), "SHORT_DATETIME_FORMAT"),
            "received": number_format(self.communes_received, force_grouping=True),
            "expected": number_format(self.communes_expected, force_grouping=True),
            "late": self.late,
        }


def coverage(row, provinces_expected):
    if row is None:
        return Coverage(None, 0, 0, 0, 0, provinces_expected)
    provinces_received = row.localities_received - row.communes_received
    return Coverage(
        row.built_at,
        row.communes_received,
        row.communes_expected,
        row.localities_late,
        provinces_received,
        row.localities_expected - row.communes_expected,
    )


def national(day):
    """Everything the national dashboard shows for `day` (7 queries)."""
    row = NationDayRollup.objects.filter(date=day).first()
    provinces = list(Province.objects.all())
    period_start = day - datetime.timedelta(days=PERIOD_DAYS - 1)
    period = NationDayRollup.objects.filter(date__range=(period_start, day)).aggregate(
        days=Max("date"), **{f: Sum(f) for f in INTEGER_FIELDS}
    )
    period_totals = {f: int(period[f] or 0) for f in INTEGER_FIELDS}
    trend = list(
        NationDayRollup.objects.filter(date__range=(day - datetime.timedelta(days=TREND_DAYS - 1), day))
        .order_by("date")
        .values("date", "localities_expected", "localities_received", *INTEGER_FIELDS)
    )
    by_province = {r.province_id: r for r in ProvinceDayRollup.objects.filter(date=day)}
    missing_provinces = []
    for province in provinces:
        r = by_province.get(province.code)
        missing = (r.localities_expected - r.localities_received) if r else None
        if r is None or missing:
            missing_provinces.append({"province": province, "missing": missing, "late": r.localities_late if r else 0})
    missing_provinces.sort(key=lambda m: -(m["missing"] if m["missing"] is not None else 10**6))
    missing_communes = [
        (province_id, code)
        for province_id, code in missing_localities(by_province.values(), communes_by_slot())
        if code != province_id
    ]
    figures = figures_block(row, day=day)
    return {
        "day": day,
        "figures": figures,
        "row": row,
        "coverage": coverage(row, len(provinces)),
        "period": {"start": period_start, "end": day, "totals": period_totals, "rates": _rates(period_totals)},
        "trend": trend,
        "missing_provinces": missing_provinces,
        "missing_communes": missing_communes,
        "target": ONLINE_TARGET,
    }


def provinces(day):
    """One figures block per province for `day`, plus the province's green share on commune-level tasks, ranked."""
    rows = {r.province_id: r for r in ProvinceDayRollup.objects.filter(date=day)}
    snapshot_day = latest_snapshot_day()
    green = (
        {s.key: s for s in TaskSnapshot.objects.filter(date=snapshot_day, dimension=Dimension.PROVINCE)}
        if snapshot_day
        else {}
    )
    result = []
    communes = dict(Province.objects.annotate(n=Count("communes")).values_list("code", "n"))
    for province in Province.objects.all():
        row = rows.get(province.code)
        expected_default = communes.get(province.code, 0) + 1
        figures = {"province": province.code, **figures_block(row, day=day, expected_default=expected_default)}
        snap = green.get(province.code)
        completeness = figures["completeness"]
        result.append(
            {
                "province": province,
                "figures": figures,
                "green_share": (snap.commune_green / snap.commune_total) if snap and snap.commune_total else None,
                "completeness_share": (completeness["received"] / completeness["expected"])
                if completeness["expected"]
                else None,
                "snapshot": snap,
            }
        )
    return result


def rank(items, key):
    """Items sorted best first by `key` (None last), each with its rank."""
    ordered = sorted(items, key=lambda i: (key(i) is None, -(key(i) or 0), i["province"].code))
    return [{**item, "rank": n} for n, item in enumerate(ordered, start=1)]


# --- tasks and phases -------------------------------------------------------------------------------------


def latest_snapshot_day():
    return TaskSnapshot.objects.filter(date__lte=timezone.localdate()).aggregate(d=Max("date"))["d"]


def _counts(snapshot):
    return {k: getattr(snapshot, k) if snapshot else 0 for k in STATUS_KEYS}


def forecast(*, phase, current, earlier, today):
    """Completion date of the phase's assignments from the pace of the last FORECAST_WINDOW days.

    Returns {"date", "risk" (green|amber|red), "reason"}."""
    deadline = phase.deadline
    if current is None:
        return {"date": None, "risk": "amber", "reason": _("No task snapshot yet.")}
    remaining = current.assignments - current.green
    if remaining == 0:
        return {"date": None, "risk": "green", "reason": _("All assignments of the phase are completed.")}
    done = current.green - (earlier.green if earlier else 0)
    days = (current.date - earlier.date).days if earlier else 0
    if done <= 0 or days <= 0:
        reason = _("%(remaining)s assignments remain and none was completed in the last %(days)s days.") % {
            "remaining": remaining,
            "days": FORECAST_WINDOW,
        }
        return {"date": None, "risk": "red", "reason": reason}
    pace = done / days
    finish = current.date + datetime.timedelta(days=int(remaining / pace + 0.999))
    values = {
        "remaining": remaining,
        "pace": f"{pace * 7:.0f}",
        "finish": date_format(finish, "SHORT_DATE_FORMAT"),
        "deadline": date_format(deadline, "SHORT_DATE_FORMAT"),
    }
    if finish <= deadline:
        risk = "green"
        reason = (
            _(
                "%(remaining)s assignments remain; at the recent pace (%(pace)s a week) they would be completed "
                "by %(finish)s, before the deadline of %(deadline)s."
            )
            % values
        )
    elif today > deadline:
        risk = "red"
        reason = (
            _(
                "The deadline of %(deadline)s has passed with %(remaining)s assignments open; at the recent pace "
                "(%(pace)s a week) they would be completed by %(finish)s."
            )
            % values
        )
    else:
        late_days = (finish - deadline).days
        risk = "amber" if late_days <= 30 else "red"
        reason = ngettext(
            "%(remaining)s assignments remain; at the recent pace (%(pace)s a week) they would be completed by "
            "%(finish)s, %(late)s day after the deadline of %(deadline)s.",
            "%(remaining)s assignments remain; at the recent pace (%(pace)s a week) they would be completed by "
            "%(finish)s, %(late)s days after the deadline of %(deadline)s.",
            late_days,
        ) % {**values, "late": late_days}
    return {"date": finish, "risk": risk, "reason": reason}


def phases(today=None):
    """Per phase: deadline, days left, task counts by display status, forecast; and the breakdowns by
    group, lead agency and province (5 queries)."""
    today = today or timezone.localdate()
    day = latest_snapshot_day()
    # Always the same queries, with or without snapshots, so the count never depends on history.
    snaps = list(TaskSnapshot.objects.filter(date=day).exclude(dimension=Dimension.PROVINCE_TASK))
    cutoff = (day or today) - datetime.timedelta(days=FORECAST_WINDOW)
    earlier_day = (
        TaskSnapshot.objects.filter(dimension=Dimension.PHASE, date__lte=cutoff).order_by("-date").values("date")[:1]
    )
    earlier = {s.key: s for s in TaskSnapshot.objects.filter(dimension=Dimension.PHASE, date=Subquery(earlier_day))}
    by_dimension = {}
    for s in snaps:
        by_dimension.setdefault(s.dimension, {})[s.key] = s
    result = []
    for phase in Phase.objects.all():
        current = by_dimension.get(Dimension.PHASE, {}).get(phase.code)
        result.append(
            {
                "phase": phase,
                "code": phase.code,
                "deadline": phase.deadline,
                "days_left": (phase.deadline - today).days,
                "tasks": _counts(current),
                "snapshot": current,
                "forecast": forecast(phase=phase, current=current, earlier=earlier.get(phase.code), today=today),
            }
        )
    groups = {str(g.number): g for g in TaskGroup.objects.all()}
    group_rows = by_dimension.get(Dimension.GROUP, {})
    agencies = {a.code: a for a in Agency.objects.all()}
    return {
        "day": day,
        "phases": result,
        "groups": [(groups.get(k), s) for k, s in sorted(group_rows.items(), key=lambda i: int(i[0]))],
        "agencies": sorted(
            ((agencies.get(k), s) for k, s in by_dimension.get(Dimension.AGENCY, {}).items()),
            key=lambda i: (-(i[1].overdue), i[1].key),
        ),
        "provinces": by_dimension.get(Dimension.PROVINCE, {}),
        "as_of": max((s.built_at for s in snaps), default=None),
    }


def phase_json(item):
    f = item["forecast"]
    return {
        "code": item["code"],
        "deadline": item["deadline"].isoformat(),
        "days_left": item["days_left"],
        "tasks": item["tasks"],
        "forecast": {"date": f["date"].isoformat() if f["date"] else None, "risk": f["risk"], "reason": f["reason"]},
    }
