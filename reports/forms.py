"""Browser forms. They render and carry errors; the rules are reports.validation's (same codes and messages
as the API), reached through the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from reports.figures import FIGURE_MAX, INTEGER_FIGURES, OUTAGE_SYSTEMS, TEXT_FIELDS
from reports.validation import payload_from_text


class _AnyChoices(forms.MultipleChoiceField):
    """Checkboxes whose values are judged by the report validator, not by Django's choice check."""

    def validate(self, value):
        pass


class DailyReportForm(forms.Form):
    """One day's report. `localities` is a list of (code, label) the user may send for, or None for a free
    code field (the national admin); `fixed` hides locality and date (a correction)."""

    def __init__(self, *args, localities=None, fixed=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed = fixed
        if not fixed:
            if localities is None:
                self.fields["locality"] = forms.CharField(label=_("locality code"), required=False)
            else:
                self.fields["locality"] = forms.CharField(
                    label=_("locality"), required=False, widget=forms.Select(choices=localities)
                )
            self.fields["date"] = forms.CharField(
                label=_("date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
            )
        for name, label in INTEGER_FIGURES:
            limit = FIGURE_MAX[name]
            self.fields[name] = forms.CharField(
                label=label,
                required=False,
                widget=forms.NumberInput(attrs={"min": 0, "max": limit, "step": 1, "inputmode": "numeric"}),
            )
        self.fields["outage_systems"] = _AnyChoices(
            label=_("systems down"), required=False, choices=OUTAGE_SYSTEMS, widget=forms.CheckboxSelectMultiple
        )
        self.fields["difficulties"] = forms.CharField(
            label=_("difficulties"), required=False, widget=forms.Textarea(attrs={"rows": 3})
        )
        self.fields["proposals"] = forms.CharField(
            label=_("proposals"), required=False, widget=forms.Textarea(attrs={"rows": 3})
        )
        self.fields["support_needed"] = forms.BooleanField(label=_("support needed"), required=False)
        if fixed:
            self.fields["reason"] = forms.CharField(
                label=_("reason for the correction"), required=False, widget=forms.Textarea(attrs={"rows": 2})
            )

    def figure_fields(self):
        return [self[name] for name, _label in INTEGER_FIGURES]

    def payload(self):
        """The submitted cells as a report payload (text converted as the upload does)."""
        names = [name for name, _label in INTEGER_FIGURES] + TEXT_FIELDS + ["support_needed"]
        if not self.fixed:
            names += ["locality", "date"]
        cells = {name: self.data.get(name) for name in names}
        cells["outage_systems"] = self.data.getlist("outage_systems")
        return payload_from_text(cells)

    def apply_errors(self, errors):
        """Show the validator's {field: [{code, message}]} next to the fields."""
        self.is_valid()
        for name, items in errors.items():
            for item in items:
                self.add_error(name if name in self.fields else None, item["message"])


class UploadForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"))


class LockExceptionForm(forms.Form):
    locality = forms.CharField(widget=forms.HiddenInput)
    date = forms.DateField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("reason"), required=False, max_length=2000)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("name of the system or clerk"), max_length=200)
    locality = forms.CharField(label=_("commune"), widget=forms.Select)

    def __init__(self, *args, communes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["locality"].widget.choices = list(communes)
