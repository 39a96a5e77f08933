"""One FilterSet for the incident list, shared by the API, the HTML list and its exports."""

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.filters import COMMUNE_CODE, YesNoFilter
from localities.models import Province
from support.models import Incident, IncidentCategory, Severity, State, breached_q


class BreachedFilter(YesNoFilter):
    def filter(self, qs, value):
        if value in ("", None):
            return qs
        condition = breached_q(timezone.now())
        return qs.filter(condition) if value == "true" else qs.exclude(condition)


class IncidentFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=State.choices, label=_("state"))
    severity = django_filters.ChoiceFilter(choices=Severity.choices, label=_("severity"))
    category = django_filters.ModelChoiceFilter(queryset=IncidentCategory.objects.all(), label=_("category"))
    province = django_filters.ModelChoiceFilter(queryset=Province.objects.all(), label=_("province"))
    # A code, not a list of the 3,321 communes in every page's form.
    commune = django_filters.CharFilter(field_name="commune_id", validators=[COMMUNE_CODE], label=_("commune"))
    breached = BreachedFilter(label=_("past its time"))

    class Meta:
        model = Incident
        fields = ["state", "severity", "category", "province", "commune", "breached"]
