"""What every list's filter form shares (django-filter): a yes/no choice whose empty choice reads "All",
not Django's "Unknown", and the `q` search box. A foundation module: it imports no app."""

from collections.abc import Sequence

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import BooleanWidget


class AllYesNoWidget(BooleanWidget):
    """`true` / `false` in the query string (as the API documents), offered as All / Yes / No."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = (("", _("All")), ("true", _("Yes")), ("false", _("No")))

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        raw = data.get(name)
        # Another spelling (`?overdue=maybe`) goes to the field, which refuses it, instead of reading as "All".
        return raw if value is None and raw not in (None, "") else value


class YesNoField(forms.NullBooleanField):
    """True, False or None (empty: no filter); anything else is refused: in the API a 400 naming the
    parameter, as for every other bad filter value (Django's NullBooleanField would read it as empty)."""

    default_error_messages = {"invalid": _("Must be true or false.")}

    def to_python(self, value):
        if value in (None, "") or isinstance(value, bool):
            return value if isinstance(value, bool) else None
        raise ValidationError(self.error_messages["invalid"], code="invalid")


class YesNoFilter(django_filters.BooleanFilter):
    field_class = YesNoField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", AllYesNoWidget)
        super().__init__(*args, **kwargs)


class SearchFilter(django_filters.CharFilter):
    """`?q=`: the rows whose code is the text (`exact`: lookups given whole, e.g. `code` or `code__iexact`) or
    whose names contain it (`contains`: fields, compared ignoring case)."""

    def __init__(self, *, exact: Sequence[str], contains: Sequence[str], **kwargs):
        self.exact = tuple(exact)
        self.contains = tuple(contains)
        super().__init__(**kwargs)

    def filter(self, qs, value):
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        found = Q()
        for lookup in self.exact:
            found |= Q(**{lookup: value})
        for name in self.contains:
            found |= Q(**{f"{name}__icontains": value})
        return qs.filter(found)
