import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from core.filters import YesNoFilter
from localities.models import Province
from reports.models import DailyReport


class DailyReportFilterSet(django_filters.FilterSet):
    """The filters of DESIGN.md §5, shared by the API list, the HTML lists and their CSV export."""

    province = django_filters.ModelChoiceFilter(queryset=Province.objects.all(), label=_("province"))
    commune = django_filters.CharFilter(field_name="commune_id", label=_("commune code"))
    date = django_filters.DateFilter(label=_("date"), widget=forms.DateInput(attrs={"type": "date"}))
    date_after = django_filters.DateFilter(
        field_name="date", lookup_expr="gte", label=_("from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_before = django_filters.DateFilter(
        field_name="date", lookup_expr="lte", label=_("until"), widget=forms.DateInput(attrs={"type": "date"})
    )
    late = YesNoFilter(label=_("late"))

    class Meta:
        model = DailyReport
        fields = ["province", "commune", "date", "date_after", "date_before", "late"]
