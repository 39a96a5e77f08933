"""Browser pages of the reporting regime (DESIGN.md §11): the quality queue (with its exports, the province's
follow-up flag and confirmation), the clerk's explanation on the report's page, and the province's approval
of a day. Views parse, call one service or selector, and render."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.dates import parse_date_or_none
from core.exports import Sheet, csv_response, xlsx_response
from localities.models import Province
from reports import approvals, formspec, quality
from reports.models import DailyReport, QualityWarning
from reports.regime_api import QualityWarningFilterSet
from tasks.models import Role
from tasks.scoping import scope_for_user

EXPORT_HEADER = [
    "locality",
    "province",
    "date",
    "indicator",
    "value",
    "expected_low",
    "expected_high",
    "median",
    "effect",
    "state",
    "explanation",
    "explained_at",
    "follow_up",
    "closed_by",
    "closed_at",
]


def _export_rows(warnings):
    for w in warnings.iterator(chunk_size=2000):
        yield [
            w.locality,
            w.province_id,
            w.date.isoformat(),
            w.indicator,
            w.value,
            round(w.expected_low, 2),
            round(w.expected_high, 2),
            round(w.median, 2),
            round(w.effect, 2),
            w.state,
            w.explanation,
            timezone.localtime(w.explained_at).isoformat() if w.explained_at else "",
            w.follow_up,
            w.closed_by.username if w.closed_by else "",
            timezone.localtime(w.closed_at).isoformat() if w.closed_at else "",
        ]


@require_GET
def quality_page(request):
    """The quality queue, scoped like the API (the same selector and FilterSet), biggest effect first; CSV and
    XLSX exports of the filtered list."""
    scope = scope_for_user(request.user)
    filterset = QualityWarningFilterSet(request.GET, queryset=quality.warnings_queue(scope=scope))
    warnings = filterset.qs if filterset.is_valid() else QualityWarning.objects.none()
    fmt = request.GET.get("format")
    if fmt == "csv":
        return csv_response("quality-warnings.csv", EXPORT_HEADER, _export_rows(warnings), streaming=True)
    if fmt == "xlsx":
        return xlsx_response(
            "quality-warnings.xlsx", [Sheet(str(_("Quality warnings")), EXPORT_HEADER, _export_rows(warnings))]
        )
    page = Paginator(warnings, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    labels = formspec.indicator_labels()
    for warning in page:
        warning.label = labels.get(warning.indicator, warning.indicator)
    return render(
        request,
        "reports/quality.html",
        {
            "filter": filterset,
            "page": page,
            "query": query.urlencode(),
            # The buttons; the service checks each warning's province again.
            "may_review": scope.is_admin or scope.is_province,
        },
    )


@require_POST
def quality_review(request, pk, action):
    """The province's follow-up flag and confirmation of one warning."""
    scope = scope_for_user(request.user)
    try:
        quality.warning_review(warning_id=pk, action=action, user=request.user, scope=scope)
    except quality.NotFound:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Saved."))
    back = request.POST.get("next") or ""
    return redirect(back if back.startswith("?") else reverse("reports:quality") + back)


@require_POST
def report_explain(request, locality, date):
    """The clerk's explanation of a warning, from the report's page."""
    scope = scope_for_user(request.user)
    try:
        quality.warning_explain(
            locality=locality,
            date=date,
            data={"indicator": request.POST.get("indicator", ""), "text": request.POST.get("text", "")},
            scope=scope,
            user=request.user,
        )
    except quality.NotFound:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Explanation recorded."))
    return redirect("reports:detail", locality, date)


def _approval_province(request):
    scope = scope_for_user(request.user)
    if scope.role == Role.PROVINCE_OFFICER:
        return scope, scope.province_id
    if scope.is_admin:
        code = request.GET.get("province") or request.POST.get("province") or "01"
        return scope, get_object_or_404(Province, code=code).code
    raise PermissionDenied


@require_GET
def approvals_page(request):
    """A province's day: each locality's report, its open warnings and its approval; approve one by one or
    all those without an open warning; withdraw with a reason."""
    scope, province_id = _approval_province(request)
    today = timezone.localdate()
    day = (parse_date_or_none(request.GET.get("date") or "") if request.GET.get("date") else None) or (
        today - datetime.timedelta(days=1)
    )
    rows = approvals.approval_day(scope=scope, province_id=province_id, day=day)
    return render(
        request,
        "reports/approvals.html",
        {
            "province": Province.objects.get(code=province_id),
            "day": day,
            "rows": rows,
            "received": sum(1 for r in rows if r["report"]),
            "approved": sum(1 for r in rows if r["approval"]),
            "ready": [r["code"] for r in rows if r["report"] and not r["approval"] and not r["open_warnings"]],
        },
    )


@require_POST
def approvals_submit(request):
    scope, province_id = _approval_province(request)
    day = request.POST.get("date", "")
    back = f"{reverse('reports:approvals')}?province={province_id}&date={day}"
    try:
        if request.POST.get("withdraw"):
            approvals.report_approval_withdraw(
                user=request.user,
                scope=scope,
                data={"date": day, "locality": request.POST["withdraw"], "reason": request.POST.get("reason", "")},
            )
            messages.success(request, _("Approval withdrawn."))
            return redirect(back)
        body = approvals.reports_approve(
            user=request.user, scope=scope, data={"date": day, "localities": request.POST.getlist("locality")}
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except approvals.NotApproved:
        messages.error(request, _("This report has no approval to withdraw."))
    except DailyReport.DoesNotExist:
        raise Http404 from None
    else:
        summary = body["summary"]
        messages.success(
            request,
            _("%(approved)s approved · %(warnings)s waiting for their warnings · %(missing)s not received")
            % {
                "approved": summary[approvals.APPROVED],
                "warnings": summary[approvals.OPEN_WARNINGS],
                "missing": summary[approvals.NOT_RECEIVED],
            },
        )
    return redirect(back)
