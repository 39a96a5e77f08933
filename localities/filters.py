import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from localities.models import Commune, DivisionType, Province


class ProvinceFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("name or code contains"))

    class Meta:
        model = Province
        fields = ["q", "division_type"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(codename__icontains=value) | Q(code=value))


class CommuneFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("name or code contains"))
    province = django_filters.ModelChoiceFilter(queryset=Province.objects.all(), label=_("province"))
    division_type = django_filters.ChoiceFilter(choices=DivisionType.choices, label=_("division type"))

    class Meta:
        model = Commune
        fields = ["q", "province", "division_type"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(codename__icontains=value) | Q(code=value))
