"""Reads of inspections for pages, exports and the API, each through the querysets' scoping."""

import datetime

from django.db.models import BooleanField, Case, Count, QuerySet, Value, When

from inspections.models import Finding, FollowUp, FollowUpUpdate, Inspection
from tasks.roles import Scope
from tasks.status import display_status_sql

FINDING_JOINS = ["agency", "province", "commune", "created_by", "followup"]


def inspection_list(*, scope: Scope) -> QuerySet:
    return (
        Inspection.objects.visible_to(scope)
        .select_related("inspector")
        .prefetch_related("provinces", "agencies", "communes", "tasks")
        .annotate(finding_count=Count("findings"))
        .order_by("-starts_on", "-pk")
    )


def finding_list(*, scope: Scope, inspection: Inspection) -> QuerySet:
    """The inspection's findings the scope sees: all for read-all roles, its own unit's for an inspected unit."""
    return (
        Finding.objects.filter(inspection=inspection)
        .visible_to(scope)
        .select_related(*FINDING_JOINS)
        .order_by("visited_on", "pk")
    )


def followup_list(*, scope: Scope, today: datetime.date, queryset: QuerySet | None = None) -> QuerySet:
    qs = (FollowUp.objects.all() if queryset is None else queryset).visible_to(scope)  # type: ignore[attr-defined]
    condition = FollowUp.objects.updatable_q(scope)
    return (
        qs.select_related(
            "finding__inspection",
            "agency",
            "province",
            "commune",
            "updated_by",
            "blocked_by",
            "blocked_by_province",
            "blocked_by_vendor",
        )
        .annotate(
            display_status=display_status_sql(today, deadline="deadline"),
            may_update=Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())
            if condition is not None
            else Value(False, output_field=BooleanField()),
        )
        .order_by("deadline", "pk")
    )


def followup_history(*, followup: FollowUp) -> QuerySet:
    return (
        FollowUpUpdate.objects.filter(followup=followup)
        .select_related("actor", "blocked_by", "blocked_by_province", "blocked_by_vendor")
        .order_by("-version")
    )


def visible_followup_update(*, scope: Scope, pk: int) -> FollowUpUpdate | None:
    visible = FollowUp.objects.visible_to(scope).values("pk")
    return FollowUpUpdate.objects.filter(pk=pk, followup__in=visible).first()
