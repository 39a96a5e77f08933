"""The operations desk's pages: the live board (national, or one province's desk; htmx polling), the incident
list (a commune sees its own) and its CSV/XLSX export, the report form, an incident's thread with its action
buttons, a file's download, the teams. Thin: selectors read, services write."""

import datetime
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.db import parse_id
from core.exports import Sheet, csv_response, xlsx_response
from localities.models import Province
from reports.figures import OUTAGE_SYSTEMS
from support import selectors, services
from support.filters import IncidentFilterSet
from support.models import IncidentAttachment, IncidentCategory, Severity
from support.serializers import holder
from tasks.scoping import scope_for_user

PAGE_SIZE = 50


def _board_context(request):
    scope = scope_for_user(request.user)
    code = request.GET.get("province") or ""
    if not code and scope.is_province:
        code = scope.province_id or ""
    province = None
    if code:
        province = Province.objects.filter(pk=code[:2]).first()
        if province is None or not (scope.reads_all or code in (scope.province_id, scope.commune_province_id)):
            raise Http404(_("No such province desk."))
    now = timezone.now()
    figures = selectors.board(scope=scope, province=province, now=now)
    names = dict(IncidentCategory.objects.values_list("pk", "name_vi" if _vi() else "name_en"))
    severities = dict(Severity.choices)
    return {
        "province": province,
        "figures": figures,
        "open_rows": [(code, severities[code], n) for code, n in figures["open"].items()],
        "category_rows": [(names.get(code, code), n) for code, n in figures["by_category"].items()],
        "week_rows": [(names.get(code, code), n) for code, n in figures["this_week"].items()],
        "incidents": selectors.board_incidents(scope=scope, province=province, now=now),
        "now": now,
        "poll": settings.OPERATIONS_BOARD_POLL_SECONDS,
        "provinces": Province.objects.all() if scope.reads_all else [],
    }


def _vi() -> bool:
    from django.utils.translation import get_language

    return not (get_language() or "vi").startswith("en")


@require_GET
def board(request):
    """The live board; its panel reloads itself every OPERATIONS_BOARD_POLL_SECONDS (htmx), readable on a wall
    screen."""
    return render(request, "support/board.html", _board_context(request))


@require_GET
def board_panel(request):
    """The board's panel alone: what htmx polls."""
    return render(request, "support/_board_panel.html", _board_context(request))


@require_GET
def incident_list(request):
    scope = scope_for_user(request.user)
    filterset = IncidentFilterSet(request.GET or None, queryset=selectors.incident_list(scope=scope))
    if filterset.is_bound and not filterset.is_valid():
        rows = filterset.queryset.none()
    else:
        rows = filterset.qs
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "support/incident_list.html",
        {"filter": filterset, "page": page, "now": timezone.now(), "export_query": query.urlencode()},
        status=400 if filterset.is_bound and not filterset.is_valid() else 200,
    )


EXPORT_HEADER = [
    gettext_lazy("id"),
    gettext_lazy("reported at"),
    gettext_lazy("locality"),
    gettext_lazy("category"),
    gettext_lazy("system"),
    gettext_lazy("severity"),
    gettext_lazy("state"),
    gettext_lazy("holder"),
    gettext_lazy("acknowledge by"),
    gettext_lazy("resolve by"),
    gettext_lazy("escalated"),
    gettext_lazy("description"),
    gettext_lazy("resolution"),
]


@require_GET
def incident_export(request, fmt):
    if fmt not in ("csv", "xlsx"):
        raise Http404()
    scope = scope_for_user(request.user)
    filterset = IncidentFilterSet(request.GET or None, queryset=selectors.incident_list(scope=scope))
    if filterset.is_bound and not filterset.is_valid():
        return HttpResponse(_("Check the filters."), status=400)

    def rows():
        for i in filterset.qs.iterator(chunk_size=500):
            yield [
                i.pk,
                timezone.localtime(i.created_at).strftime("%Y-%m-%d %H:%M"),
                i.locality,
                i.category_id,
                i.system,
                i.severity,
                i.state,
                holder(i)["name"],
                timezone.localtime(i.acknowledge_by).strftime("%Y-%m-%d %H:%M"),
                timezone.localtime(i.resolve_by).strftime("%Y-%m-%d %H:%M"),
                "x" if i.escalated else "",
                i.description,
                i.resolution,
            ]

    name = f"incidents-{timezone.localdate().isoformat()}"
    header = [str(h) for h in EXPORT_HEADER]
    if fmt == "csv":
        return csv_response(f"{name}.csv", header, rows(), streaming=True)
    return xlsx_response(f"{name}.xlsx", [Sheet(_("Incidents"), header, rows())])


class IncidentForm(forms.Form):
    category = forms.ModelChoiceField(IncidentCategory.objects.filter(is_active=True), label=gettext_lazy("Category"))
    system = forms.ChoiceField(
        choices=[("", "—"), *OUTAGE_SYSTEMS], required=False, label=gettext_lazy("System affected")
    )
    severity = forms.ChoiceField(choices=Severity.choices, label=gettext_lazy("Severity"))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=4000, label=gettext_lazy("Description")
    )
    locality = forms.CharField(
        required=False,
        max_length=5,
        label=gettext_lazy("Locality (province officers: a commune of the province, or empty)"),
    )
    files = forms.FileField(required=False, label=gettext_lazy("Photo or file"))


@require_http_methods(["GET", "POST"])
def incident_new(request):
    scope = scope_for_user(request.user)
    if not (scope.is_commune or scope.is_province):
        return HttpResponse(_("Only communes and provinces report incidents."), status=403)
    form = IncidentForm(request.POST or None, request.FILES or None)
    if not scope.is_province:
        del form.fields["locality"]
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                incident = services.incident_open(
                    actor=request.user,
                    category=data["category"].pk,
                    system=data["system"],
                    severity=data["severity"],
                    description=data["description"],
                    locality=data.get("locality") or None,
                    files=request.FILES.getlist("files"),
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
                status = 400
            else:
                messages.success(request, _("The incident is reported; the province's desk is told."))
                return redirect("support:incident", pk=incident.pk)
        else:
            status = 400
    return render(request, "support/incident_new.html", {"form": form}, status=status)


@require_GET
def incident_detail(request, pk):
    scope = scope_for_user(request.user)
    incident = get_object_or_404(selectors.incident_detail(scope=scope), pk=pk)
    actions = services.allowed_actions(scope, incident, user_id=request.user.pk)
    teams = selectors.team_list(scope=scope).filter(services._team_q(incident)) if "assign" in actions else []
    return render(
        request,
        "support/incident_detail.html",
        {
            "incident": incident,
            "holder": holder(incident),
            "actions": actions,
            "teams": teams,
            "breached": incident.is_breached(),
            "comments": [e for e in incident.events.all() if e.action == "commented"],
        },
    )


STEPS = {
    "acknowledge": (services.incident_acknowledge, ()),
    "assign": (services.incident_assign, ("team", "user")),
    "escalate": (services.incident_escalate, ("reason",)),
    "resolve": (services.incident_resolve, ("resolution",)),
    "close": (services.incident_close, ()),
    "reopen": (services.incident_reopen, ("reason",)),
    "comment": (services.incident_comment, ("text",)),
}


@require_POST
def incident_action(request, pk, action):
    """A button of the incident page: one step, then back to the page (errors shown as messages)."""
    scope = scope_for_user(request.user)
    incident = get_object_or_404(selectors.incident_list(scope=scope), pk=pk)
    if action == "attach":
        call, fields = services.incident_attach, ()
        kwargs = {"files": request.FILES.getlist("files")}
    elif action in STEPS:
        call, fields = STEPS[action]
        kwargs = {name: request.POST.get(name, "") for name in fields}
        if action == "assign":
            team = kwargs.pop("team")
            user = kwargs.pop("user")
            kwargs["team"] = parse_id(team) if len(team) <= 18 else None  # an id, or a 400 naming `team`
            if team and kwargs["team"] is None:
                kwargs["team"] = team
            kwargs["user"] = user or None
        if action not in ("comment",) and (request.POST.get("version") or "").isdigit():
            kwargs["version"] = int(request.POST["version"])
    else:
        raise Http404()
    try:
        call(incident=incident, actor=request.user, **kwargs)
    except services.IncidentNotAllowed as exc:
        if not exc.visible:
            raise Http404() from None
        return HttpResponse(str(exc), status=403)
    except (services.InvalidTransition, services.StaleVersion) as exc:
        messages.warning(request, str(exc))
    except ValidationError as exc:
        for errors in exc.message_dict.values():
            for message in errors:
                messages.error(request, message)
    else:
        messages.success(request, _("Done."))
    return redirect("support:incident", pk=incident.pk)


@require_GET
def attachment(request, pk):
    """An incident's file, for those who may see the incident; always a download, never rendered inline."""
    scope = scope_for_user(request.user)
    found = IncidentAttachment.objects.filter(pk=pk, incident__in=selectors.incident_list(scope=scope)).first()
    if found is None:
        raise Http404(_("No such file."))
    name = Path(found.file.name).name
    known = Path(name).suffix.lower().lstrip(".") in settings.EVIDENCE_EXTENSIONS
    response = FileResponse(
        found.file.open("rb"),
        as_attachment=True,
        filename=found.name,
        content_type=None if known else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def team_list(request):
    """The teams and their load; whom to call."""
    scope = scope_for_user(request.user)
    return render(
        request,
        "support/teams.html",
        {"teams": selectors.team_list(scope=scope), **selectors.whom_to_call(scope=scope)},
    )


# --- a province's communes ranked -------------------------------------------------------------------------------

RANK_LABELS = {
    "reporting": gettext_lazy("reporting on time"),
    "fully_online": gettext_lazy("fully-online share"),
    "on_time": gettext_lazy("dossiers resolved on time"),
    "green": gettext_lazy("commune tasks green"),
}


class _BadParameter(Exception):
    """A query parameter the page refuses: answered 400 with the message, which names the parameter."""


def _bad_parameter(view):
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except _BadParameter as error:
            return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")

    wrapped.__name__, wrapped.__doc__ = view.__name__, view.__doc__
    return wrapped


def _ranking_params(request):
    """(province or None, days, sort) of the query, checked by support.selectors.ranking_parameters."""
    try:
        return selectors.ranking_parameters(
            scope=scope_for_user(request.user),
            province=request.GET.get("province", ""),
            days=request.GET.get("days", ""),
            sort=request.GET.get("sort", ""),
        )
    except selectors.RankingRefused as refused:
        if refused.code == "forbidden":
            raise PermissionDenied(_("This page is for the provinces, the steering committee and the support team."))
        if refused.code == "not_found":
            raise Http404(_("No such province."))
        raise _BadParameter(f"{refused.field}: {refused.message}")


@require_GET
@_bad_parameter
def commune_ranking(request):
    """A province's communes ranked by reporting on time, fully-online share, dossiers resolved on time and
    commune tasks green (DESIGN.md §12), over the last 7, 30 or 90 days; sortable; CSV and XLSX export."""
    province, days, sort = _ranking_params(request)
    end = timezone.localdate() - datetime.timedelta(days=1)
    rows = selectors.commune_ranking(province=province, end=end, days=days, sort=sort) if province else []
    return render(
        request,
        "support/communes.html",
        {
            "province": province,
            "rows": rows,
            "days": days,
            "sort": sort,
            "start": end - datetime.timedelta(days=days - 1),
            "end": end,
            "day_choices": selectors.RANK_DAYS,
            "columns": list(RANK_LABELS.items()),
            "provinces": Province.objects.all() if province is None else [],
        },
    )


@require_GET
@_bad_parameter
def commune_ranking_export(request, fmt):
    if fmt not in ("csv", "xlsx"):
        raise Http404()
    province, days, sort = _ranking_params(request)
    if province is None:
        raise _BadParameter("province: " + _("Choose a province."))
    end = timezone.localdate() - datetime.timedelta(days=1)
    rows = selectors.commune_ranking(province=province, end=end, days=days, sort=sort)
    header = [
        str(h)
        for h in (
            gettext_lazy("rank"),
            gettext_lazy("commune"),
            gettext_lazy("name"),
            *RANK_LABELS.values(),
            gettext_lazy("days reported on time"),
            gettext_lazy("tasks"),
            gettext_lazy("tasks green"),
        )
    ]

    def share(value):
        return None if value is None else round(value, 4)

    lines = [
        [
            r["rank"],
            r["commune"],
            r["name"],
            share(r["reporting"]),
            share(r["fully_online"]),
            share(r["on_time"]),
            share(r["green"]),
            r["reported_on_time"],
            r["tasks"],
            r["tasks_green"],
        ]
        for r in rows
    ]
    name = f"communes-{province.pk}-{end.isoformat()}-{days}d"
    if fmt == "csv":
        return csv_response(f"{name}.csv", header, lines)
    return xlsx_response(f"{name}.xlsx", [Sheet(_("Communes"), header, lines)])
