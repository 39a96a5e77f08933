"""Forms of the task pages. They parse input; the rules live in tasks.services."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.systems import SYSTEMS
from localities.models import Province
from tasks.models import Agency, AssignmentStatus, Vendor
from tasks.services import ALLOWED_TRANSITIONS, TEXT_MAX, StaleVersion, UpdateNotAllowed


class AssignmentUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=AssignmentStatus.choices)
    progress = forms.IntegerField(
        label=_("Progress (%)"), min_value=0, max_value=100, widget=forms.NumberInput(attrs={"step": 5})
    )
    completed_on = forms.DateField(
        label=_("Completed on"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    blocked_by = forms.ModelChoiceField(
        label=_("Blocked by (agency)"), queryset=Agency.objects.all(), to_field_name="code", required=False
    )
    # Or one of these instead (tasks.services names the one blocker).
    blocked_by_province = forms.ModelChoiceField(
        label=_("Blocked by (province)"), queryset=Province.objects.all(), required=False
    )
    blocked_by_vendor = forms.ModelChoiceField(
        label=_("Blocked by (vendor)"), queryset=Vendor.objects.all(), to_field_name="code", required=False
    )
    blocked_by_system = forms.ChoiceField(
        label=_("Blocked by (system)"), choices=[("", "---------"), *SYSTEMS], required=False
    )
    blocked_reason = forms.CharField(
        label=_("Why is it blocked?"), required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )
    evidence_url = forms.URLField(label=_("Evidence link"), required=False, max_length=500, assume_scheme="https")
    evidence_file = forms.FileField(label=_("Evidence file"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, assignment, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "status": assignment.status,
                "progress": assignment.progress,
                # A completion date is only kept for "completed"; today is a convenient default when picking it.
                "completed_on": assignment.completed_on or timezone.localdate(),
                "blocked_by": assignment.blocked_by.code if assignment.blocked_by_id else None,
                "blocked_by_province": assignment.blocked_by_province_id,
                "blocked_by_vendor": assignment.blocked_by_vendor.code if assignment.blocked_by_vendor_id else None,
                "blocked_by_system": assignment.blocked_by_system,
                "blocked_reason": assignment.blocked_reason,
                "version": assignment.version,
            },
        )
        super().__init__(*args, **kwargs)
        self.assignment = assignment
        allowed = ALLOWED_TRANSITIONS[assignment.status]
        # Offer only the allowed next statuses; any status is still accepted here so that the service, not the
        # widget, explains a refused transition.
        self.fields["status"].widget.choices = [(v, label) for v, label in AssignmentStatus.choices if v in allowed]
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("data-field", name)
        self.fields["completed_on"].help_text = _("when completed; not in the future")
        for name in ("blocked_by", "blocked_by_province", "blocked_by_vendor", "blocked_by_system", "blocked_reason"):
            self.fields[name].help_text = _("when blocked")
        self.fields["evidence_file"].help_text = _("%(types)s; at most %(max)s MB") % {
            "types": ", ".join(settings.EVIDENCE_EXTENSIONS),
            "max": f"{settings.EVIDENCE_MAX_BYTES / 1048576:g}",
        }
        self.fields["evidence_file"].widget.attrs["accept"] = ",".join(f".{e}" for e in settings.EVIDENCE_EXTENSIONS)
        if assignment.status == AssignmentStatus.COMPLETED:
            self.fields["note"].help_text = _("required to reopen or correct a completed assignment")

    def clean(self):
        data = super().clean()
        # The form always shows the date and the blocking fields; they only mean something with their status.
        if data.get("status") != AssignmentStatus.COMPLETED:
            data["completed_on"] = None
        if data.get("status") != AssignmentStatus.BLOCKED:
            data["blocked_by"] = data["blocked_by_province"] = data["blocked_by_vendor"] = None
            data["blocked_by_system"] = ""
            data["blocked_reason"] = ""
        return data

    def service_kwargs(self):
        data = self.cleaned_data
        return {
            "version": data["version"],
            "status": data["status"],
            "progress": data["progress"],
            "completed_on": data["completed_on"],
            "blocked_by": data["blocked_by"],
            "blocked_by_province": data["blocked_by_province"],
            "blocked_by_vendor": data["blocked_by_vendor"],
            "blocked_by_system": data["blocked_by_system"],
            "blocked_reason": data["blocked_reason"],
            "note": data["note"],
            "evidence_url": data["evidence_url"],
            "evidence_file": data.get("evidence_file"),
        }


class BulkUploadForm(forms.Form):
    file = forms.FileField(label=_("Edited XLSX export"), widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}))


class LocalPlanForm(forms.Form):
    """A local plan's record; tasks.plans checks the rules and names the refused field."""

    number = forms.CharField(label=_("Number"), max_length=50)
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    title = forms.CharField(label=_("Title"), max_length=500)
    document_url = forms.URLField(label=_("Document link"), required=False, max_length=500, assume_scheme="https")
    document = forms.FileField(label=_("Document file"), required=False)

    def clean_document(self):
        from tasks.services import validate_evidence_file

        document = self.cleaned_data.get("document")
        if document and (errors := validate_evidence_file(document)):
            raise forms.ValidationError(errors)
        return document


class SubTaskForm(forms.Form):
    """A sub-task's definition (its status and progress change through the update form)."""

    parent = forms.ChoiceField(label=_("Assignment it is part of"))
    title = forms.CharField(label=_("Title"), max_length=500)
    department = forms.CharField(label=_("Owner: department"), required=False, max_length=200)
    commune = forms.CharField(label=_("Owner: commune code"), required=False, max_length=5)
    deadline = forms.DateField(label=_("Deadline"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    weight = forms.CharField(label=_("Weight"), max_length=20, initial="1")

    def __init__(self, *args, parents, **kwargs):
        super().__init__(*args, **kwargs)
        self.parents = {str(a.pk): a for a in parents}
        self.fields["parent"].choices = [(str(a.pk), f"{a.task.code} · {a.task.title}") for a in parents]
        self.fields["department"].help_text = _("one of your departments, or leave empty and give a commune")
        self.fields["weight"].help_text = _("a number greater than 0; the roll-up divides by the sum of weights")

    def service_kwargs(self):
        data = self.cleaned_data
        return {
            "parent": self.parents.get(data["parent"]),
            "title": data["title"],
            "department": data["department"],
            "commune": data["commune"] or None,
            "deadline": data["deadline"],
            "weight": data["weight"],
        }


@dataclass
class Submitted:
    """What became of a posted update form: `status` 200 (saved), 400 (refused by the form or the service, the
    errors on `form`) or 409 (`stale`: `form` is on the current version of `item`)."""

    form: AssignmentUpdateForm
    item: Any
    status: int
    stale: StaleVersion | None = None


def submit_update_form(request: Any, item: Any, *, update: Callable[..., Any], reload: Callable[[], Any]) -> Submitted:
    """The update form of an assignment, a sub-task or a follow-up item, posted: `update(**values)` is the item's
    workflow service. On a stale version the form comes back on the current version (`reload()`) with what the
    user typed: saving again is a deliberate choice made with the other person's changes in view, never a silent
    overwrite. A change the user may not make is a 403."""
    form = AssignmentUpdateForm(request.POST, request.FILES, assignment=item)
    if not form.is_valid():
        return Submitted(form, item, 400)
    try:
        update(**form.service_kwargs())
    except StaleVersion as exc:
        current = reload()
        data = request.POST.copy()
        data["version"] = str(current.version)
        return Submitted(AssignmentUpdateForm(data, assignment=current), current, 409, exc)
    except UpdateNotAllowed:
        raise PermissionDenied(_("You may not update this assignment.")) from None
    except ValidationError as exc:
        form.add_error(None, exc)
        return Submitted(form, item, 400)
    return Submitted(form, item, 200)
