"""Dashboard pages (HTML). Thin: parse the request, call a selector of reports/dashboards.py, render or
export. Numbers come from rollups and snapshots only."""

import datetime

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from localities.models import Commune, Province
from reports import cache as dashboard_cache
from reports import dashboards
from reports.charts import chart
from reports.exports import xlsx_response
from reports.figures import FIGURE_LABELS, INTEGER_FIELDS, rates
from reports.models import DailyReport
from reports.rollup_models import Dimension, NationDayRollup, ProvinceDayRollup, RollupAlarm, TaskSnapshot
from reports.rollups import communes_by_slot, missing_localities
from tasks.models import Agency, Assignment, DisplayStatus, Role, Task
from tasks.scoping import scope_for_user


def _status_labels():
    from tasks.models import DisplayStatus

    return [(key, DisplayStatus(key).label) for key in dashboards.STATUS_KEYS]


class BadDate(ValueError):
    pass


def parse_day(value):
    """The `date` parameter: YYYY-MM-DD, not after today; empty means the latest day with data."""
    if not value:
        return dashboards.default_day()
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise BadDate(_("date: %(value)s is not a date (YYYY-MM-DD).") % {"value": value}) from None
    if day > timezone.localdate():
        raise BadDate(_("date: %(value)s is in the future.") % {"value": value})
    return day


def _day_or_error(request):
    try:
        return parse_day(request.GET.get("date")), None
    except BadDate as exc:
        return dashboards.default_day(), str(exc)


def _trend_charts(trend):
    received = [(r["date"], r["received_online"] + r["received_direct"] + r["received_postal"]) for r in trend]
    derived = [(r["date"], rates(r)) for r in trend]
    return [
        chart(received, title=_("Dossiers received per day"), kind="bar"),
        chart(
            [(d, x["fully_online"]) for d, x in derived],
            title=_("Share received fully online"),
            percent=True,
            y_max=1,
            target=dashboards.ONLINE_TARGET,
            target_label=_("target 80%"),
        ),
        chart([(d, x["on_time"]) for d, x in derived], title=_("Resolved early or on time"), percent=True, y_max=1),
        chart(
            [
                (r["date"], r["localities_received"] / r["localities_expected"] if r["localities_expected"] else None)
                for r in trend
            ],
            title=_("Reporting completeness"),
            percent=True,
            y_max=1,
        ),
    ]


def _figure_rows(*columns):
    """(label, value in each column) for every figure: the day, and the period when given."""
    return [(FIGURE_LABELS[f], *(column[f] for column in columns)) for f in INTEGER_FIELDS]


def _cached_page(request, name, title, build):
    """The dashboard's content, rendered once per rollup generation, language and query string; the page
    around it (header, navigation, the user) is rendered for each request."""
    content = dashboard_cache.cached(
        f"page-{name}",
        [request.GET.urlencode()],
        lambda: render_to_string(f"dashboard/_{name}.html", build(), request),
    )
    alarms = None
    if scope_for_user(request.user).is_admin:
        # Not cached: admins must see a new disagreement at once.
        alarms = RollupAlarm.objects.filter(resolved_at__isnull=True).count()
    # Our own template's output, cached as a string: safe to insert as it is.
    context = {"content": mark_safe(content), "title": title, "alarms": alarms}
    return render(request, "dashboard/page.html", context)


@require_GET
def national(request):
    if request.GET.get("export") != "xlsx":
        return _cached_page(request, "national", _("National dashboard"), lambda: _national_context(request))
    day, _error = _day_or_error(request)
    data = dashboards.national(day)
    figs = data["figures"]
    return xlsx_response(
        f"plan02-national-{day}.xlsx",
        [
            (
                _("Totals"),
                [_("Figure"), _("Day"), _("Last 30 days")],
                _figure_rows(figs["totals"], data["period"]["totals"]),
                data["coverage"],
            ),
            (_("Completeness"), [_("Measure"), _("Value")], list(figs["completeness"].items())),
            (
                _("Not reported"),
                [_("Province"), _("Missing"), _("Late")],
                [(m["province"].name, m["missing"], m["late"]) for m in data["missing_provinces"]],
            ),
        ],
    )


def _national_context(request):
    day, error = _day_or_error(request)
    data = dashboards.national(day)
    page = Paginator(data["missing_communes"], 50).get_page(request.GET.get("page"))
    names = dict(Commune.objects.filter(code__in=[code for _p, code in page]).values_list("code", "name"))
    provinces = {p.code: p.name for p in Province.objects.all()}
    missing_page = [(code, names.get(code, ""), provinces.get(province_id, "")) for province_id, code in page]
    return {
        **data,
        "error": error,
        "charts": _trend_charts(data["trend"]),
        "page": page,
        "missing_page": missing_page,
        "section": "national",
        "figure_rows": _figure_rows(data["figures"]["totals"], data["period"]["totals"]),
    }


def _phases_data():
    data = dashboards.phases()
    provinces = {p.code: p for p in Province.objects.all()}
    province_rows = sorted(
        ((provinces[k], s) for k, s in data["provinces"].items() if k in provinces),
        key=lambda i: -(i[1].green / i[1].assignments if i[1].assignments else 0),
    )
    return {**data, "province_rows": province_rows, "status_labels": _status_labels(), "section": "phases"}


@require_GET
def phases(request):
    if request.GET.get("export") != "xlsx":
        return _cached_page(request, "phases", _("Phase deadlines"), _phases_data)
    data = _phases_data()
    province_rows = data["province_rows"]
    labels = [label for _key, label in _status_labels()]
    counts = lambda s: [getattr(s, k) for k in dashboards.STATUS_KEYS]  # noqa: E731
    return xlsx_response(
        "plan02-phases.xlsx",
        [
            (
                _("Phases"),
                [_("Phase"), _("Deadline"), _("Days left"), *labels, _("Forecast"), _("Risk"), _("Reason")],
                [
                    (
                        p["phase"].name,
                        p["deadline"],
                        p["days_left"],
                        *p["tasks"].values(),
                        p["forecast"]["date"],
                        p["forecast"]["risk"],
                        p["forecast"]["reason"],
                    )
                    for p in data["phases"]
                ],
            ),
            (_("By group"), [_("Group"), *labels], [(str(g), *counts(s)) for g, s in data["groups"]]),
            (_("By lead agency"), [_("Agency"), *labels], [(str(a), *counts(s)) for a, s in data["agencies"]]),
            (
                _("By province"),
                [_("Province"), *labels, _("Assignments"), _("Completed")],
                [(p.name, *counts(s), s.assignments, s.green) for p, s in province_rows],
            ),
        ],
    )


def _provinces_data(request):
    day, error = _day_or_error(request)
    items = dashboards.provinces(day)
    by = request.GET.get("rank", "green")
    key = (lambda i: i["completeness_share"]) if by == "completeness" else (lambda i: i["green_share"])
    ranked = dashboards.rank(items, key)
    nation = NationDayRollup.objects.filter(date=day).first()
    return {
        "items": ranked,
        "day": day,
        "rank_by": by,
        "error": error,
        "section": "provinces",
        "coverage": dashboards.coverage(nation, len(ranked)),
    }


@require_GET
def provinces(request):
    if request.GET.get("export") != "xlsx":
        return _cached_page(request, "provinces", _("Provinces compared"), lambda: _provinces_data(request))
    data = _provinces_data(request)
    day, ranked = data["day"], data["items"]
    return xlsx_response(
        f"plan02-provinces-{day}.xlsx",
        [
            (
                _("Provinces"),
                [
                    _("Rank"),
                    _("Code"),
                    _("Province"),
                    _("Communes green on commune-level tasks"),
                    _("Reports received"),
                    _("Expected"),
                    _("Late"),
                    _("Received"),
                    _("Fully online"),
                ],
                [
                    (
                        i["rank"],
                        i["province"].code,
                        i["province"].name,
                        i["green_share"],
                        i["figures"]["completeness"]["received"],
                        i["figures"]["completeness"]["expected"],
                        i["figures"]["completeness"]["late"],
                        sum(
                            i["figures"]["totals"][f] for f in ("received_online", "received_direct", "received_postal")
                        ),
                        i["figures"]["rates"]["fully_online"],
                    )
                    for i in ranked
                ],
            )
        ],
    )


def _may_see_province(scope, code):
    return scope.reads_all or (scope.role == Role.PROVINCE_OFFICER and scope.province_id == code)


@require_GET
def province(request, code):
    scope = scope_for_user(request.user)
    province = get_object_or_404(Province, code=code)
    if not _may_see_province(scope, code):
        raise Http404
    day, error = _day_or_error(request)
    row = ProvinceDayRollup.objects.filter(province=province, date=day).first()
    figures = dashboards.figures_block(row, day=day)
    trend = list(
        ProvinceDayRollup.objects.filter(province=province, date__range=(day - datetime.timedelta(days=59), day))
        .order_by("date")
        .values("date", "localities_expected", "localities_received", *INTEGER_FIELDS)
    )
    missing = [code for _p, code in missing_localities([row] if row else [], communes_by_slot(province.code))]
    names = dict(Commune.objects.filter(code__in=missing).values_list("code", "name"))
    snapshot_day = dashboards.latest_snapshot_day()
    snaps = TaskSnapshot.objects.filter(date=snapshot_day)
    summary = snaps.filter(dimension=Dimension.PROVINCE, key=code).first()
    tasks = {t.code: t for t in Task.objects.filter(level="commune")}
    per_task = [
        (tasks.get(s.key.split(":")[1]), s)
        for s in snaps.filter(dimension=Dimension.PROVINCE_TASK, key__startswith=f"{code}:").order_by("key")
    ]
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            f"plan02-province-{code}-{day}.xlsx",
            [
                (_("Totals"), [_("Figure"), _("Value")], _figure_rows(figures["totals"]), dashboards.coverage(row, 1)),
                (
                    _("Not reported"),
                    [_("Code"), _("Name")],
                    [(code, names.get(code, province.name)) for code in missing],
                ),
                (
                    _("Commune-level tasks"),
                    [_("Task"), _("Communes"), _("Green")],
                    [(t.code if t else s.key, s.assignments, s.green) for t, s in per_task],
                ),
            ],
        )
    return render(
        request,
        "dashboard/province.html",
        {
            "province": province,
            "day": day,
            "error": error,
            "figures": figures,
            "row": row,
            "coverage": dashboards.coverage(row, 1),
            "charts": _trend_charts(trend),
            "missing": [(code, names.get(code, province.name)) for code in missing],
            "summary": summary,
            "per_task": per_task,
            "status_labels": _status_labels(),
            "section": "provinces",
            "communes": province.communes.all(),
        },
    )


@require_GET
def commune(request, code):
    """One commune's history: its daily reports (raw, one locality) and its assignments."""
    scope = scope_for_user(request.user)
    commune = get_object_or_404(Commune.objects.select_related("province"), code=code)
    allowed = _may_see_province(scope, commune.province_id) or (
        scope.role == Role.COMMUNE_CLERK and scope.commune_id == code
    )
    if not allowed:
        raise Http404
    reports = list(DailyReport.objects.filter(locality=code).order_by("-date")[:60])
    trend = [
        {
            "date": r.date,
            "localities_expected": 1,
            "localities_received": 1,
            **{f: getattr(r, f) for f in INTEGER_FIELDS},
        }
        for r in reversed(reports)
    ]
    today = timezone.localdate()
    assignments = Assignment.objects.filter(commune=commune).select_related("task").with_display_status(today)
    return render(
        request,
        "dashboard/commune.html",
        {
            "commune": commune,
            "reports": reports,
            "charts": _trend_charts(trend)[:3],
            "assignments": assignments,
            "section": "provinces",
        },
    )


@require_GET
def agencies(request):
    day = dashboards.latest_snapshot_day()
    agencies = {a.code: a for a in Agency.objects.all()}
    rows = (
        [(agencies.get(s.key), s) for s in TaskSnapshot.objects.filter(date=day, dimension=Dimension.AGENCY)]
        if day
        else []
    )
    total = lambda s: sum(getattr(s, k) for k in dashboards.STATUS_KEYS)  # noqa: E731
    rows.sort(key=lambda i: (-(i[1].completed_on_time + i[1].completed_late) / (total(i[1]) or 1), i[1].overdue))
    if request.GET.get("export") == "xlsx":
        labels = [label for _key, label in _status_labels()]
        return xlsx_response(
            "plan02-agencies.xlsx",
            [
                (
                    _("Agencies"),
                    [_("Rank"), _("Agency"), _("Tasks led"), *labels],
                    [
                        (n, str(a), total(s), *[getattr(s, k) for k in dashboards.STATUS_KEYS])
                        for n, (a, s) in enumerate(rows, start=1)
                    ],
                )
            ],
        )
    return render(
        request,
        "dashboard/agencies.html",
        {"rows": rows, "day": day, "status_labels": _status_labels(), "section": "agencies"},
    )


@require_GET
def agency(request, code):
    scope = scope_for_user(request.user)
    agency = get_object_or_404(Agency, code=code)
    if not (scope.reads_all or (scope.role == Role.AGENCY_OFFICER and scope.agency_id == agency.pk)):
        raise Http404
    day = dashboards.latest_snapshot_day()
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
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            f"plan02-agency-{agency.code}.xlsx",
            [
                (
                    _("Tasks led"),
                    [_("Code"), _("Task"), _("Phase"), _("Deadline"), _("Status"), _("Assignments"), _("Completed")],
                    [
                        (
                            t.code,
                            t.title,
                            t.phase.name,
                            t.deadline,
                            DisplayStatus(s.status).label if s and s.status else "",
                            s.assignments if s else None,
                            s.green if s else None,
                        )
                        for t, s in rows
                    ],
                    agency.name,
                )
            ],
        )
    return render(
        request,
        "dashboard/agency.html",
        {"agency": agency, "rows": rows, "overdue": overdue, "day": day, "section": "agencies"},
    )
