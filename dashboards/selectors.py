"""Dashboard selectors. They read rollups and snapshots (never reports across communes), with a fixed
number of queries whatever the length of history, and check who may see what through the querysets'
scoping (`followed_by(scope)`). Pages, JSON twins and XLSX exports all use these; each JSON twin has its
own narrow selector, so it does not pay for what only the page shows.

The one page that reads raw reports is a commune's own history: one locality, at most 60 rows.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, Max, QuerySet, Subquery, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dashboards.models import Dimension, NationDayRollup, ProvinceDayRollup, RollupAlarm, TaskSnapshot
from dashboards.rollups import communes_by_slot, missing_localities
from localities.models import Commune, Province
from plan02.dates import DateError, parse_date
from reports.completeness import Completeness, expected_for_province
from reports.figures import INTEGER_FIELDS, rate_block
from reports.models import DailyReport
from tasks.models import Agency, Assignment, Phase, Task, TaskGroup
from tasks.roles import Scope
from tasks.status import DisplayStatus

TREND_DAYS = 60
PERIOD_DAYS = 30
FORECAST_WINDOW = 28
ONLINE_TARGET = 0.8
STATUS_KEYS = ["completed_on_time", "completed_late", "on_track", "overdue", "not_started"]


# The first day a dashboard can show: the plan's date (DOMAIN.md). Earlier days hold nothing, and the
# trend windows of a day centuries ago would not even be dates.
PLAN_DATE = datetime.date(2025, 6, 19)


class BadDay(ValueError):
    """The `date` parameter of a dashboard is refused: `code` for the API, str() the translated message."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def day_param(value: str | None) -> datetime.date:
    """The `date` parameter of the dashboards: YYYY-MM-DD, from the plan's date to today; empty means the
    latest day with data. Raises BadDay."""
    if not value:
        return default_day()
    try:
        day = parse_date(value)
    except DateError as exc:
        raise BadDay(exc.code, str(exc)) from None
    if day > timezone.localdate():
        raise BadDay(
            "date_in_future",
            _("Must not be after today (%(today)s in Asia/Ho_Chi_Minh).") % {"today": timezone.localdate().isoformat()},
        )
    if day < PLAN_DATE:
        raise BadDay("date_too_early", _("Must not be before %(first)s.") % {"first": PLAN_DATE.isoformat()})
    return day


def default_day() -> datetime.date:
    """The latest day with a national rollup (today, or yesterday before anyone reports), else yesterday."""
    latest = NationDayRollup.objects.filter(date__lte=timezone.localdate()).aggregate(d=Max("date"))["d"]
    return latest or timezone.localdate() - datetime.timedelta(days=1)


def _totals(row: Any) -> dict[str, int]:
    return {f: int(getattr(row, f)) if row else 0 for f in INTEGER_FIELDS}


def figures_block(row: Any, *, day: datetime.date, expected_default: int = 0) -> dict[str, Any]:
    """The JSON shape of DESIGN.md §6 for one rollup row (national or province)."""
    totals = _totals(row)
    return {
        "date": day.isoformat(),
        "as_of": timezone.localtime(row.built_at).isoformat() if row else None,
        "totals": totals,
        "rates": rate_block(totals),
        "completeness": Completeness.of_rollup(row, expected_default=expected_default).as_dict(),
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

    def __str__(self) -> str:
        if self.as_of is None:
            return _("no rollup yet for this day")
        return _("as of %(time)s · %(received)s of %(expected)s communes reported · %(late)s late") % {
            "time": date_format(timezone.localtime(self.as_of), "SHORT_DATETIME_FORMAT"),
            "received": number_format(self.communes_received, force_grouping=True),
            "expected": number_format(self.communes_expected, force_grouping=True),
            "late": self.late,
        }


def coverage(row: Any, provinces_expected: int) -> Coverage:
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


def national(day: datetime.date) -> dict[str, Any]:
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
        completeness = Completeness.of_rollup(r)
        if r is None or completeness.missing:
            missing = completeness.missing if r else None
            missing_provinces.append({"province": province, "missing": missing, "late": completeness.late})
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
        "period": {"start": period_start, "end": day, "totals": period_totals, "rates": rate_block(period_totals)},
        "trend": trend,
        "missing_provinces": missing_provinces,
        "missing_communes": missing_communes,
        "province_names": {p.code: p.name for p in provinces},
        "target": ONLINE_TARGET,
    }


def provinces(day: datetime.date) -> list[dict[str, Any]]:
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
        expected_default = expected_for_province(communes.get(province.code, 0))
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


def rank(items: list[dict[str, Any]], key: Callable[[dict[str, Any]], float | None]) -> list[dict[str, Any]]:
    """Items sorted best first by `key` (None last), each with its rank."""
    ordered = sorted(items, key=lambda i: (key(i) is None, -(key(i) or 0), i["province"].code))
    return [{**item, "rank": n} for n, item in enumerate(ordered, start=1)]


# --- tasks and phases -------------------------------------------------------------------------------------


def latest_snapshot_day() -> datetime.date | None:
    return TaskSnapshot.objects.filter(date__lte=timezone.localdate()).aggregate(d=Max("date"))["d"]


def _counts(snapshot: TaskSnapshot | None) -> dict[str, int]:
    return {k: getattr(snapshot, k) if snapshot else 0 for k in STATUS_KEYS}


def forecast(
    *, phase: Phase, current: TaskSnapshot | None, earlier: TaskSnapshot | None, today: datetime.date
) -> dict[str, Any]:
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


def phases(today: datetime.date | None = None) -> dict[str, Any]:
    """Per phase: deadline, days left, task counts by display status, forecast; and the breakdowns by
    group, lead agency and province (6 queries)."""
    today = today or timezone.localdate()
    day = latest_snapshot_day()
    # Always the same queries, with or without snapshots (date=None matches nothing), so the count never
    # depends on history.
    snaps = list(TaskSnapshot.objects.filter(date=day).exclude(dimension=Dimension.PROVINCE_TASK))  # type: ignore[misc]
    cutoff = (day or today) - datetime.timedelta(days=FORECAST_WINDOW)
    earlier_day = (
        TaskSnapshot.objects.filter(dimension=Dimension.PHASE, date__lte=cutoff).order_by("-date").values("date")[:1]
    )
    earlier = {s.key: s for s in TaskSnapshot.objects.filter(dimension=Dimension.PHASE, date=Subquery(earlier_day))}
    by_dimension: dict[str, dict[str, TaskSnapshot]] = {}
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


def phase_json(item: dict[str, Any]) -> dict[str, Any]:
    f = item["forecast"]
    return {
        "code": item["code"],
        "deadline": item["deadline"].isoformat(),
        "days_left": item["days_left"],
        "tasks": item["tasks"],
        "forecast": {"date": f["date"].isoformat() if f["date"] else None, "risk": f["risk"], "reason": f["reason"]},
    }


def status_labels() -> list[tuple[str, str]]:
    return [(key, str(DisplayStatus(key).label)) for key in STATUS_KEYS]


# --- pages and their JSON twins ---------------------------------------------------------------------------


def national_figures(day: datetime.date) -> dict[str, Any]:
    """The national JSON twin: the §6 figures block of one day (1 query; 2 before the day's first rollup)."""
    row = NationDayRollup.objects.filter(date=day).first()
    if row is None:
        expected = sum(expected_for_province(n) for n in _communes_per_province())
        return figures_block(None, day=day, expected_default=expected)
    return figures_block(row, day=day)


def _communes_per_province() -> list[int]:
    return list(Province.objects.annotate(n=Count("communes")).values_list("n", flat=True))


def national_page(day: datetime.date, *, page: str | None = None) -> dict[str, Any]:
    """national() plus one page of the communes that have not reported, with their names (8 queries)."""
    data = national(day)
    missing = Paginator(data["missing_communes"], 50).get_page(page)
    names = dict(Commune.objects.filter(code__in=[code for _p, code in missing]).values_list("code", "name"))
    provinces = data["province_names"]
    return {
        **data,
        "page": missing,
        "missing_page": [(code, names.get(code, ""), provinces.get(province_id, "")) for province_id, code in missing],
    }


def provinces_figures(day: datetime.date) -> list[dict[str, Any]]:
    """The provinces JSON twin: one §6 figures block per province (3 queries)."""
    rows = {r.province_id: r for r in ProvinceDayRollup.objects.filter(date=day)}
    communes = dict(Province.objects.annotate(n=Count("communes")).values_list("code", "n"))
    return [
        {
            "province": code,
            **figures_block(rows.get(code), day=day, expected_default=expected_for_province(n)),
        }
        for code, n in sorted(communes.items())
    ]


def provinces_page(day: datetime.date, *, rank_by: str) -> dict[str, Any]:
    """The provinces compared, ranked by green share on commune-level tasks or by reporting completeness."""
    items = provinces(day)
    rank_by = "completeness" if rank_by == "completeness" else "green"
    key = (lambda i: i["completeness_share"]) if rank_by == "completeness" else (lambda i: i["green_share"])
    ranked = rank(items, key)
    nation = NationDayRollup.objects.filter(date=day).first()
    return {"items": ranked, "day": day, "rank_by": rank_by, "coverage": coverage(nation, len(ranked))}


def phases_page() -> dict[str, Any]:
    data = phases()
    provinces_by_code = {p.code: p for p in Province.objects.all()}
    province_rows = sorted(
        ((provinces_by_code[k], s) for k, s in data["provinces"].items() if k in provinces_by_code),
        key=lambda i: -(i[1].green / i[1].assignments if i[1].assignments else 0),
    )
    return {**data, "province_rows": province_rows, "status_labels": status_labels()}


def _followed_or_404(queryset: QuerySet, **lookup: Any) -> Any:
    found = queryset.filter(**lookup).first()
    if found is None:
        raise Http404
    return found


def province_page(*, scope: Scope, code: str, day: datetime.date) -> dict[str, Any]:
    """One province's figures, trend, commune-level tasks and who has not reported (8 queries). 404 when
    the scope does not follow the province."""
    province = _followed_or_404(Province.objects.followed_by(scope), code=code)
    row = ProvinceDayRollup.objects.filter(province=province, date=day).first()
    trend = list(
        ProvinceDayRollup.objects.filter(province=province, date__range=(day - datetime.timedelta(days=59), day))
        .order_by("date")
        .values("date", "localities_expected", "localities_received", *INTEGER_FIELDS)
    )
    communes = list(Commune.objects.filter(province=province).order_by("code").values_list("code", "name", "slot"))
    by_slot = {province.code: [(slot, c) for c, _name, slot in communes]}
    missing = [c for _p, c in missing_localities([row] if row else [], by_slot)]
    names = {c: name for c, name, _slot in communes}
    snapshot_day = latest_snapshot_day()
    snaps = TaskSnapshot.objects.filter(date=snapshot_day)  # type: ignore[misc]  # None: no snapshot yet
    summary = snaps.filter(dimension=Dimension.PROVINCE, key=code).first()
    tasks = {t.code: t for t in Task.objects.filter(level="commune")}
    per_task = [
        (tasks.get(s.key.split(":")[1]), s)
        for s in snaps.filter(dimension=Dimension.PROVINCE_TASK, key__startswith=f"{code}:").order_by("key")
    ]
    return {
        "province": province,
        "day": day,
        "row": row,
        "figures": figures_block(row, day=day),
        "coverage": coverage(row, 1),
        "trend": trend,
        "missing": [(c, names.get(c, province.name)) for c in missing],
        "summary": summary,
        "per_task": per_task,
        "status_labels": status_labels(),
        "communes": [(c, name) for c, name, _slot in communes],
    }


def commune_page(*, scope: Scope, code: str, today: datetime.date) -> dict[str, Any]:
    """One commune's history: its last 60 daily reports (one locality) and its assignments (3 queries). 404
    when the scope does not follow the commune."""
    commune = _followed_or_404(Commune.objects.followed_by(scope).select_related("province"), code=code)
    reports = list(DailyReport.objects.filter(locality=code).order_by("-date")[:60])
    trend = [
        {"date": r.date, "localities_expected": 1, "localities_received": 1, **r.figures()} for r in reversed(reports)
    ]
    assignments = list(
        Assignment.objects.filter(commune=commune).select_related("task").with_display_status(today).order_by("task")
    )
    return {"commune": commune, "reports": reports, "trend": trend, "assignments": assignments}


def agencies_page() -> dict[str, Any]:
    """Lead agencies ranked by the share of their tasks completed (2 queries)."""
    day = latest_snapshot_day()
    by_code = {a.code: a for a in Agency.objects.all()}
    rows = (
        [(by_code.get(s.key), s) for s in TaskSnapshot.objects.filter(date=day, dimension=Dimension.AGENCY)]
        if day
        else []
    )
    rows.sort(key=lambda i: (-(i[1].completed_on_time + i[1].completed_late) / (tasks_total(i[1]) or 1), i[1].overdue))
    return {"rows": rows, "day": day, "status_labels": status_labels()}


def tasks_total(snapshot: TaskSnapshot) -> int:
    return sum(getattr(snapshot, k) for k in STATUS_KEYS)


def agency_page(*, scope: Scope, code: str) -> dict[str, Any]:
    """The tasks an agency leads with their snapshot status (3 queries). 404 when the scope does not follow
    the agency."""
    agency = _followed_or_404(Agency.objects.followed_by(scope), code=code)
    day = latest_snapshot_day()
    led = list(Task.objects.filter(lead_agency=agency).select_related("phase", "group"))
    snaps = (
        {
            s.key: s
            for s in TaskSnapshot.objects.filter(date=day, dimension=Dimension.TASK, key__in=[t.code for t in led])
        }
        if day
        else {}
    )
    rows = [(task, snaps.get(task.code)) for task in led]
    overdue = [(task, s) for task, s in rows if s and s.status == "overdue"]
    return {"agency": agency, "rows": rows, "overdue": overdue, "day": day}


def open_alarms(scope: Scope) -> int | None:
    """Unresolved rollup alarms, for admins only (not cached: they must see a new disagreement at once)."""
    return RollupAlarm.objects.filter(resolved_at__isnull=True).count() if scope.is_admin else None
