"""Dashboard pages (HTML). Thin: parse the request, call one selector of dashboards.selectors (which also
says who may see what, through the querysets), then render, or export with dashboards.exports."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dashboards import cache as dashboard_cache
from dashboards import exports, selectors
from dashboards.charts import trend_charts
from plan02.dates import BadDay
from plan02.exports import xlsx_response
from tasks.scoping import scope_for_user
from tasks.selectors import demo_notes


def _day_or_error(request: HttpRequest):
    """The page's day and, when the parameter was refused, the message shown above the latest day's page."""
    try:
        return selectors.day_param(request.GET.get("date")), None
    except BadDay as exc:
        return selectors.default_day(), _("date: %(value)s — %(error)s") % {"value": request.GET["date"], "error": exc}


def _cached_page(request: HttpRequest, name: str, title: str, build) -> HttpResponse:
    """The dashboard's content, rendered once per rollup generation, language and query string; the page
    around it (header, navigation, the user) is rendered for each request."""
    content = dashboard_cache.cached(
        f"page-{name}",
        [request.GET.urlencode()],
        lambda: render_to_string(f"dashboards/_{name}.html", build(), request),
    )
    # Our own template's output, cached as a string: safe to insert as it is.
    context = {
        "content": mark_safe(content),
        "title": title,
        "alarms": selectors.open_alarms(scope_for_user(request.user)),
    }
    return render(request, "dashboards/page.html", context)


def _national_context(request: HttpRequest) -> dict:
    day, error = _day_or_error(request)
    data = selectors.national_page(day, page=request.GET.get("page"))
    return {
        **data,
        "error": error,
        "charts": trend_charts(data["trend"], target=data["target"]),
        "section": "national",
        "figure_rows": exports.figure_rows(data["figures"]["totals"], data["period"]["totals"]),
    }


@require_GET
def national(request):
    if request.GET.get("export") == "xlsx":
        day, _error = _day_or_error(request)
        return xlsx_response(f"plan02-national-{day}.xlsx", exports.national_sheets(selectors.national(day)))
    return _cached_page(request, "national", _("National dashboard"), lambda: _national_context(request))


def _as_of_or_error(request: HttpRequest):
    """An as-of view's day (None: the latest snapshot) and the message shown when the parameter is refused."""
    if not request.GET.get("date"):
        return None, None
    try:
        return selectors.day_param(request.GET["date"]), None
    except BadDay as exc:
        return None, _("date: %(value)s — %(error)s") % {"value": request.GET["date"], "error": exc}


def _phases_context(request: HttpRequest) -> dict:
    day, error = _as_of_or_error(request)
    return {**selectors.phases_page(day), "error": error, "section": "phases"}


@require_GET
def phases(request):
    if request.GET.get("export") == "xlsx":
        data = _phases_context(request)
        sheets = exports.phases_sheets(data, notes=demo_notes())
        return xlsx_response(f"plan02-phases-{data['day'] or 'latest'}.xlsx", sheets)
    return _cached_page(request, "phases", _("Phase deadlines"), lambda: _phases_context(request))


def _provinces_context(request: HttpRequest) -> dict:
    day, error = _day_or_error(request)
    data = selectors.provinces_page(day, rank_by=request.GET.get("rank", "green"))
    return {**data, "error": error, "section": "provinces"}


@require_GET
def provinces(request):
    if request.GET.get("export") == "xlsx":
        data = _provinces_context(request)
        return xlsx_response(f"plan02-provinces-{data['day']}.xlsx", exports.provinces_sheets(data, notes=demo_notes()))
    return _cached_page(request, "provinces", _("Provinces compared"), lambda: _provinces_context(request))


@require_GET
def province(request, code):
    day, error = _day_or_error(request)
    data = selectors.province_page(scope=scope_for_user(request.user), code=code, day=day)
    if request.GET.get("export") == "xlsx":
        return xlsx_response(f"plan02-province-{code}-{day}.xlsx", exports.province_sheets(data, notes=demo_notes()))
    context = {**data, "error": error, "charts": trend_charts(data["trend"], target=selectors.ONLINE_TARGET)}
    return render(request, "dashboards/province.html", {**context, "section": "provinces"})


@require_GET
def commune(request, code):
    """One commune's history: its daily reports (raw, one locality) and its assignments."""
    data = selectors.commune_page(scope=scope_for_user(request.user), code=code, today=timezone.localdate())
    context = {**data, "charts": trend_charts(data["trend"], limit=3), "section": "provinces"}
    return render(request, "dashboards/commune.html", context)


@require_GET
def agencies(request):
    data = selectors.agencies_page()
    if request.GET.get("export") == "xlsx":
        return xlsx_response("plan02-agencies.xlsx", exports.agencies_sheets(data, notes=demo_notes()))
    return render(request, "dashboards/agencies.html", {**data, "section": "agencies"})


@require_GET
def agency(request, code):
    data = selectors.agency_page(scope=scope_for_user(request.user), code=code)
    if request.GET.get("export") == "xlsx":
        return xlsx_response(f"plan02-agency-{code}.xlsx", exports.agency_sheets(data, notes=demo_notes()))
    return render(request, "dashboards/agency.html", {**data, "section": "agencies"})
