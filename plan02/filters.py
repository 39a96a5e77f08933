"""What every list's filter form shares (django-filter): a yes/no choice whose empty choice reads "All",
not Django's "Unknown". A foundation module: it imports no app."""

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import BooleanWidget


class AllYesNoWidget(BooleanWidget):
    """`true` / `false` in the query string (as the API documents), offered as All / Yes / No."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = (("", _("All")), ("true", _("Yes")), ("false", _("No")))


class YesNoFilter(django_filters.BooleanFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", AllYesNoWidget)
        super().__init__(*args, **kwargs)
