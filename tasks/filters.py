import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tasks.models import Agency, Level, Phase, Task, TaskGroup


class TaskGroupFilterSet(django_filters.FilterSet):
    class Meta:
        model = TaskGroup
        fields = ["is_pillar"]


class PhaseFilterSet(django_filters.FilterSet):
    class Meta:
        model = Phase
        fields = ["code"]


class AgencyFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("name or code contains"))

    class Meta:
        model = Agency
        fields = ["q", "kind"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(code__iexact=value) | Q(name_vi__icontains=value) | Q(name_en__icontains=value))


class TaskFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("code or title contains"))
    group = django_filters.ModelChoiceFilter(queryset=TaskGroup.objects.all(), to_field_name="number", label=_("group"))
    phase = django_filters.ModelChoiceFilter(queryset=Phase.objects.all(), to_field_name="code", label=_("phase"))
    level = django_filters.ChoiceFilter(choices=Level.choices, label=_("carried out by"))
    lead_agency = django_filters.ModelChoiceFilter(
        queryset=Agency.objects.all(), to_field_name="code", label=_("lead agency")
    )
    agency = django_filters.ModelChoiceFilter(
        queryset=Agency.objects.all(),
        to_field_name="code",
        method="filter_agency",
        label=_("agency (lead or coordinating)"),
    )
    is_official = django_filters.BooleanFilter(label=_("official"))

    class Meta:
        model = Task
        fields = ["q", "group", "phase", "level", "lead_agency", "agency", "is_official"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(code__iexact=value) | Q(title_vi__icontains=value) | Q(title_en__icontains=value))

    def filter_agency(self, queryset, name, value: str):
        return queryset.filter(Q(lead_agency=value) | Q(coordinating_agencies=value)).distinct()
