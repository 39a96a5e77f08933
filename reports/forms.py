"""Browser forms. They render and carry errors; the rules are reports.validation's (same codes and messages
as the API), reached through the services."""

from django import forms
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from core.dates import parse_date_or_none
from reports import formspec
from reports.validation import first_date, payload_from_text


class _AnyChoices(forms.MultipleChoiceField):
    """Checkboxes whose values are judged by the report validator, not by Django's choice check."""

    def validate(self, value):
        pass


def spec_for_text(day: str | None) -> formspec.FormSpec:
    """The form version of a day written as text (a form's or a link's date), or the one in force today."""
    parsed = parse_date_or_none(day, bounded=False) if isinstance(day, str) and day else None
    if parsed is None or parsed < first_date() or parsed > timezone.localdate():
        parsed = timezone.localdate()
    return formspec.spec_for_day(parsed)


class DailyReportForm(forms.Form):
    """One day's report, in the indicators of the form version `spec` (default: the one in force today): labels,
    help, bounds and sections come from the version. `localities` is a list of (code, label) the user may send
    for, or None for a free code field (the national admin); `fixed` hides locality and date (a correction)."""

    def __init__(self, *args, localities=None, fixed=False, spec=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed = fixed
        self.spec = spec or formspec.spec_for_day(timezone.localdate())
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
        for indicator in self.spec.indicators:
            self.fields[indicator.code] = _field_for(indicator)
        if fixed:
            self.fields["reason"] = forms.CharField(
                label=_("reason for the correction"), required=False, widget=forms.Textarea(attrs={"rows": 2})
            )

    def figure_fields(self):
        return [self[i.code] for i in self.spec.integers]

    def other_fields(self):
        """The indicators that are not whole numbers, in the form's order, with their type."""
        return [(i.type, i.section, self[i.code]) for i in self.spec.indicators if i.type != formspec.INTEGER]

    def payload(self):
        """The submitted cells as a report payload (text converted as the upload does)."""
        names = [i.code for i in self.spec.indicators if i.type != formspec.CHOICES]
        if not self.fixed:
            names += ["locality", "date"]
        cells = {name: self.data.get(name) for name in names}
        for indicator in self.spec.indicators:
            if indicator.type == formspec.CHOICES:
                cells[indicator.code] = self.data.getlist(indicator.code)
        return payload_from_text(cells, spec=self.spec)

    def apply_errors(self, errors):
        """Show the validator's {field: [{code, message}]} next to the fields."""
        self.is_valid()
        for name, items in errors.items():
            for item in items:
                self.add_error(name if name in self.fields else None, item["message"])


def _field_for(indicator: formspec.Indicator) -> forms.Field:
    label = _lazy_label(indicator)
    if indicator.type == formspec.INTEGER:
        return forms.CharField(
            label=label,
            help_text=indicator.help,
            required=False,
            widget=forms.NumberInput(
                attrs={
                    "min": indicator.minimum or 0,
                    "max": indicator.maximum,
                    "step": 1,
                    "inputmode": "numeric",
                    "data-section": indicator.section,
                }
            ),
        )
    if indicator.type == formspec.CHOICES:
        return _AnyChoices(
            label=label,
            required=False,
            choices=[(c.code, c.label) for c in indicator.choices],
            widget=forms.CheckboxSelectMultiple,
        )
    if indicator.type == formspec.CHOICE:
        return forms.CharField(
            label=label,
            required=False,
            widget=forms.Select(choices=[("", "—"), *((c.code, c.label) for c in indicator.choices)]),
        )
    if indicator.type == formspec.YES_NO:
        return forms.BooleanField(label=label, help_text=indicator.help, required=False)
    return forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": 3}))


def _lazy_label(indicator: formspec.Indicator):
    return lazy(lambda: indicator.label, str)()


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
