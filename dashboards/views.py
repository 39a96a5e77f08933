"""Dashboard pages (HTML). Thin: parse the request, call one selector of dashboards.selectors (which also
says who may see what, through the querysets), then render, or export with dashboards.exports."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.dates import BadDay
from core.db import parse_id
from core.exports import xlsx_response
from core.pagecache import whole_response
from core.pdf import pdf_response
from core.text import echo
from dashboards import cache as dashboard_cache
from dashboards import exports, maps, meetings, selectors, snapshots, targets
from dashboards.charts import trend_charts
from dashboards.models import Meeting, Target
from localities.models import Province
from tasks import working_groups
from tasks.scoping import scope_for_user
from tasks.selectors import demo_notes


def _day_or_error(request: HttpRequest):
    """The page's day and, when the parameter was refused, the message shown above the latest day's page."""
    try:
        return selectors.day_param(request.GET.get("date")), None
    except BadDay as exc:
        return selectors.default_day(), _("date: %(value)s — %(error)s") % {
            "value": echo(request.GET["date"]),
            "error": exc,
        }


def _data_or_error(request: HttpRequest):
    """The figures' `data` (all reports, or the approved ones: DESIGN.md §11) and the message shown when the
    parameter is refused (the page then shows every report)."""
    try:
        return selectors.data_param(request.GET.get("data")), None
    except selectors.BadData as exc:
        return selectors.ALL, _("data: %(value)s — %(error)s") % {"value": echo(request.GET["data"]), "error": exc}


def _errors(*messages: str | None) -> str | None:
    return " · ".join(m for m in messages if m) or None


def _cached_page(
    request: HttpRequest, name: str, title: str, build, *, view: working_groups.View | None = None
) -> HttpResponse:
    """The dashboard's content, rendered once per rollup generation, language and query string; the page
    around it (header, navigation, the user, the working groups' switch when `view` is given) is rendered for
    each request."""
    content = dashboard_cache.cached(
        f"page-{name}",
        [request.GET.urlencode()],
        lambda: render_to_string(f"dashboards/_{name}.html", build(), request),
    )
    # Our own template's output, cached as a string: safe to insert as it is.
    context = {
        "content": mark_safe(content),
        "section": name,
        "title": title,
        "alarms": selectors.open_alarms(scope_for_user(request.user)),
    }
    if view is not None:
        context["working_group"] = working_groups.switch_links(
            path=request.path, query=request.GET, view=view, scope=scope_for_user(request.user)
        )
    return render(request, "dashboards/page.html", context)


def _national_context(request: HttpRequest) -> dict:
    day, error = _day_or_error(request)
    which, data_error = _data_or_error(request)
    data = selectors.national_page(day, page=request.GET.get("page"), data=which)
    return {
        **data,
        "error": _errors(error, data_error),
        "charts": trend_charts(data["trend"], spec=data["spec"]),
        "section": "national",
    }


@whole_response
@require_GET
def national(request):
    if request.GET.get("export") == "xlsx":
        day, _error = _day_or_error(request)
        which, _error = _data_or_error(request)
        sheets = exports.national_sheets(selectors.national(day, data=which))
        return xlsx_response(f"plan02-national-{day}{exports.data_suffix(which)}.xlsx", sheets)
    return _cached_page(request, "national", _("National dashboard"), lambda: _national_context(request))


def _found(page, **kwargs):
    """A unit's page, or 404 when the unit does not exist or the reader may not see it."""
    try:
        return page(**kwargs)
    except selectors.NotFollowed:
        raise Http404 from None


def _as_of_or_error(request: HttpRequest):
    """An as-of view's day (None: the latest snapshot) and the message shown when the parameter is refused."""
    if not request.GET.get("date"):
        return None, None
    try:
        return selectors.day_param(request.GET["date"]), None
    except BadDay as exc:
        return None, _("date: %(value)s — %(error)s") % {"value": echo(request.GET["date"]), "error": exc}


def _phases_context(request: HttpRequest, view: working_groups.View) -> dict:
    day, error = _as_of_or_error(request)
    snapshots.as_of_ensure(day)
    page = selectors.phases_page(day, task_groups=view.task_groups)
    return {**page, "error": error, "section": "phases", "working_group": view.group}


@whole_response
@require_GET
def phases(request):
    """The phase dashboard; a working group's member lands on the group's view (tasks.working_groups)."""
    landing = working_groups.landing_url(path=request.path, query=request.GET, scope=scope_for_user(request.user))
    if landing is not None:
        return redirect(landing)
    view = working_groups.view_of(request.GET.get(working_groups.PARAM))
    if request.GET.get("export") == "xlsx":
        data = _phases_context(request, view)
        sheets = exports.phases_sheets(data, notes=[*exports.view_note(view.group), *demo_notes()])
        return xlsx_response(f"plan02-phases-{data['day'] or 'latest'}{_view_suffix(view)}.xlsx", sheets)
    if request.GET.get("export") == "pdf":
        data = _phases_context(request, view)
        return pdf_response(
            f"plan02-phases-{data['day'] or 'latest'}.pdf", "dashboards/pdf/phases.html", data, request=request
        )
    return _cached_page(request, "phases", _("Phase deadlines"), lambda: _phases_context(request, view), view=view)


def _provinces_context(request: HttpRequest) -> dict:
    day, error = _day_or_error(request)
    which, data_error = _data_or_error(request)
    snapshots.as_of_ensure(day)
    data = selectors.provinces_page(day, rank_by=request.GET.get("rank", "green"), data=which)
    measure = "completeness_share" if data["rank_by"] == "completeness" else "green_share"
    return {
        **data,
        "error": _errors(error, data_error),
        "section": "provinces",
        "map": maps.province_map(data["items"], measure=measure),
    }


@whole_response
@require_GET
def provinces(request):
    if request.GET.get("export") == "xlsx":
        data = _provinces_context(request)
        name = f"plan02-provinces-{data['day']}{exports.data_suffix(data['data'])}.xlsx"
        return xlsx_response(name, exports.provinces_sheets(data, notes=demo_notes()))
    return _cached_page(request, "provinces", _("Provinces compared"), lambda: _provinces_context(request))


@require_GET
def province(request, code):
    day, error = _day_or_error(request)
    which, data_error = _data_or_error(request)
    snapshots.as_of_ensure(day)
    data = _found(selectors.province_page, scope=scope_for_user(request.user), code=code, day=day, data=which)
    if request.GET.get("export") == "xlsx":
        name = f"plan02-province-{code}-{day}{exports.data_suffix(which)}.xlsx"
        return xlsx_response(name, exports.province_sheets(data, notes=demo_notes()))
    context = {
        **data,
        "error": _errors(error, data_error),
        "charts": trend_charts(data["trend"], spec=data["spec"]),
    }
    return render(request, "dashboards/province.html", {**context, "section": "provinces"})


@require_GET
def commune(request, code):
    """One commune's history: its daily reports (raw, one locality) and its assignments."""
    which, data_error = _data_or_error(request)
    data = _found(
        selectors.commune_page, scope=scope_for_user(request.user), code=code, today=timezone.localdate(), data=which
    )
    charts = trend_charts(data["trend"], spec=data["spec"], completeness=False)
    context = {**data, "error": data_error, "charts": charts, "section": "provinces"}
    return render(request, "dashboards/commune.html", context)


@require_GET
def agencies(request):
    data = selectors.agencies_page()
    if request.GET.get("export") == "xlsx":
        return xlsx_response("plan02-agencies.xlsx", exports.agencies_sheets(data, notes=demo_notes()))
    return render(request, "dashboards/agencies.html", {**data, "section": "agencies"})


@require_GET
def agency(request, code):
    data = _found(selectors.agency_page, scope=scope_for_user(request.user), code=code)
    if request.GET.get("export") == "xlsx":
        return xlsx_response(f"plan02-agency-{code}.xlsx", exports.agency_sheets(data, notes=demo_notes()))
    return render(request, "dashboards/agency.html", {**data, "section": "agencies"})


# --- the steering pack: targets and meetings ------------------------------------------------------------------


def _targets_context(request: HttpRequest) -> dict:
    day, error = _day_or_error(request)
    scope = scope_for_user(request.user)
    items = targets.target_values(day)
    return {
        "items": items,
        "day": day,
        "error": error,
        "section": "targets",
        "may_enter": {item["target"].code for item in items if targets.may_enter(scope, item["target"])},
    }


@require_GET
def target_list(request):
    data = _targets_context(request)
    if request.GET.get("export") == "xlsx":
        return xlsx_response(f"plan02-targets-{data['day']}.xlsx", exports.targets_sheets(data))
    return render(request, "dashboards/targets.html", data)


@require_http_methods(["GET", "POST"])
def target_detail(request, code):
    """A target: its value as of a day, each province's, the history of entered values, and for its agency's
    officers the form to enter a new measured value with its evidence."""
    target = get_object_or_404(Target.objects.select_related("agency"), code=code)
    scope = scope_for_user(request.user)
    may_enter = targets.may_enter(scope, target)
    form_errors, status = None, 200
    if request.method == "POST":
        if not may_enter:
            raise PermissionDenied(_("Only the responsible agency enters this target's values."))
        try:
            targets.target_value_enter(
                target=target,
                actor=request.user,
                scope=scope,
                value=request.POST.get("value", "").replace(",", "."),
                measured_on=request.POST.get("measured_on", ""),
                evidence_url=request.POST.get("evidence_url", ""),
                note=request.POST.get("note", ""),
                province=request.POST.get("province") or None,
            )
        except ValidationError as exc:
            form_errors, status = exc.message_dict, 400
        else:
            transaction.on_commit(dashboard_cache.invalidate)
            messages.success(request, _("The value was recorded, with its evidence."))
            return redirect("dashboard:target", code=code)
    day, error = _day_or_error(request)
    item = next(i for i in targets.target_values(day) if i["target"].pk == target.pk)
    history = target.values.select_related("entered_by", "province")[:100]
    context = {
        "item": item,
        "target": target,
        "day": day,
        "error": error,
        "history": history,
        "may_enter": may_enter,
        "form_errors": form_errors,
        "posted": request.POST if request.method == "POST" else {},
        "provinces": Province.objects.all() if target.level == Target.Level.PROVINCE else [],
        "section": "targets",
    }
    return render(request, "dashboards/target.html", context, status=status)


@require_http_methods(["GET", "POST"])
def meeting_list(request):
    """The steering committee's meetings; steering members and the admin freeze a new one here."""
    scope = scope_for_user(request.user)
    if not scope.reads_all:
        raise Http404
    form_errors, status = None, 200
    if request.method == "POST":
        try:
            meeting = meetings.meeting_create(
                scope=scope, actor=request.user, title=request.POST.get("title"), date=request.POST.get("date")
            )
        except ValidationError as exc:
            form_errors, status = exc.message_dict, 400
        else:
            messages.success(request, _("The meeting's pack was frozen as of %(day)s.") % {"day": meeting.date})
            return redirect("dashboard:meeting", pk=meeting.pk)
    rows = Meeting.objects.visible_to(scope).select_related("created_by").defer("content")
    context = {
        "meetings": rows,
        "may_create": meetings.may_create(scope),
        "form_errors": form_errors,
        "posted": request.POST if request.method == "POST" else {},
        "default_day": timezone.localdate() - datetime.timedelta(days=1),
        "section": "meetings",
    }
    return render(request, "dashboards/meetings.html", context, status=status)


def _meeting(request, pk) -> Meeting:
    return get_object_or_404(Meeting.objects.visible_to(scope_for_user(request.user)), pk=pk)


@require_GET
def meeting_detail(request, pk):
    """A frozen meeting pack; a working group's member lands on the group's view of its task lists (the
    overdue and the blocked). The exports follow `?working_group=` when it is given (the page's export links
    carry the view it shows); without it they are the whole pack."""
    scope = scope_for_user(request.user)
    meeting = _meeting(request, pk)
    landing = working_groups.landing_url(path=request.path, query=request.GET, scope=scope)
    if landing is not None and "export" not in request.GET:
        return redirect(landing)
    view = working_groups.view_of(request.GET.get(working_groups.PARAM))
    content = meetings.pack_view(meeting.content, working_groups.task_codes(view))
    if request.GET.get("export") == "xlsx":
        return xlsx_response(
            f"plan02-meeting-{meeting.pk}-{meeting.date}{_view_suffix(view)}.xlsx",
            exports.meeting_sheets(meeting, content=content, working_group=view.group),
        )
    if request.GET.get("export") == "pdf":
        context = {"meeting": meeting, "c": content, "working_group": view.group}
        return pdf_response(
            f"plan02-meeting-{meeting.pk}-{meeting.date}{_view_suffix(view)}.pdf",
            "dashboards/pdf/meeting.html",
            context,
            request=request,
        )
    earlier = (
        Meeting.objects.visible_to(scope_for_user(request.user))
        .filter(date__lt=meeting.date)
        .defer("content")
        .order_by("-date", "-created_at")
    )
    context = {
        "meeting": meeting,
        "c": content,
        "earlier": earlier[:20],
        "section": "meetings",
        "working_group": working_groups.switch_links(path=request.path, query=request.GET, view=view, scope=scope),
    }
    return render(request, "dashboards/meeting.html", context)


def _view_suffix(view: working_groups.View) -> str:
    """An export's file name says which working group's view it holds."""
    return f"-wg{view.group.number}" if view.group is not None else ""


@require_GET
def meeting_compare(request, pk):
    """What changed since an earlier meeting; a working group's member lands on the group's view (its tasks'
    lists), the export follows the view shown."""
    scope = scope_for_user(request.user)
    landing = working_groups.landing_url(path=request.path, query=request.GET, scope=scope)
    if landing is not None and "export" not in request.GET:
        return redirect(landing)
    meeting = _meeting(request, pk)
    since = request.GET.get("since", "")
    earlier = (
        Meeting.objects.visible_to(scope_for_user(request.user)).filter(pk=parse_id(since)).first()
        if parse_id(since) is not None
        else None
    )
    if earlier is None:
        raise Http404(_("Choose an earlier meeting to compare with."))
    view = working_groups.view_of(request.GET.get(working_groups.PARAM))
    changes = meetings.meeting_changes(meeting=meeting, since=earlier, task_codes=working_groups.task_codes(view))
    if request.GET.get("export") == "xlsx":
        name = f"plan02-meeting-{meeting.pk}-since-{earlier.pk}{_view_suffix(view)}.xlsx"
        sheets = exports.changes_sheets(changes, meeting=meeting, since=earlier, working_group=view.group)
        return xlsx_response(name, sheets)
    context = {
        "meeting": meeting,
        "since": earlier,
        "changes": changes,
        "section": "meetings",
        "working_group": working_groups.switch_links(path=request.path, query=request.GET, view=view, scope=scope),
    }
    return render(request, "dashboards/meeting_compare.html", context)
