"""The trail's filters, one form for the page, its export and the API (which answers 400 naming the field)."""

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from audit.trail import TrailFilter
from core import trail
from core.dates import DateError, parse_date


class IsoDateField(forms.DateField):
    """YYYY-MM-DD only, as everywhere in the portal (core.dates), whatever the language of the page."""

    widget = forms.DateInput(attrs={"type": "date"})

    def to_python(self, value: Any) -> datetime.date | None:
        if value in self.empty_values:
            return None
        try:
            return parse_date(value)
        except DateError as exc:  # not a date, or 0001-01-01 / 9999-12-31 (no day before or after them)
            raise ValidationError(str(exc), code=exc.code) from None


def _kinds() -> list[tuple[str, Any]]:
    """Every kind the apps declared (core.trail), read when the form is made."""
    return [("", _("All")), *trail.kind_choices()]


class TrailFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=_kinds, required=False)
    actor = forms.CharField(label=_("who (username or key prefix)"), max_length=150, required=False)
    date_after = IsoDateField(label=_("from"), required=False)
    date_before = IsoDateField(label=_("until"), required=False)
    q = forms.CharField(label=_("object (code or name)"), max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        after, before = data.get("date_after"), data.get("date_before")
        if after and before and after > before:
            self.add_error("date_before", ValidationError(_("Must not be before the start date."), code="before_start"))
        return data

    def trail_filter(self) -> TrailFilter:
        data = self.cleaned_data
        return TrailFilter(
            kind=data.get("kind") or "",
            actor=(data.get("actor") or "").strip(),
            date_after=data.get("date_after"),
            date_before=data.get("date_before"),
            q=(data.get("q") or "").strip(),
        )
