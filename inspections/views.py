"""Inspection pages: the list (with the caller's follow-up items), an inspection with its findings, the forms
of inspectors, the report (XLSX, PDF) and a follow-up item with its update form (the assignments' form and
service). 404 for what one may not see, 403 for what one may not do."""

from pathlib import Path

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.exports import xlsx_response
from core.pdf import pdf_response
from inspections.exports import report_sheets
from inspections.forms import FindingForm, InspectionForm
from inspections.models import may_inspect
from inspections.selectors import (
    finding_list,
    followup_history,
    followup_list,
    inspection_list,
    visible_followup_update,
)
from inspections.services import finding_create, followup_update, inspection_create
from tasks.forms import AssignmentUpdateForm, submit_update_form
from tasks.scoping import scope_for_user

PAGE_SIZE = 50
FORBIDDEN = _("Only inspectors record inspections and findings.")


def inspections(request):
    scope, today = scope_for_user(request.user), timezone.localdate()
    page = Paginator(inspection_list(scope=scope), PAGE_SIZE).get_page(request.GET.get("page"))
    followups = followup_list(scope=scope, today=today).filter(may_update=True)[:PAGE_SIZE] if scope.has_unit else []
    return render(
        request,
        "inspections/list.html",
        {"page": page, "may_inspect": may_inspect(scope), "followups": followups, "today": today},
    )


def _inspection(request, pk):
    return get_object_or_404(inspection_list(scope=scope_for_user(request.user)), pk=pk)


def inspection_detail(request, pk):
    inspection = _inspection(request, pk)
    scope = scope_for_user(request.user)
    findings = finding_list(scope=scope, inspection=inspection)
    return render(
        request,
        "inspections/detail.html",
        {"inspection": inspection, "findings": findings, "may_inspect": may_inspect(scope)},
    )


@require_http_methods(["GET", "POST"])
def inspection_create_view(request):
    scope = scope_for_user(request.user)
    if not may_inspect(scope):
        raise PermissionDenied(FORBIDDEN)
    form = InspectionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                inspection = inspection_create(scope=scope, actor=request.user, **form.service_kwargs())
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Inspection recorded."))
                return redirect("inspections:detail", inspection.pk)
        status = 400
    return render(request, "inspections/form.html", {"form": form, "title": _("Record an inspection")}, status=status)


def _units(inspection):
    units = [(p.code, p.name) for p in inspection.provinces.all()]
    units += [(a.code, a.name) for a in inspection.agencies.all()]
    units += [(c.code, c.name) for c in inspection.communes.all()]
    return units


@require_http_methods(["GET", "POST"])
def finding_create_view(request, pk):
    inspection = _inspection(request, pk)
    scope = scope_for_user(request.user)
    if not may_inspect(scope):
        raise PermissionDenied(FORBIDDEN)
    form = FindingForm(request.POST or None, units=_units(inspection))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                finding_create(scope=scope, actor=request.user, inspection=inspection, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Finding recorded; its recommendation is now the unit's follow-up item."))
                return redirect("inspections:detail", inspection.pk)
        status = 400
    context = {"form": form, "title": _("Record a finding"), "inspection": inspection}
    return render(request, "inspections/form.html", context, status=status)


def inspection_report(request, pk, fmt):
    inspection = _inspection(request, pk)
    findings = list(finding_list(scope=scope_for_user(request.user), inspection=inspection))
    name = f"plan02-inspection-{inspection.pk}"
    if fmt == "xlsx":
        return xlsx_response(f"{name}.xlsx", report_sheets(inspection, findings))
    context = {"inspection": inspection, "findings": findings}
    return pdf_response(f"{name}.pdf", "inspections/pdf/report.html", context, request=request)


def _followup(request, pk):
    scope = scope_for_user(request.user)
    return get_object_or_404(followup_list(scope=scope, today=timezone.localdate()), pk=pk)


@require_http_methods(["GET", "POST"])
def followup_detail(request, pk):
    """A follow-up item, its history and (for its unit) the update form: the assignments' form and service."""
    followup = _followup(request, pk)
    here = reverse("inspections:followup", args=[followup.pk])
    context = {"followup": followup, "stale": None, "today": timezone.localdate(), "next": here}
    status = 200
    form = AssignmentUpdateForm(assignment=followup) if followup.may_update else None
    if request.method == "POST":
        if not followup.may_update:
            raise PermissionDenied(_("You may not update this assignment."))
        submitted = submit_update_form(
            request,
            followup,
            update=lambda **values: followup_update(followup=followup, actor=request.user, **values),
            reload=lambda: _followup(request, pk),
        )
        form, status = submitted.form, submitted.status
        context |= {"followup": submitted.item, "stale": submitted.stale}
        if status == 200:
            messages.success(request, _("Follow-up item updated."))
            return redirect(here)
    history = Paginator(followup_history(followup=followup), PAGE_SIZE).get_page(request.GET.get("hpage"))
    context |= {"form": form, "history": history}
    return render(request, "inspections/followup.html", context, status=status)


def followup_evidence(request, pk):
    update = visible_followup_update(scope=scope_for_user(request.user), pk=pk)
    if update is None or not update.evidence_file:
        raise Http404(_("No such evidence file."))
    response = FileResponse(
        update.evidence_file.open("rb"), as_attachment=True, filename=Path(update.evidence_file.name).name
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
