"""Forms of the inspection pages; the rules live in inspections.services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from inspections.models import Severity


def _codes(value: str) -> list[str]:
    return [c for c in (value or "").replace(",", " ").split() if c]


class InspectionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    starts_on = forms.DateField(label=_("Starts on"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Ends on"), widget=forms.DateInput(attrs={"type": "date"}))
    provinces = forms.CharField(label=_("Provinces (codes)"), required=False, help_text=_("e.g. 01 79"))
    agencies = forms.CharField(label=_("Agencies (codes)"), required=False, help_text=_("e.g. BCA BTTTT"))
    communes = forms.CharField(label=_("Communes (codes)"), required=False, help_text=_("e.g. 00004 00008"))
    tasks = forms.CharField(label=_("Tasks in scope (codes)"), required=False, help_text=_("e.g. T18 T30"))

    def service_kwargs(self):
        data = self.cleaned_data
        return {
            "title": data["title"],
            "starts_on": data["starts_on"],
            "ends_on": data["ends_on"],
            **{name: _codes(data[name]) for name in ("provinces", "agencies", "communes", "tasks")},
        }


class FindingForm(forms.Form):
    unit = forms.ChoiceField(label=_("Unit visited"))
    visited_on = forms.DateField(label=_("Visited on"), widget=forms.DateInput(attrs={"type": "date"}))
    text = forms.CharField(label=_("Finding"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    recommendation = forms.CharField(
        label=_("Recommendation"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    deadline = forms.DateField(label=_("Deadline"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        # Any code is accepted here, so that the service, not the widget, says a unit is outside the scope.
        self.fields["unit"] = forms.CharField(label=_("Unit visited (code)"), max_length=20)
        self.fields["unit"].help_text = ", ".join(f"{code} {name}" for code, name in units)
