"""One FilterSet per list, shared by the API and the HTML pages (and their exports), so the two never drift.
Querysets come from alerts.selectors, already scoped."""

import django_filters
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from alerts import specs
from alerts.models import Alert, Notification
from localities.models import Province
from reports.models import DailyReport
from tasks.models import Agency, Assignment, Task

COMMUNE_CODE = RegexValidator(r"^\d{5}$", _("A commune code has 5 digits, e.g. 00004."))
YES_NO = [("true", _("yes")), ("false", _("no"))]


class YesNoFilter(django_filters.ChoiceFilter):
    """`true` or `false` (empty: no filter); anything else is a 400 naming the parameter, where django-filter's
    BooleanFilter would silently ignore `?open=maybe`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, choices=YES_NO, **kwargs)

    def filter(self, qs, value):
        if value in ("", None):
            return qs
        return qs.filter(**{f"{self.field_name}__{self.lookup_expr}": value == "true"})


class AlertFilterSet(django_filters.FilterSet):
    rule = django_filters.ChoiceFilter(choices=specs.RULE_CHOICES, label=_("rule"))
    open = YesNoFilter(field_name="closed_at", lookup_expr="isnull", label=_("open"))
    kind = django_filters.ChoiceFilter(field_name="subject_kind", choices=specs.SUBJECT_CHOICES, label=_("subject"))
    province = django_filters.ModelChoiceFilter(queryset=Province.objects.all(), label=_("province"))
    agency = django_filters.ModelChoiceFilter(queryset=Agency.objects.all(), to_field_name="code", label=_("agency"))

    class Meta:
        model = Alert
        fields = ["rule", "open", "kind", "province", "agency"]


class NotificationFilterSet(django_filters.FilterSet):
    unread = YesNoFilter(field_name="read_at", lookup_expr="isnull", label=_("unread only"))
    rule = django_filters.ChoiceFilter(field_name="alert__rule", choices=specs.RULE_CHOICES, label=_("rule"))

    class Meta:
        model = Notification
        fields = ["unread", "rule"]


class BlockerFilterSet(django_filters.FilterSet):
    agency = django_filters.ModelChoiceFilter(
        field_name="blocked_by", queryset=Agency.objects.all(), to_field_name="code", label=_("blocking agency")
    )
    province = django_filters.ModelChoiceFilter(queryset=Province.objects.all(), label=_("province"))
    task = django_filters.ModelChoiceFilter(queryset=Task.objects.all(), to_field_name="code", label=_("task"))

    class Meta:
        model = Assignment
        fields = ["agency", "province", "task"]


class SupportRequestFilterSet(django_filters.FilterSet):
    open = YesNoFilter(field_name="support_resolution", lookup_expr="isnull", label=_("open"))
    province = django_filters.ModelChoiceFilter(queryset=Province.objects.all(), label=_("province"))
    commune = django_filters.CharFilter(field_name="commune_id", label=_("commune code"), validators=[COMMUNE_CODE])

    class Meta:
        model = DailyReport
        fields = ["open", "province", "commune"]
