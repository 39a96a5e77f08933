"""What the dashboards show, for their pages, JSON twins and XLSX exports; each JSON twin has its own narrow
function, so it does not pay for what only the page shows. They read rollups and snapshots (never reports
across communes) with a fixed number of queries whatever the length of history, and check who may see what
through the querysets' scoping (`followed_by(scope)`), raising NotFollowed for a unit one may not see (the
views answer 404).

Only reads: a view as of a day first builds the snapshots it needs with dashboards.snapshots.as_of_ensure (the
views, the API, the meetings and the weekly pack call it); the coverage line is formatted by the template tag
`coverage_line` (dashboards.templatetags.dashboard_tags), which the exports use too.

The one page that reads raw reports is a commune's own history: one locality, at most 60 rows.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, Exists, Max, OuterRef, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dates import view_day
from dashboards import forecasts, formview
from dashboards.forecasts import FORECAST_WINDOW
from dashboards.models import (
    ApprovedNationDayRollup,
    ApprovedProvinceDayRollup,
    Dimension,
    NationDayRollup,
    ProvinceDayRollup,
    RollupAlarm,
    TaskSnapshot,
)
from dashboards.rollups import communes_by_slot, missing_localities
from dashboards.targets import target_values
from localities.models import Commune, Province
from reports import formspec
from reports.completeness import Completeness, expected_for_province
from reports.figures import INTEGER_FIELDS, rate_block
from reports.models import DailyReport, ReportApproval
from tasks.models import Agency, Assignment, Phase, Task, TaskGroup
from tasks.roles import Scope
from tasks.status import DisplayStatus

TREND_DAYS = 60
PERIOD_DAYS = 30
STATUS_KEYS = ["completed_on_time", "completed_late", "on_track", "overdue", "not_started"]


# Which reports the figures sum (DESIGN.md §11): all received, or only those with the province's approval in
# force. Completeness and coverage always count every report (and say how many are approved).
ALL, APPROVED = "all", "approved"
DATA_CHOICES = (ALL, APPROVED)


class BadData(ValueError):
    code = "invalid_choice"


def data_param(value: str | None) -> str:
    """The `data` parameter of the dashboards, their JSON twins and exports; empty means `all`."""
    if not value:
        return ALL
    if value not in DATA_CHOICES:
        raise BadData(_("Choose “all” (every report received) or “approved” (only the reports the province approved)."))
    return value


def day_param(value: str | None) -> datetime.date:
    """The `date` parameter of the dashboards (core.dates.view_day); empty means the latest day with data.
    Raises core.dates.BadDay."""
    return view_day(value) if value else default_day()


def default_day() -> datetime.date:
    """The latest day with a national rollup (today, or yesterday before anyone reports), else yesterday."""
    latest = NationDayRollup.objects.filter(date__lte=timezone.localdate()).aggregate(d=Max("date"))["d"]
    return latest or timezone.localdate() - datetime.timedelta(days=1)


def _totals(row: Any) -> dict[str, int]:
    return {f: int(getattr(row, f)) if row else 0 for f in INTEGER_FIELDS}


def form_totals(row: Any, spec: formspec.FormSpec) -> dict[str, int]:
    """The totals of a rollup row by the indicator codes of the form version `spec`: each summed indicator's
    series, from its column (a series of the default form) or from the row's `extra` sums."""
    extra = (getattr(row, "extra", None) or {}) if row else {}
    totals = {}
    for indicator in spec.summed:
        if indicator.series in _COLUMNS:
            totals[indicator.code] = int(getattr(row, indicator.series)) if row else 0
        else:
            totals[indicator.code] = int(extra.get(indicator.series) or 0)
    return totals


_COLUMNS = frozenset(INTEGER_FIELDS)


def _period_series(queryset: QuerySet, spec: formspec.FormSpec) -> dict[str, int]:
    """{series: sum} over a period of rollup rows (all reports' or the approved ones'): the default form's
    columns summed in SQL, and the `extra` sums of the version's own indicators only when it has some (one more
    query then; none for the default form)."""
    period = queryset.aggregate(**{f: Sum(f) for f in INTEGER_FIELDS})
    series = {f: int(period[f] or 0) for f in INTEGER_FIELDS}
    added = formview.added_series(spec)
    if added:
        for sums in queryset.values_list("extra", flat=True):
            for key in added:
                value = (sums or {}).get(key)
                if type(value) is int:
                    series[key] = series.get(key, 0) + value
    return series


_FROM_ROW = object()


def figures_block(
    row: Any,
    *,
    day: datetime.date,
    expected_default: int = 0,
    follow_form: bool = False,
    approved: Any = _FROM_ROW,
) -> dict[str, Any]:
    """The JSON shape of DESIGN.md §6 for one rollup row (national or province). With `follow_form` (the JSON
    twins), in the indicators of the form version in force on the day: the §5 figures and the three rates for
    the default form, a later version's summed indicators and its ratios (reports.formspec) otherwise. Without
    it (the pages, their exports, meetings' packs), by the default form's series, whatever the version.

    With `approved` (its approved-figures row, or None when none was approved) the totals and rates are the
    approved reports' and the block says so (`"data": "approved"`), while completeness still counts every
    report (the approved rows carry a later version's own indicators in their `extra` sums too)."""
    sums = row if approved is _FROM_ROW else approved
    spec = formspec.spec_for_day(day) if follow_form else formspec.default_spec()
    if formspec.is_default(spec):
        totals = _totals(sums)
        rates = rate_block(totals)
    else:
        totals = form_totals(sums, spec)
        rates = {r.code: r.value(totals) for r in spec.rates if r.denominator is not None}
    extra = {} if approved is _FROM_ROW else {"data": APPROVED}
    return {
        **extra,
        "date": day.isoformat(),
        "as_of": timezone.localtime(row.built_at).isoformat() if row else None,
        "totals": totals,
        "rates": rates,
        "completeness": Completeness.of_rollup(row, expected_default=expected_default).as_dict(),
    }


@dataclass
class Coverage:
    """The freshness and coverage every number carries (the facts; `coverage_line` writes them as a line)."""

    as_of: datetime.datetime | None
    communes_received: int
    communes_expected: int
    late: int
    provinces_received: int
    provinces_expected: int
    # Reports (communes' and provinces' own) with the province's approval in force (DESIGN.md §11).
    approved: int = 0
    # Which reports the figures around it sum: ALL, or APPROVED only.
    data: str = ALL

    # Its line of text is the template tag `coverage_line` (dashboards.templatetags.dashboard_tags).


def coverage(row: Any, provinces_expected: int, *, data: str = ALL) -> Coverage:
    if row is None:
        return Coverage(None, 0, 0, 0, 0, provinces_expected, data=data)
    provinces_received = row.localities_received - row.communes_received
    return Coverage(
        row.built_at,
        row.communes_received,
        row.communes_expected,
        row.localities_late,
        provinces_received,
        row.localities_expected - row.communes_expected,
        row.localities_approved,
        data,
    )


def _approved_trend(trend: list[dict[str, Any]], approved: QuerySet) -> list[dict[str, Any]]:
    """The trend's rows (completeness of every report) with the approved figures of each day (zeros when none
    was approved)."""
    fields = [*INTEGER_FIELDS, "extra"]
    by_day = {r["date"]: r for r in approved.values("date", *fields)}
    zeros = {**dict.fromkeys(INTEGER_FIELDS, 0), "extra": {}}
    return [{**row, **{f: by_day.get(row["date"], zeros)[f] for f in fields}} for row in trend]


def national(day: datetime.date, *, data: str = ALL) -> dict[str, Any]:
    """Everything the national dashboard shows for `day`, in the form version in force on that day
    (dashboards.formview): 7 queries; 9 with `data=approved`; one more when the version has indicators of its
    own (their 30 days' sums)."""
    row = NationDayRollup.objects.filter(date=day).first()
    spec = formspec.spec_for_day(day)
    provinces = list(Province.objects.all())
    period_start = day - datetime.timedelta(days=PERIOD_DAYS - 1)
    sums_model = ApprovedNationDayRollup if data == APPROVED else NationDayRollup
    period_series = _period_series(sums_model.objects.filter(date__range=(period_start, day)), spec)
    period_totals = {f: period_series[f] for f in INTEGER_FIELDS}
    trend_days = (day - datetime.timedelta(days=TREND_DAYS - 1), day)
    trend = list(
        NationDayRollup.objects.filter(date__range=trend_days)
        .order_by("date")
        .values("date", "localities_expected", "localities_received", *INTEGER_FIELDS, "extra")
    )
    if data == APPROVED:
        trend = _approved_trend(trend, ApprovedNationDayRollup.objects.filter(date__range=trend_days))
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
    sums: Any
    if data == APPROVED:
        sums = ApprovedNationDayRollup.objects.filter(date=day).first()
        figures = figures_block(row, day=day, approved=sums)
    else:
        sums = row
        figures = figures_block(row, day=day)
    day_series = formview.series_of(sums)
    return {
        "day": day,
        "data": data,
        "spec": spec,
        "figures": figures,
        "figure_rows": formview.figure_rows(spec, day_series, period_series),
        "measures": formview.measures(spec, day_series, period_series),
        "row": row,
        "coverage": coverage(row, len(provinces), data=data),
        "period": {"start": period_start, "end": day, "totals": period_totals, "rates": rate_block(period_totals)},
        "trend": trend,
        "missing_provinces": missing_provinces,
        "missing_communes": missing_communes,
        "province_names": {p.code: p.name for p in provinces},
    }


def _approved_rows(day: datetime.date, data: str) -> dict[str, Any] | None:
    """{province code: approved-figures row} of a day with `data=approved` (None: every report counts)."""
    if data != APPROVED:
        return None
    return {r.province_id: r for r in ApprovedProvinceDayRollup.objects.filter(date=day)}


def _province_block(row: Any, approved: dict[str, Any] | None, code: str, **kwargs: Any) -> dict[str, Any]:
    if approved is None:
        return figures_block(row, **kwargs)
    return figures_block(row, approved=approved.get(code), **kwargs)


def provinces(day: datetime.date, *, data: str = ALL) -> list[dict[str, Any]]:
    """One figures block per province for `day`, plus the province's green share on commune-level tasks as of
    the end of that day."""
    rows = {r.province_id: r for r in ProvinceDayRollup.objects.filter(date=day)}
    approved = _approved_rows(day, data)
    spec = formspec.spec_for_day(day)
    # The green column follows the day shown, not the latest snapshot (built by snapshots.as_of_ensure).
    green = {s.key: s for s in TaskSnapshot.objects.filter(date=day, dimension=Dimension.PROVINCE)}
    result = []
    communes = dict(Province.objects.annotate(n=Count("communes")).values_list("code", "n"))
    for province in Province.objects.all():
        row = rows.get(province.code)
        expected_default = expected_for_province(communes.get(province.code, 0))
        block = _province_block(row, approved, province.code, day=day, expected_default=expected_default)
        figures = {"province": province.code, **block}
        sums = row if approved is None else approved.get(province.code)
        snap = green.get(province.code)
        completeness = figures["completeness"]
        result.append(
            {
                "province": province,
                "figures": figures,
                "measures": formview.measures(spec, formview.series_of(sums)),
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


# The counts of a TaskSnapshot that add up over slices that share no task.
SUMMED_FIELDS = [*STATUS_KEYS, "assignments", "green", "tasks", "done"]


def summed_snapshot(whole: TaskSnapshot, parts: list[TaskSnapshot]) -> TaskSnapshot:
    """An unsaved snapshot of `whole`'s day and key holding the sums of `parts` (slices that share no task, e.g.
    a phase's groups), read like a stored one by the counts and the forecasts."""
    sums: dict[str, Any] = {name: sum(getattr(p, name) for p in parts) for name in SUMMED_FIELDS}
    return TaskSnapshot(date=whole.date, dimension=whole.dimension, key=whole.key, built_at=whole.built_at, **sums)


def _counts(snapshot: TaskSnapshot | None) -> dict[str, int]:
    return {k: getattr(snapshot, k) if snapshot else 0 for k in STATUS_KEYS}


def snapshot_days(day: datetime.date | None) -> tuple[datetime.date | None, datetime.date | None]:
    """(the snapshot day of a view as of `day`, the earlier day its forecasts compare with).

    As of a given day: that day and FORECAST_WINDOW days before (dashboards.snapshots.as_of_ensure builds them
    from history when no snapshot was kept). Without a day: the latest snapshot, and the latest one at least
    FORECAST_WINDOW days older."""
    if day is not None:
        return day, day - datetime.timedelta(days=FORECAST_WINDOW)
    latest = latest_snapshot_day()
    if latest is None:
        return None, None
    cutoff = latest - datetime.timedelta(days=FORECAST_WINDOW)
    earlier = TaskSnapshot.objects.filter(dimension=Dimension.PHASE, date__lte=cutoff).aggregate(d=Max("date"))["d"]
    return latest, earlier


PHASE_SLICES = [Dimension.PHASE, Dimension.PHASE_GROUP, Dimension.PHASE_AGENCY, Dimension.PHASE_PROVINCE]


def phases(day: datetime.date | None = None, *, task_groups: frozenset[int] | None = None) -> dict[str, Any]:
    """Per phase, as of the end of `day` (default: the latest snapshot): deadline, days left, its tasks by
    rolled-up status, the task-weighted forecast, and inside the phase the breakdowns by group, lead agency
    (with its forecast) and province, and each task with its forecast. With `task_groups` (a working group's
    view, tasks.working_groups), the phase's totals and forecast are those of the groups' tasks (the sum of
    their phase-and-group slices: a task belongs to one group), and the breakdown by group and the tasks are
    those groups' only; the breakdowns by lead agency and province stay the whole phase's. A fixed number of
    queries (more, once, to build the snapshots of an as-of day that has none)."""
    snapshot_day, earlier_day = snapshot_days(day)
    as_of = snapshot_day or timezone.localdate()
    # Always the same queries, with or without snapshots (date=None matches nothing), so the count never
    # depends on history.
    snaps = list(
        TaskSnapshot.objects.filter(date=snapshot_day, dimension__in=[*PHASE_SLICES, Dimension.TASK])  # type: ignore[misc]
    )
    earlier_snaps = TaskSnapshot.objects.filter(
        date=earlier_day,  # type: ignore[misc]
        dimension__in=[Dimension.PHASE, Dimension.PHASE_GROUP, Dimension.PHASE_AGENCY, Dimension.TASK],
    )
    earlier = {(s.dimension, s.key): s for s in earlier_snaps}
    by_dimension: dict[str, dict[str, TaskSnapshot]] = {}
    for s in snaps:
        by_dimension.setdefault(s.dimension, {})[s.key] = s
    groups = {str(g.number): g for g in TaskGroup.objects.all()}
    agencies = {a.code: a for a in Agency.objects.all()}
    province_names = {p.code: p for p in Province.objects.all()}
    tasks_by_phase: dict[int, list[Task]] = {}
    shown_tasks: dict[int, list[Task]] = {}
    for task in Task.objects.select_related("lead_agency", "group").order_by("code"):
        tasks_by_phase.setdefault(task.phase_id, []).append(task)
        if task_groups is None or task.group.number in task_groups:
            shown_tasks.setdefault(task.phase_id, []).append(task)

    def inside(dimension: str, phase: Phase) -> list[tuple[str, TaskSnapshot]]:
        prefix = f"{phase.code}:"
        return [(k[len(prefix) :], s) for k, s in by_dimension.get(dimension, {}).items() if k.startswith(prefix)]

    def weighted(snapshot: TaskSnapshot | None, dimension: str, key: str, deadline: datetime.date) -> dict[str, Any]:
        return forecasts.forecast(
            current=forecasts.of_tasks(snapshot),
            earlier=forecasts.of_tasks(earlier.get((dimension, key))),
            deadline=deadline,
            today=as_of,
        )

    def phase_total(snapshots: dict[tuple[str, str], TaskSnapshot], phase: Phase) -> TaskSnapshot | None:
        """The phase's slice, or for a working group's view the sum of its groups' slices in the phase."""
        whole = snapshots.get((Dimension.PHASE, phase.code))
        if task_groups is None or whole is None:
            return whole
        keys = [(Dimension.PHASE_GROUP, f"{phase.code}:{number}") for number in sorted(task_groups)]
        return summed_snapshot(whole, [snapshots[key] for key in keys if key in snapshots])

    current_by_key = {(s.dimension, s.key): s for s in snaps}
    result = []
    for phase in Phase.objects.all():
        current = phase_total(current_by_key, phase)
        agency_rows = [
            (agencies.get(code), s, weighted(s, Dimension.PHASE_AGENCY, s.key, phase.deadline))
            for code, s in inside(Dimension.PHASE_AGENCY, phase)
        ]
        task_rows = []
        for task in shown_tasks.get(phase.pk, []):
            snap = by_dimension.get(Dimension.TASK, {}).get(task.code)
            prediction = forecasts.forecast(
                current=forecasts.of_assignments(snap),
                earlier=forecasts.of_assignments(earlier.get((Dimension.TASK, task.code))),
                deadline=task.deadline,
                today=as_of,
            )
            task_rows.append((task, snap, prediction))
        result.append(
            {
                "phase": phase,
                "code": phase.code,
                "deadline": phase.deadline,
                "days_left": (phase.deadline - as_of).days,
                "tasks": _counts(current),
                "snapshot": current,
                "forecast": forecasts.forecast(
                    current=forecasts.of_tasks(current),
                    earlier=forecasts.of_tasks(phase_total(earlier, phase)),
                    deadline=phase.deadline,
                    today=as_of,
                ),
                "groups": sorted(
                    (
                        (groups.get(k), s)
                        for k, s in inside(Dimension.PHASE_GROUP, phase)
                        if task_groups is None or int(k) in task_groups
                    ),
                    key=lambda i: int(i[1].key.split(":")[1]),
                ),
                "agencies": sorted(agency_rows, key=lambda i: (-i[1].overdue, i[1].key)),
                "provinces": sorted(
                    ((province_names.get(k), s) for k, s in inside(Dimension.PHASE_PROVINCE, phase)),
                    key=lambda i: (-(i[1].done / i[1].tasks if i[1].tasks else 0), i[1].key),
                ),
                "task_rows": task_rows,
                # The demo catalogue's tasks are not the official list: every view of them says so.
                "catalogue": "official" if all(t.is_official for t in tasks_by_phase.get(phase.pk, [])) else "demo",
            }
        )
    return {
        "day": snapshot_day,
        "earlier_day": earlier_day,
        "phases": result,
        "as_of": max((s.built_at for s in snaps), default=None),
    }


def phase_json(item: dict[str, Any], *, day: datetime.date | None, as_of: datetime.datetime | None) -> dict[str, Any]:
    """A phase in the JSON twin (DESIGN.md §6), with the day it shows and when that snapshot was built."""
    f = item["forecast"]
    return {
        "code": item["code"],
        "date": day.isoformat() if day else None,
        "as_of": timezone.localtime(as_of).isoformat() if as_of else None,
        "deadline": item["deadline"].isoformat(),
        "days_left": item["days_left"],
        "catalogue": item["catalogue"],
        "tasks": item["tasks"],
        "forecast": {"date": f["date"].isoformat() if f["date"] else None, "risk": f["risk"], "reason": f["reason"]},
    }


def status_labels() -> list[tuple[str, str]]:
    return [(key, str(DisplayStatus(key).label)) for key in STATUS_KEYS]


# --- pages and their JSON twins ---------------------------------------------------------------------------


def national_figures(day: datetime.date, *, data: str = ALL) -> dict[str, Any]:
    """The national JSON twin: the §6 figures block of one day (1 query; 2 before the day's first rollup; one
    more with `data=approved`)."""
    row = NationDayRollup.objects.filter(date=day).first()
    kwargs: dict[str, Any] = {"day": day}
    if data == APPROVED:
        kwargs["approved"] = ApprovedNationDayRollup.objects.filter(date=day).first()
    if row is None:
        kwargs["expected_default"] = sum(expected_for_province(n) for n in _communes_per_province())
    return figures_block(row, follow_form=True, **kwargs)


def _communes_per_province() -> list[int]:
    return list(Province.objects.annotate(n=Count("communes")).values_list("n", flat=True))


def national_page(day: datetime.date, *, page: str | None = None, data: str = ALL) -> dict[str, Any]:
    """national() plus one page of the communes that have not reported, with their names, and the plan's
    targets as of the day (13 queries; 15 with `data=approved`)."""
    result = national(day, data=data)
    result["targets"] = target_values(day)
    missing = Paginator(result["missing_communes"], 50).get_page(page)
    names = dict(Commune.objects.filter(code__in=[code for _p, code in missing]).values_list("code", "name"))
    provinces = result["province_names"]
    return {
        **result,
        "page": missing,
        "missing_page": [(code, names.get(code, ""), provinces.get(province_id, "")) for province_id, code in missing],
    }


def provinces_figures(day: datetime.date, *, data: str = ALL) -> list[dict[str, Any]]:
    """The provinces JSON twin: one §6 figures block per province (3 queries; 4 with `data=approved`)."""
    rows = {r.province_id: r for r in ProvinceDayRollup.objects.filter(date=day)}
    approved = _approved_rows(day, data)
    communes = dict(Province.objects.annotate(n=Count("communes")).values_list("code", "n"))
    return [
        {
            "province": code,
            **_province_block(
                rows.get(code), approved, code, day=day, expected_default=expected_for_province(n), follow_form=True
            ),
        }
        for code, n in sorted(communes.items())
    ]


def provinces_page(day: datetime.date, *, rank_by: str, data: str = ALL) -> dict[str, Any]:
    """The provinces compared, ranked by green share on commune-level tasks or by reporting completeness."""
    items = provinces(day, data=data)
    rank_by = "completeness" if rank_by == "completeness" else "green"
    key = (lambda i: i["completeness_share"]) if rank_by == "completeness" else (lambda i: i["green_share"])
    ranked = rank(items, key)
    nation = NationDayRollup.objects.filter(date=day).first()
    return {
        "items": ranked,
        "measure_titles": [m.title for m in formview.measures(formspec.spec_for_day(day), None)],
        "day": day,
        "data": data,
        "rank_by": rank_by,
        "coverage": coverage(nation, len(ranked), data=data),
    }


def phases_page(day: datetime.date | None = None, *, task_groups: frozenset[int] | None = None) -> dict[str, Any]:
    return {**phases(day, task_groups=task_groups), "status_labels": status_labels()}


class NotFollowed(LookupError):
    """The unit does not exist, or the scope may not see it (the views answer 404 for both)."""


def _followed(queryset: QuerySet, **lookup: Any) -> Any:
    found = queryset.filter(**lookup).first()
    if found is None:
        raise NotFollowed(lookup)
    return found


def province_page(*, scope: Scope, code: str, day: datetime.date, data: str = ALL) -> dict[str, Any]:
    """One province as of `day`: its figures, trend and commune-level tasks (the share of its communes that
    are green on each), open to every logged-in reader as the province ranking is; who has not reported and
    the list of its communes (each commune's history), only to those who follow the province (read-all roles
    and its officers). 9 queries (11 with `data=approved`)."""
    province = _followed(Province.objects.all(), code=code)
    follows = Province.objects.followed_by(scope).filter(code=code).exists()
    row = ProvinceDayRollup.objects.filter(province=province, date=day).first()
    spec = formspec.spec_for_day(day)
    trend_days = (day - datetime.timedelta(days=TREND_DAYS - 1), day)
    trend = list(
        ProvinceDayRollup.objects.filter(province=province, date__range=trend_days)
        .order_by("date")
        .values("date", "localities_expected", "localities_received", *INTEGER_FIELDS, "extra")
    )
    if data == APPROVED:
        approved = ApprovedProvinceDayRollup.objects.filter(province=province, date__range=trend_days)
        trend = _approved_trend(trend, approved)
        sums: Any = next((a for a in approved if a.date == day), None)
        figures = figures_block(row, day=day, approved=sums)
    else:
        sums = row
        figures = figures_block(row, day=day)
    day_series = formview.series_of(sums)
    communes = list(Commune.objects.filter(province=province).order_by("code").values_list("code", "name", "slot"))
    by_slot = {province.code: [(slot, c) for c, _name, slot in communes]}
    missing = [c for _p, c in missing_localities([row] if row else [], by_slot)]
    names = {c: name for c, name, _slot in communes}
    snaps = TaskSnapshot.objects.filter(date=day)  # built by snapshots.as_of_ensure
    summary = snaps.filter(dimension=Dimension.PROVINCE, key=code).first()
    commune_tasks = {t.code: t for t in Task.objects.filter(level="commune")}
    per_task = [
        (commune_tasks[s.key.split(":")[1]], s)
        for s in snaps.filter(
            dimension=Dimension.PROVINCE_TASK, key__in=[f"{code}:{task}" for task in commune_tasks]
        ).order_by("key")
    ]
    return {
        "province": province,
        "follows": follows,
        "day": day,
        "data": data,
        "row": row,
        "spec": spec,
        "figures": figures,
        "figure_rows": formview.figure_rows(spec, day_series),
        "measures": formview.measures(spec, day_series),
        "coverage": coverage(row, 1, data=data),
        "trend": trend,
        "missing_count": len(missing),
        "missing": [(c, names.get(c, province.name)) for c in missing] if follows else [],
        "summary": summary,
        "per_task": per_task,
        "status_labels": status_labels(),
        "communes": [(c, name) for c, name, _slot in communes] if follows else [],
    }


def commune_page(*, scope: Scope, code: str, today: datetime.date, data: str = ALL) -> dict[str, Any]:
    """One commune's history: its last 60 daily reports (one locality; with `data=approved`, those approved)
    and its assignments (3 queries). NotFollowed when the scope does not follow the commune."""
    commune = _followed(Commune.objects.followed_by(scope).select_related("province"), code=code)
    history = DailyReport.objects.filter(locality=code).annotate(
        approved=Exists(ReportApproval.objects.active().filter(report=OuterRef("pk")))
    )
    if data == APPROVED:
        history = history.filter(approved=True)
    reports = list(history.order_by("-date")[:60])
    trend = [
        {"date": r.date, "localities_expected": 1, "localities_received": 1, **formview.series_of(r)}
        for r in reversed(reports)
    ]
    # The columns are the version of the latest report's day (today's before any); each report is read in its own.
    spec = formspec.spec_for_day(reports[0].date if reports else today)
    heads = formview.measures(spec, None)
    texts = [i for i in spec.indicators if i.type == formspec.TEXT]
    rows = []
    for report in reports:
        own = formspec.spec_for_version(report.form_version_id)
        values = formview.derived(own, formview.series_of(report))
        rows.append(
            {
                "report": report,
                "measures": [(values.get(m.code), m.percent) for m in heads],
                "texts": [formview.text_of(report, i.series) for i in texts],
            }
        )
    assignments = list(
        Assignment.objects.filter(commune=commune).select_related("task").with_display_status(today).order_by("task")
    )
    return {
        "commune": commune,
        "spec": spec,
        "measure_titles": [m.title for m in heads],
        "text_labels": [i.label for i in texts],
        "columns": len(heads) + len(texts) + 3,
        "reports": reports,
        "rows": rows,
        "trend": trend,
        "assignments": assignments,
        "data": data,
    }


def agencies_page() -> dict[str, Any]:
    """Lead agencies ranked by the share of their tasks completed, and every agency the portal knows with its
    kind and the source of its name (2 queries)."""
    day = latest_snapshot_day()
    by_code = {a.code: a for a in Agency.objects.all()}
    rows = (
        [(by_code.get(s.key), s) for s in TaskSnapshot.objects.filter(date=day, dimension=Dimension.AGENCY)]
        if day
        else []
    )
    rows.sort(key=lambda i: (-(i[1].completed_on_time + i[1].completed_late) / (tasks_total(i[1]) or 1), i[1].overdue))
    return {"rows": rows, "day": day, "status_labels": status_labels(), "agencies": list(by_code.values())}


def tasks_total(snapshot: TaskSnapshot) -> int:
    return sum(getattr(snapshot, k) for k in STATUS_KEYS)


def agency_page(*, scope: Scope, code: str) -> dict[str, Any]:
    """The tasks an agency leads with their snapshot status (3 queries), open to every reader like the phase
    dashboard that links to it (what an agency leads is no secret; its units' lists are in the task pages,
    scoped there)."""
    agency = _followed(Agency.objects.all(), code=code)
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
