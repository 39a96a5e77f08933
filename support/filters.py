"""One FilterSet for the incident list, shared by the API, the HTML list and its exports."""

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.filters import YesNoFilter
from localities.models import Commune, Province
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
    commune = django_filters.ModelChoiceFilter(queryset=Commune.objects.all(), label=_("commune"))
    breached = BreachedFilter(label=_("past its time"))

    class Meta:
        model = Incident
        fields = ["state", "severity", "category", "province", "commune", "breached"]
