import django_filters
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.filters import SearchFilter, YesNoFilter
from localities.models import Province
from tasks.models import (
    Agency,
    Assignment,
    AssignmentStatus,
    DisplayStatus,
    Level,
    Phase,
    SubTask,
    Task,
    TaskGroup,
    TaskLevel,
    WorkingGroup,
)
from tasks.scoping import NO_SCOPE, scope_for_request


def working_group_filter(field: str) -> django_filters.ModelChoiceFilter:
    """`?working_group=N`: the tasks of the task groups a working group follows (tasks.working_groups)."""

    def follow(queryset, name, value: WorkingGroup):
        return queryset.filter(**{field: value})

    return django_filters.ModelChoiceFilter(
        queryset=WorkingGroup.objects.all(), to_field_name="number", method=follow, label=_("working group")
    )


class TaskGroupFilterSet(django_filters.FilterSet):
    class Meta:
        model = TaskGroup
        fields = ["is_pillar"]


class PhaseFilterSet(django_filters.FilterSet):
    class Meta:
        model = Phase
        fields = ["code"]


class AgencyFilterSet(django_filters.FilterSet):
    q = SearchFilter(exact=["code__iexact"], contains=["name_vi", "name_en"], label=_("name or code contains"))

    class Meta:
        model = Agency
        fields = ["q", "kind", "source"]


class TaskFilterSet(django_filters.FilterSet):
    q = SearchFilter(exact=["code__iexact"], contains=["title_vi", "title_en"], label=_("code or title contains"))
    group = django_filters.ModelChoiceFilter(queryset=TaskGroup.objects.all(), to_field_name="number", label=_("group"))
    phase = django_filters.ModelChoiceFilter(queryset=Phase.objects.all(), to_field_name="code", label=_("phase"))
    level = django_filters.ChoiceFilter(choices=TaskLevel.choices, label=_("carried out by"))
    lead_agency = django_filters.ModelChoiceFilter(
        queryset=Agency.objects.all(), to_field_name="code", label=_("lead agency")
    )
    agency = django_filters.ModelChoiceFilter(
        queryset=Agency.objects.all(),
        to_field_name="code",
        method="filter_agency",
        label=_("agency (lead or coordinating)"),
    )
    is_official = YesNoFilter(label=_("official"))
    working_group = working_group_filter("group__working_groups")

    class Meta:
        model = Task
        fields = ["q", "group", "phase", "level", "lead_agency", "agency", "is_official", "working_group"]

    def filter_agency(self, queryset, name, value: str):
        return queryset.filter(Q(lead_agency=value) | Q(coordinating_agencies=value)).distinct()


class AssignmentOrderingFilter(django_filters.OrderingFilter):
    """Sorting of assignment lists; ties are broken by task code and unit so pages are stable."""

    TIEBREAK = ["task__code", "agency__code", "province_id", "commune_id", "pk"]

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value:
            qs = qs.order_by(*qs.query.order_by, *self.TIEBREAK)
        return qs


class AssignmentFilterSet(django_filters.FilterSet):
    """One FilterSet for the assignment API, the HTML lists ("My tasks", a task's assignments) and exports.

    The queryset must come from tasks.selectors.assignment_list() (it carries the `display_status`
    annotation); `mine` needs the request, to know who is asking."""

    group = django_filters.ModelChoiceFilter(
        field_name="task__group", queryset=TaskGroup.objects.all(), to_field_name="number", label=_("group")
    )
    phase = django_filters.ModelChoiceFilter(
        field_name="task__phase", queryset=Phase.objects.all(), to_field_name="code", label=_("phase")
    )
    working_group = working_group_filter("task__group__working_groups")
    level = django_filters.ChoiceFilter(choices=Level.choices, label=_("carried out by"))
    status = django_filters.ChoiceFilter(choices=AssignmentStatus.choices, label=_("status"))
    display_status = django_filters.ChoiceFilter(
        choices=DisplayStatus.choices, method="filter_display_status", label=_("display status")
    )
    overdue = YesNoFilter(method="filter_overdue", label=_("overdue"))
    task = django_filters.ModelChoiceFilter(queryset=Task.objects.all(), to_field_name="code", label=_("task"))
    agency = django_filters.ModelChoiceFilter(queryset=Agency.objects.all(), to_field_name="code", label=_("agency"))
    province = django_filters.ModelChoiceFilter(queryset=Province.objects.all(), label=_("province"))
    # A text code, not a choice: a select of 3,321 communes would be unusable and cost a query per render.
    commune = django_filters.CharFilter(
        field_name="commune_id",
        label=_("commune code"),
        validators=[RegexValidator(r"^\d{5}$", _("A commune code has 5 digits, e.g. 00004."))],
    )
    mine = YesNoFilter(method="filter_mine", label=_("only the ones I may update"))
    ordering = AssignmentOrderingFilter(
        fields=(
            ("task__deadline", "deadline"),
            ("task__code", "task"),
            ("progress", "progress"),
            ("updated_at", "updated_at"),
            ("status", "status"),
            ("display_status", "display_status"),
        ),
        field_labels={
            "task__deadline": _("deadline"),
            "task__code": _("task"),
            "progress": _("progress"),
            "updated_at": _("last update"),
            "status": _("status"),
            "display_status": _("display status"),
        },
        label=_("sort by"),
    )

    class Meta:
        model = Assignment
        fields = [
            "group",
            "phase",
            "level",
            "status",
            "display_status",
            "overdue",
            "task",
            "agency",
            "province",
            "commune",
            "mine",
        ]

    def filter_display_status(self, queryset, name, value):
        return queryset.filter(display_status=value)

    def filter_overdue(self, queryset, name, value):
        if value:
            return queryset.filter(display_status=DisplayStatus.OVERDUE)
        return queryset.exclude(display_status=DisplayStatus.OVERDUE)

    def filter_mine(self, queryset, name, value):
        scope = scope_for_request(self.request) if self.request is not None else NO_SCOPE
        condition = Assignment.objects.updatable_q(scope)
        if condition is None:
            return queryset.none() if value else queryset
        return queryset.filter(condition) if value else queryset.exclude(condition)


class SubTaskFilterSet(django_filters.FilterSet):
    """Filters of the sub-task API and lists: like the assignments' (group, phase, status, display status,
    overdue, task, agency, province, commune, mine) plus the plan and the parent assignment. The queryset
    must come from tasks.selectors.subtask_list()."""

    plan = django_filters.NumberFilter(field_name="plan_id", label=_("plan"))
    parent = django_filters.NumberFilter(field_name="parent_id", label=_("parent assignment"))
    group = django_filters.ModelChoiceFilter(
        field_name="parent__task__group", queryset=TaskGroup.objects.all(), to_field_name="number", label=_("group")
    )
    phase = django_filters.ModelChoiceFilter(
        field_name="parent__task__phase", queryset=Phase.objects.all(), to_field_name="code", label=_("phase")
    )
    status = django_filters.ChoiceFilter(choices=AssignmentStatus.choices, label=_("status"))
    display_status = django_filters.ChoiceFilter(
        choices=DisplayStatus.choices, method="filter_display_status", label=_("display status")
    )
    overdue = YesNoFilter(method="filter_overdue", label=_("overdue"))
    task = django_filters.ModelChoiceFilter(
        field_name="parent__task", queryset=Task.objects.all(), to_field_name="code", label=_("task")
    )
    agency = django_filters.ModelChoiceFilter(
        field_name="plan__agency", queryset=Agency.objects.all(), to_field_name="code", label=_("agency")
    )
    province = django_filters.ModelChoiceFilter(
        field_name="plan__province", queryset=Province.objects.all(), label=_("province")
    )
    commune = django_filters.CharFilter(
        field_name="commune_id",
        label=_("commune code"),
        validators=[RegexValidator(r"^\d{5}$", _("A commune code has 5 digits, e.g. 00004."))],
    )
    mine = YesNoFilter(method="filter_mine", label=_("only the ones I may update"))
    ordering = django_filters.OrderingFilter(
        fields=(("deadline", "deadline"), ("progress", "progress"), ("updated_at", "updated_at"), ("pk", "id")),
        label=_("sort by"),
    )

    class Meta:
        model = SubTask
        fields = ["plan", "parent", "group", "phase", "status", "display_status", "overdue", "task", "agency"]

    def filter_display_status(self, queryset, name, value):
        return queryset.filter(display_status=value)

    def filter_overdue(self, queryset, name, value):
        if value:
            return queryset.filter(display_status=DisplayStatus.OVERDUE)
        return queryset.exclude(display_status=DisplayStatus.OVERDUE)

    def filter_mine(self, queryset, name, value):
        scope = scope_for_request(self.request) if self.request is not None else NO_SCOPE
        condition = SubTask.objects.updatable_q(scope)
        if condition is None:
            return queryset.none() if value else queryset
        return queryset.filter(condition) if value else queryset.exclude(condition)
