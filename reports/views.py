"""Browser pages of daily reports. Views parse, call one service or selector, and render; scoping comes from
the querysets (DailyReport.objects.visible_to) through reports.selectors, and from the services."""

import datetime
from collections import Counter

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import condition, require_GET, require_http_methods, require_POST

from core.dates import parse_date_or_none
from core.exports import csv_response
from localities.models import Commune, Province
from reports import formspec, offline, services, uploads
from reports.completeness import Completeness, lock_date
from reports.figures import ALL_FIELDS, INTEGER_FIELDS
from reports.filters import DailyReportFilterSet
from reports.forms import ApiKeyForm, DailyReportForm, LockExceptionForm, UploadForm, spec_for_text
from reports.models import ApiClient
from reports.selectors import province_day_status, report_detail_queryset, reports_visible
from tasks.models import Role
from tasks.scoping import scope_for_user


def _scope(request):
    return scope_for_user(request.user)


def _day_param(value, default):
    return (parse_date_or_none(value) if value else None) or default


def _may_submit_somewhere(scope):
    return scope.is_admin or scope.role in (Role.PROVINCE_OFFICER, Role.COMMUNE_CLERK)


def _locality_choices(scope):
    """What a user may choose in the form: None means a free code (the national admin)."""
    if scope.is_admin:
        return None
    if scope.role == Role.COMMUNE_CLERK:
        commune = Commune.objects.get(code=scope.commune_id)
        return [(commune.code, f"{commune.code} · {commune.name}")]
    if scope.role == Role.PROVINCE_OFFICER:
        province = Province.objects.get(code=scope.province_id)
        label = _("%(code)s · %(name)s (the province's own report)") % {"code": province.code, "name": province.name}
        choices = [(province.code, label)]
        choices += [
            (code, f"{code} · {name}")
            for code, name in Commune.objects.filter(province=province).values_list("code", "name")
        ]
        return choices
    raise PermissionDenied


# --- lists and export -------------------------------------------------------------------------------------

EXPORT_COLUMNS = [
    *ALL_FIELDS,
    "received_total",
    "resolved_total",
    "online_rate",
    "fully_online_rate",
    "on_time_rate",
    "receipt",
    "revision",
    "late",
    "received_at",
]


def _added_columns() -> list[str]:
    """The series of every version's own indicators (kept in a report's `extra`), in the order the versions
    added them: the export's columns after the default form's (formspec.indicator_labels lists every version)."""
    defaults = set(ALL_FIELDS)
    columns: list[str] = []
    for spec in formspec.specs_between(datetime.date.min, timezone.localdate() + datetime.timedelta(days=3660)):
        columns += [i.series for i in spec.indicators if i.series not in defaults and i.series not in columns]
    return columns


def _export_rows(queryset, added: list[str]):
    """One row a report, its figures by series: a renamed indicator under its series' column, an indicator its
    version does not have empty (not the 0 it is stored as), a version's own indicators in the added columns."""
    model_fields = [name for name in ALL_FIELDS if name != "date"]
    export = queryset.select_related(None).only(
        *model_fields, "date", "receipt", "revision", "late", "received_at", "form_version", "extra"
    )
    for report in export.iterator(chunk_size=2000):
        derived = report.derived
        spec = formspec.spec_for_version(report.form_version_id)
        kept = {i.series for i in spec.indicators} | {"locality", "date"}
        values = [getattr(report, name) if name in kept else "" for name in ALL_FIELDS]
        values[ALL_FIELDS.index("outage_systems")] = ";".join(report.outage_systems)
        extra = report.extra or {}
        values += ["" if extra.get(name) is None else extra[name] for name in added]
        rate = [derived[k] for k in ("online", "fully_online", "on_time")]
        yield [
            *values,
            derived["received_total"],
            derived["resolved_total"],
            *("" if r is None else f"{r:.4f}" for r in rate),
            report.receipt,
            report.revision,
            "true" if report.late else "false",
            timezone.localtime(report.received_at).isoformat(),
        ]


def _report_list(request, *, template, mine):
    scope = _scope(request)
    queryset = reports_visible(scope).select_related("province", "commune")
    filterset = DailyReportFilterSet(request.GET, queryset=queryset)
    if request.GET.get("format") == "csv":
        added = _added_columns()
        columns = [*ALL_FIELDS, *added, *EXPORT_COLUMNS[len(ALL_FIELDS) :]]
        return csv_response("daily-reports.csv", columns, _export_rows(filterset.qs, added), streaming=True)
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    export_query = request.GET.copy()
    export_query.pop("page", None)
    export_query["format"] = "csv"
    return render(
        request,
        template,
        {
            "filter": filterset,
            "page": page,
            "mine": mine,
            "may_submit": _may_submit_somewhere(scope),
            "is_province_officer": scope.role == Role.PROVINCE_OFFICER,
            "export_url": f"?{export_query.urlencode()}",
        },
    )


@require_GET
def report_list(request):
    """Read-only list for steering, inspectors and the admin (scoped like every list)."""
    return _report_list(request, template="reports/report_list.html", mine=False)


@require_GET
def my_reports(request):
    """A clerk's or province officer's reports, with the actions they may take."""
    return _report_list(request, template="reports/report_list.html", mine=True)


@require_GET
def report_detail(request, locality, date):
    scope = _scope(request)
    day = _day_param(date, None)
    if day is None:
        raise Http404
    report = get_object_or_404(
        report_detail_queryset(scope).select_related("province", "commune"), locality=locality, date=day
    )
    may_correct = services.may_submit(scope, province_id=report.province_id, commune_id=report.commune_id)
    # In the indicators of the report's own form version (its labels; an added indicator's value from `extra`).
    spec = formspec.spec_for_version(report.form_version_id)
    row = {name: getattr(report, name) for name in services.CONTENT_FIELDS}
    content = services.content_of({**row, "extra": report.extra, "form_version_id": report.form_version_id})
    figures = [(i.label, content.get(i.code)) for i in spec.integers]
    choices = {c.code: c.label for i in spec.indicators if i.type == formspec.CHOICES for c in i.choices}
    return render(
        request,
        "reports/report_detail.html",
        {
            "report": report,
            "figures": figures,
            "outages": [label for code, label in choices.items() if code in report.outage_systems],
            "may_correct": may_correct,
            "revisions": report.revisions.all(),
            "warnings": report.quality_warnings.select_related("explained_by", "closed_by"),
            "approvals": report.approvals.select_related("approved_by", "withdrawn_by").order_by("approved_at", "pk"),
        },
    )


# --- submission and correction ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def report_submit(request):
    scope = _scope(request)
    choices = _locality_choices(scope)
    if request.method == "GET":
        yesterday = timezone.localdate() - datetime.timedelta(days=1)
        initial = {"date": request.GET.get("date") or yesterday.isoformat()}
        initial["locality"] = request.GET.get("locality") or scope.locality_code() or ""
        form = DailyReportForm(initial=initial, localities=choices, spec=spec_for_text(initial["date"]))
        context = {"form": form, "csrf_cookie_name": settings.CSRF_COOKIE_NAME}
        return render(request, "reports/report_form.html", context)
    form = DailyReportForm(request.POST, localities=choices, spec=spec_for_text(request.POST.get("date")))
    outcome = services.daily_report_submit(payload=form.payload(), user=request.user)
    if outcome.status in (services.CREATED, services.UNCHANGED):
        if outcome.status == services.CREATED:
            messages.success(request, _("Report received. Receipt: %(receipt)s.") % {"receipt": outcome.receipt})
        else:
            messages.info(
                request,
                _("This report had already been received, with the same figures. Receipt: %(receipt)s.")
                % {"receipt": outcome.receipt},
            )
        for warning in outcome.warnings:
            messages.warning(request, warning["message"])
        return redirect("reports:detail", outcome.locality, outcome.date)
    context = {"form": form, "csrf_cookie_name": settings.CSRF_COOKIE_NAME}
    if outcome.status == services.INVALID:
        form.apply_errors(outcome.errors)
    elif outcome.status == services.CONFLICT:
        form.apply_errors(
            {
                None: [
                    {
                        "message": _(
                            "Another report for this locality and date is already stored. To change it, correct it."
                        )
                    }
                ]
            }
        )
        context["conflict"] = outcome
    else:
        form.apply_errors({None: [{"message": _submit_refusal(outcome)}]})
    return render(request, "reports/report_form.html", context, status=_form_status(outcome))


@login_not_required
@require_GET
@condition(etag_func=lambda request: offline.cache_version())
def report_service_worker(request):
    """The report form's service worker (reports.offline), at the form's own address so that its scope is the
    form. The same script for everyone (no user's data in it), so open without a session: a browser checking
    for a new version after the session ended gets it rather than a redirect to the login page. Never cached
    by the browser's HTTP cache (the browser asks each time it opens the form): its ETag is the version, so
    an unchanged worker costs a 304."""
    response = HttpResponse(offline.service_worker_script(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


def _submit_refusal(outcome):
    if outcome.status == services.LOCKED:
        return _("This day is past the lock window: ask the province to grant an exception first.")
    if outcome.status == services.APPROVED:
        return _("The province has approved this report; it can be corrected once the approval is withdrawn.")
    return _("You may not send or correct reports of this locality.")


def _form_status(outcome):
    return {
        services.INVALID: 400,
        services.CONFLICT: 409,
        services.LOCKED: 409,
        services.APPROVED: 409,
        services.FORBIDDEN: 403,
    }.get(outcome.status, 200)


@require_http_methods(["GET", "POST"])
def report_correct(request, locality, date):
    scope = _scope(request)
    day = _day_param(date, None)
    if day is None:
        raise Http404
    report = get_object_or_404(reports_visible(scope), locality=locality, date=day)
    if not services.may_submit(scope, province_id=report.province_id, commune_id=report.commune_id):
        raise PermissionDenied
    # The version the report was stored with (the one in force on its day).
    spec = formspec.spec_for_version(report.form_version_id)
    if request.method == "GET":
        row = {name: getattr(report, name) for name in services.CONTENT_FIELDS}
        initial = services.content_of({**row, "extra": report.extra, "form_version_id": report.form_version_id})
        form = DailyReportForm(initial=initial, fixed=True, spec=spec)
        return render(request, "reports/report_form.html", {"form": form, "report": report})
    form = DailyReportForm(request.POST, fixed=True, spec=spec)
    outcome = services.daily_report_correct(
        locality=locality, date=day, payload=form.payload(), reason=request.POST.get("reason"), user=request.user
    )
    if outcome.status == services.CORRECTED:
        messages.success(
            request,
            _("Report corrected (revision %(revision)s). New receipt: %(receipt)s.")
            % {"revision": outcome.revision, "receipt": outcome.receipt},
        )
        return redirect("reports:detail", locality, day.isoformat())
    if outcome.status == services.UNCHANGED:
        messages.info(request, _("Nothing changed: these are the stored figures."))
        return redirect("reports:detail", locality, day.isoformat())
    if outcome.status == services.INVALID:
        form.apply_errors(outcome.errors)
    else:
        form.apply_errors({None: [{"message": _submit_refusal(outcome)}]})
    return render(request, "reports/report_form.html", {"form": form, "report": report}, status=_form_status(outcome))


# --- upload -----------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def report_upload(request):
    scope = _scope(request)
    if not _may_submit_somewhere(scope):
        raise PermissionDenied
    if request.method == "GET":
        return render(request, "reports/upload.html", {"form": UploadForm()})
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "reports/upload.html", {"form": form}, status=400)
    try:
        rows = uploads.read_upload(form.cleaned_data["file"])
    except uploads.UploadError as exc:
        form.add_error("file", str(exc))
        return render(request, "reports/upload.html", {"form": form}, status=400)
    outcomes = services.daily_report_submit_batch(payloads=[p for _n, p in rows], user=request.user)
    results = [
        {"row": number, "outcome": outcome, "refusal": _submit_refusal(outcome)}
        for (number, _payload), outcome in zip(rows, outcomes, strict=True)
    ]
    summary = Counter(outcome.status for outcome in outcomes)
    return render(
        request,
        "reports/upload.html",
        {
            "form": UploadForm(),
            "results": results,
            "summary": [(s, summary.get(s, 0)) for s in services.SUBMIT_STATUSES],
        },
    )


@require_GET
def upload_template(request, fmt):
    if fmt not in ("csv", "xlsx"):
        raise Http404
    scope = _scope(request)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    example = {"locality": scope.locality_code() or "00004", "date": yesterday.isoformat()}
    example.update(dict.fromkeys(INTEGER_FIELDS, 0))
    example.update({"outage_systems": [], "difficulties": "", "proposals": "", "support_needed": False})
    if fmt == "csv":
        response = HttpResponse(uploads.template_csv(example), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            uploads.template_xlsx(example),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="daily-reports-template.{fmt}"'
    return response


# --- province officer: completeness, exceptions, keys -----------------------------------------------------


def _officer_province(request):
    """The province a province officer (or the admin, with ?province=) manages."""
    scope = _scope(request)
    if scope.role == Role.PROVINCE_OFFICER:
        return scope, scope.province_id
    if scope.is_admin:
        code = request.GET.get("province") or request.POST.get("province") or "01"
        return scope, get_object_or_404(Province, code=code).code
    raise PermissionDenied


@require_GET
def province_page(request):
    """Which of the province's communes reported for a date; grant exceptions; correct."""
    scope, province_id = _officer_province(request)
    today = timezone.localdate()
    day = _day_param(request.GET.get("date"), today - datetime.timedelta(days=1))
    rows = province_day_status(scope=scope, province_id=province_id, day=day)
    completeness = Completeness(
        expected=len(rows),
        received=sum(1 for row in rows if row["report"]),
        late=sum(1 for row in rows if row["report"] and row["report"].late),
    )
    return render(
        request,
        "reports/province.html",
        {
            "province": Province.objects.get(code=province_id),
            "day": day,
            "rows": rows,
            "counts": completeness.as_dict(),
            "locked": day < lock_date(today),
            "exception_form": LockExceptionForm(),
        },
    )


@require_POST
def grant_exception(request):
    province_id = _officer_province(request)[1]
    back = f"{reverse('reports:province')}?province={province_id}"
    form = LockExceptionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The exception could not be granted: the locality or date is missing."))
        return redirect(back)
    locality, day = form.cleaned_data["locality"], form.cleaned_data["date"]
    try:
        services.lock_exception_grant(
            locality=locality, date=day, reason=form.cleaned_data["reason"], user=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(locality)s may now send or correct its report of %(date)s.")
            % {"locality": locality, "date": day.isoformat()},
        )
    return redirect(f"{back}&date={day.isoformat()}")


def _key_context(scope, province_id):
    clients = ApiClient.objects.select_related("commune", "province", "created_by").order_by("-created_at")
    communes = Commune.objects.order_by("code")
    if not scope.is_admin:
        clients = clients.filter(commune__province_id=province_id)
        communes = communes.filter(province_id=province_id)
    else:
        communes = communes.filter(province_id=province_id)
    return clients, [(c.code, f"{c.code} · {c.name}") for c in communes]


@never_cache
@require_http_methods(["GET", "POST"])
def api_keys(request):
    """Keys of the province's communes: list, issue (the key is shown once, on this response only)."""
    scope, province_id = _officer_province(request)
    clients, communes = _key_context(scope, province_id)
    form = ApiKeyForm(request.POST or None, communes=communes)
    if request.method == "POST" and form.is_valid():
        try:
            client, key = services.api_client_issue(
                name=form.cleaned_data["name"], locality=form.cleaned_data["locality"], created_by=request.user
            )
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            response = render(request, "reports/key_issued.html", {"client": client, "key": key})
            response["Cache-Control"] = "no-store"
            return response
    # Reached after a POST only when it failed.
    return render(
        request, "reports/keys.html", {"clients": clients, "form": form}, status=400 if form.is_bound else 200
    )


@require_POST
def api_key_revoke(request, pk):
    scope, province_id = _officer_province(request)
    clients, _communes = _key_context(scope, province_id)
    client = get_object_or_404(clients, pk=pk)
    services.api_client_revoke(client=client, revoked_by=request.user)
    messages.success(request, _("Key %(prefix)s… revoked.") % {"prefix": client.key_prefix})
    return redirect("reports:keys")
