import django_filters
from django.utils.translation import gettext_lazy as _

from core.filters import SearchFilter
from localities.models import Commune, DivisionType, Province


class ProvinceFilterSet(django_filters.FilterSet):
    q = SearchFilter(exact=["code"], contains=["name", "codename"], label=_("name or code contains"))

    class Meta:
        model = Province
        fields = ["q", "division_type"]


class CommuneFilterSet(django_filters.FilterSet):
    q = SearchFilter(exact=["code"], contains=["name", "codename"], label=_("name or code contains"))
    province = django_filters.ModelChoiceFilter(queryset=Province.objects.all(), label=_("province"))
    division_type = django_filters.ChoiceFilter(choices=DivisionType.choices, label=_("division type"))

    class Meta:
        model = Commune
        fields = ["q", "province", "division_type"]
