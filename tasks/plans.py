"""Local plans and their sub-tasks (DESIGN.md §13): recording a plan, breaking an assignment into sub-tasks,
and the weighted roll-up of sub-tasks into their parent assignment's progress.

The rules a plan and a sub-task are checked against (each refusal a ValidationError naming the field):
- a plan belongs to the caller's own unit: a province officer's province or an agency officer's agency;
- a sub-task's parent is an assignment of the plan's unit (the province's own province-level assignments,
  or the agency's central ones). Sub-tasks are one level deep: a parent is always an assignment, never a
  sub-task, so no cycle can be formed;
- its owner is either one of the unit's departments (free text) or one of the province's communes, never
  both; a commune outside the plan's province, or any commune for an agency's plan, is refused;
- its weight is a number greater than 0 (at most 99,999.99). Weights are relative: the roll-up divides
  by their sum, so 1, 1, 2 and 25, 25, 50 give the same result.

Roll-up: parent progress = Σ(weight × progress) ÷ Σ weight over the parent's sub-tasks, rounded to a whole
percent; shown with its terms on the assignment's page and in the plan's API detail. It is shown beside
the assignment's own reported progress, which only the assignment's workflow changes.
"""

import dataclasses
import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from localities.models import Commune
from tasks.models import Assignment, Level, LocalPlan, SubTask
from tasks.roles import Scope

WEIGHT_MAX = Decimal("99999.99")
TITLE_MAX = 500
DEPARTMENT_MAX = 200


class PlanNotAllowed(Exception):
    """The scope may not record or change this plan (403)."""


def _errors() -> tuple[dict[str, list[ValidationError]], Any]:
    errors: dict[str, list[ValidationError]] = {}

    def add(field: str, message: str, code: str, **params: Any) -> None:
        errors.setdefault(field, []).append(ValidationError(message, code=code, params=params or None))

    return errors, add


def plan_unit(scope: Scope) -> dict[str, Any]:
    """The unit a scope records plans for: {"province_id": …} or {"agency_id": …}; PlanNotAllowed otherwise."""
    if scope.is_api_client:
        raise PlanNotAllowed()
    if scope.is_province:
        return {"province_id": scope.province_id}
    if scope.is_agency:
        return {"agency_id": scope.agency_id}
    raise PlanNotAllowed()


def _check_plan(
    *, unit: dict, number: str, issued_on: Any, title: str, instance: LocalPlan | None = None
) -> dict[str, list]:
    errors, add = _errors()
    if not (number or "").strip():
        add("number", _("This field is required."), "required")
    elif len(number) > 50:
        add("number", _("At most %(max)s characters."), "max_length", max=50)
    elif LocalPlan.objects.filter(**unit, number=number.strip()).exclude(pk=getattr(instance, "pk", None)).exists():
        add("number", _("Your unit already has a plan with this number."), "unique")
    if not (title or "").strip():
        add("title", _("This field is required."), "required")
    elif len(title) > TITLE_MAX:
        add("title", _("At most %(max)s characters."), "max_length", max=TITLE_MAX)
    if not isinstance(issued_on, datetime.date):
        add("date", _("Give the date the plan was issued."), "required")
    return errors


@transaction.atomic
def plan_save(
    *,
    scope: Scope,
    actor: Any,
    number: str,
    issued_on: datetime.date,
    title: str,
    document_url: str = "",
    document: Any = None,
    instance: LocalPlan | None = None,
) -> LocalPlan:
    """Record a plan for the scope's own unit, or change one of its plans. PlanNotAllowed (403) for any other
    scope; ValidationError by field."""
    unit = plan_unit(scope)
    if instance is not None and not LocalPlan.objects.editable_by(scope).filter(pk=instance.pk).exists():
        raise PlanNotAllowed()
    errors = _check_plan(unit=unit, number=number, issued_on=issued_on, title=title, instance=instance)
    if errors:
        raise ValidationError(errors)
    plan = instance or LocalPlan(**unit, created_by=actor)
    plan.number, plan.issued_on, plan.title = number.strip(), issued_on, title.strip()
    plan.document_url = (document_url or "").strip()
    if document is not None:
        plan.document = document
    plan.save()
    return plan


def parse_weight(raw: Any) -> Decimal | None:
    """A weight as a Decimal, or None when it is not a number (booleans and non-finite values included)."""
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def check_subtask(
    *,
    plan: LocalPlan,
    parent: Assignment | None,
    title: str,
    department: str,
    commune_code: str | None,
    deadline: Any,
    weight: Any,
) -> tuple[dict[str, list], Commune | None, Decimal | None]:
    """The rules of the module's docstring for one sub-task: (errors by field, the commune, the weight)."""
    errors, add = _errors()
    if parent is None:
        add("parent", _("Choose the assignment this sub-task is part of."), "required")
    elif (plan.province_id and (parent.level != Level.PROVINCE or parent.province_id != plan.province_id)) or (
        plan.agency_id and (parent.level != Level.CENTRAL or parent.agency_id != plan.agency_id)
    ):
        add("parent", _("The parent must be an assignment of the plan's own unit."), "not_the_plans_unit")
    if not (title or "").strip():
        add("title", _("This field is required."), "required")
    elif len(title) > TITLE_MAX:
        add("title", _("At most %(max)s characters."), "max_length", max=TITLE_MAX)
    department = (department or "").strip()
    commune = None
    if len(department) > DEPARTMENT_MAX:
        add("department", _("At most %(max)s characters."), "max_length", max=DEPARTMENT_MAX)
    if department and commune_code:
        add("commune", _("A sub-task has one owner: a department or a commune, not both."), "one_owner")
    elif not department and not commune_code:
        add("department", _("Name the owner: one of your departments, or a commune."), "owner_required")
    elif commune_code:
        commune = Commune.objects.filter(code=str(commune_code)).first()
        if plan.agency_id:
            add("commune", _("An agency's sub-tasks are owned by its departments, not by communes."), "agency_plan")
        elif commune is None or commune.province_id != plan.province_id:
            add(
                "commune",
                _("Commune “%(commune)s” is not one of the plan's province's communes."),
                "outside_province",
                commune=str(commune_code)[:20],
            )
    if not isinstance(deadline, datetime.date):
        add("deadline", _("Give the sub-task's deadline."), "required")
    value = parse_weight(weight)
    if value is None:
        add("weight", _("The weight must be a number greater than 0."), "invalid")
    elif value <= 0:
        add("weight", _("The weight must be greater than 0: weights are divided by their sum."), "not_positive")
    elif value > WEIGHT_MAX or value.as_tuple().exponent < -2:  # type: ignore[operator]
        add("weight", _("At most %(max)s, with at most two decimals."), "out_of_range", max=WEIGHT_MAX)
    return errors, commune, value


@transaction.atomic
def subtask_save(
    *,
    scope: Scope,
    plan: LocalPlan,
    parent: Assignment | None,
    title: str,
    deadline: Any,
    weight: Any,
    department: str = "",
    commune: str | None = None,
    instance: SubTask | None = None,
) -> SubTask:
    """Add a sub-task to a plan, or change one's definition (its title, owner, deadline, weight; its status
    and progress change only through the workflow service). PlanNotAllowed (403) unless the scope edits the
    plan; ValidationError by field."""
    if not LocalPlan.objects.editable_by(scope).filter(pk=plan.pk).exists():
        raise PlanNotAllowed()
    errors, owner_commune, value = check_subtask(
        plan=plan,
        parent=parent,
        title=title,
        department=department,
        commune_code=commune,
        deadline=deadline,
        weight=weight,
    )
    if errors:
        raise ValidationError(errors)
    subtask = instance or SubTask(plan=plan)
    subtask.parent = parent  # type: ignore[assignment]
    subtask.title, subtask.deadline, subtask.weight = title.strip(), deadline, value  # type: ignore[assignment]
    subtask.department = "" if owner_commune else (department or "").strip()
    subtask.commune = owner_commune
    subtask.save()
    return subtask


# --- the roll-up ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class RollupTerm:
    subtask: SubTask
    weight: Decimal
    progress: int


@dataclasses.dataclass
class WeightedRollup:
    """A parent assignment's progress from its sub-tasks: Σ(weight × progress) ÷ Σ weight."""

    terms: list[RollupTerm]

    @property
    def total_weight(self) -> Decimal:
        return sum((t.weight for t in self.terms), Decimal(0))

    @property
    def exact(self) -> Decimal | None:
        if not self.terms:
            return None
        return sum((t.weight * t.progress for t in self.terms), Decimal(0)) / self.total_weight

    @property
    def progress(self) -> int | None:
        exact = self.exact
        return None if exact is None else int(exact.quantize(Decimal(1), rounding="ROUND_HALF_UP"))

    @property
    def formula(self) -> str:
        """The computation with its terms, e.g. "(2 × 100 + 1 × 50) ÷ 3 = 83%"."""
        if not self.terms:
            return ""
        products = " + ".join(f"{_number(t.weight)} × {t.progress}" for t in self.terms)
        return f"({products}) ÷ {_number(self.total_weight)} = {self.progress}%"


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def weighted_rollup(subtasks: list[SubTask]) -> WeightedRollup:
    return WeightedRollup([RollupTerm(s, s.weight, s.progress) for s in subtasks])


def weighted_rollups(parent_ids: list[int]) -> dict[int, WeightedRollup]:
    """{assignment id: WeightedRollup} of all the sub-tasks of these assignments (one query). Every sub-task
    counts, whoever reads: the parent's progress is the same for everyone who may see the parent."""
    found: dict[int, list[SubTask]] = {}
    for subtask in SubTask.objects.filter(parent_id__in=parent_ids).select_related("commune").order_by("pk"):
        found.setdefault(subtask.parent_id, []).append(subtask)
    return {pk: weighted_rollup(rows) for pk, rows in found.items()}
