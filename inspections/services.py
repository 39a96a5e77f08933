"""Writes of inspections (DESIGN.md §13). Inspectors record inspections and findings (may_inspect); each
finding's recommendation becomes a follow-up item of the inspected unit, changed only through the tasks app's
workflow service (tasks.services.workflow_update with FOLLOWUPS): the rules, history and 409 on a stale
version of an assignment.

Refused with a 400 naming the field: an unknown province, agency, commune or task; an inspection with no
unit; dates in the wrong order; a finding for a unit outside the inspection's units (`unit`,
`outside_scope`), a visit outside the inspection's dates, an unknown severity, an empty finding or
recommendation."""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from inspections.models import Finding, FollowUp, FollowUpUpdate, Inspection, Severity, UnitKind, may_inspect
from localities.models import Commune, Province
from tasks.models import Agency, Task
from tasks.roles import Scope
from tasks.services import Workflow, workflow_update
from tasks.signals import work_items_changed_after_commit

TEXT_MAX = 4000


class InspectionNotAllowed(Exception):
    """Only inspectors record inspections and findings (403)."""


class FollowUpWorkflow(Workflow):
    model = FollowUp
    history_model = FollowUpUpdate
    lock_joins = ("agency",)

    def acts_on_behalf(self, scope: Scope, item: Any) -> bool:
        return scope.is_province and item.commune_id is not None

    def own_agency_id(self, item: Any) -> int | None:
        return item.agency_id

    def own_province_id(self, item: Any) -> str | None:
        return item.province_id if item.commune_id is None else None

    def after_commit(self, ids: list[int]) -> None:
        work_items_changed_after_commit("followup", ids)


FOLLOWUPS = FollowUpWorkflow()


def followup_update(*, followup: FollowUp, **kwargs: Any) -> FollowUpUpdate:
    """Change a follow-up item's status and progress: the assignments' service, rules and history."""
    return workflow_update(FOLLOWUPS, item=followup, **kwargs)


def _adder(errors: dict) -> Any:
    def add(field: str, message: str, code: str, **params: Any) -> None:
        errors.setdefault(field, []).append(ValidationError(message, code=code, params=params or None))

    return add


def _lookup(model: Any, field: str, codes: Any, key: str, add: Any) -> list[Any]:
    codes = [str(c) for c in (codes or [])]
    found = {str(getattr(o, key)): o for o in model.objects.filter(**{f"{key}__in": codes})}
    unknown = [c for c in codes if c not in found]
    if unknown:
        add(field, _("Unknown: %(codes)s."), "unknown", codes=", ".join(c[:20] for c in unknown[:10]))
    return list(found.values())


@transaction.atomic
def inspection_create(
    *,
    scope: Scope,
    actor: Any,
    title: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    provinces: list[str] = (),  # type: ignore[assignment]
    agencies: list[str] = (),  # type: ignore[assignment]
    communes: list[str] = (),  # type: ignore[assignment]
    tasks: list[str] = (),  # type: ignore[assignment]
) -> Inspection:
    if not may_inspect(scope):
        raise InspectionNotAllowed()
    errors: dict = {}
    add = _adder(errors)
    if not (title or "").strip():
        add("title", _("This field is required."), "required")
    if isinstance(starts_on, datetime.date) and isinstance(ends_on, datetime.date) and starts_on > ends_on:
        add("ends_on", _("The inspection cannot end before it starts."), "before_start")
    found_provinces = _lookup(Province, "provinces", provinces, "code", add)
    found_agencies = _lookup(Agency, "agencies", agencies, "code", add)
    found_communes = _lookup(Commune, "communes", communes, "code", add)
    found_tasks = _lookup(Task, "tasks", tasks, "code", add)
    if not (provinces or agencies or communes):
        add("provinces", _("Name at least one unit inspected: a province, an agency or a commune."), "units_required")
    if errors:
        raise ValidationError(errors)
    inspection = Inspection.objects.create(title=title.strip(), starts_on=starts_on, ends_on=ends_on, inspector=actor)
    inspection.provinces.set(found_provinces)
    inspection.agencies.set(found_agencies)
    inspection.communes.set(found_communes)
    inspection.tasks.set(found_tasks)
    return inspection


def unit_of(code: str) -> tuple[str, Any] | None:
    """A unit by its code: 2 digits a province, 5 digits a commune, else an agency's code."""
    code = str(code or "").strip()
    if code.isdigit() and len(code) == 2:
        found = Province.objects.filter(code=code).first()
        return (UnitKind.PROVINCE, found) if found else None
    if code.isdigit() and len(code) == 5:
        found = Commune.objects.filter(code=code).first()
        return (UnitKind.COMMUNE, found) if found else None
    found = Agency.objects.filter(code=code).first()
    return (UnitKind.AGENCY, found) if found else None


def _unit_fields(kind: str, unit: Any) -> dict:
    if kind == UnitKind.AGENCY:
        return {"unit_kind": kind, "agency": unit}
    if kind == UnitKind.PROVINCE:
        return {"unit_kind": kind, "province": unit}
    return {"unit_kind": kind, "commune": unit, "province_id": unit.province_id}


def in_scope(inspection: Inspection, kind: str, unit: Any) -> bool:
    """Is the unit one of the inspection's units? (Exactly those: a province's communes are named one by one.)"""
    related: Any = inspection.communes
    if kind == UnitKind.AGENCY:
        related = inspection.agencies
    elif kind == UnitKind.PROVINCE:
        related = inspection.provinces
    return related.filter(pk=unit.pk).exists()


@transaction.atomic
def finding_create(
    *,
    scope: Scope,
    actor: Any,
    inspection: Inspection,
    unit: str,
    visited_on: datetime.date,
    text: str,
    severity: str,
    recommendation: str,
    deadline: datetime.date,
) -> Finding:
    """Record a visit's finding and its recommendation's follow-up item (for the inspected unit)."""
    if not may_inspect(scope):
        raise InspectionNotAllowed()
    errors: dict = {}
    add = _adder(errors)
    found = unit_of(unit)
    if found is None:
        add(
            "unit",
            _("Unknown unit “%(unit)s”: a province (2 digits), a commune (5 digits) or an agency's code."),
            "unknown",
            unit=str(unit)[:20],
        )
    elif not in_scope(inspection, *found):
        add("unit", _("%(unit)s is not one of this inspection's units."), "outside_scope", unit=found[1].name)
    if isinstance(visited_on, datetime.date) and not inspection.starts_on <= visited_on <= inspection.ends_on:
        add("visited_on", _("The visit must fall within the inspection's dates."), "outside_dates")
    if severity not in Severity.values:
        add("severity", _("Unknown severity “%(value)s”."), "invalid_choice", value=str(severity)[:20])
    for field, value in (("text", text), ("recommendation", recommendation)):
        if not (value or "").strip():
            add(field, _("This field is required."), "required")
        elif len(value) > TEXT_MAX:
            add(field, _("At most %(max)s characters."), "max_length", max=TEXT_MAX)
    if errors:
        raise ValidationError(errors)
    assert found is not None
    unit_fields = _unit_fields(*found)
    finding = Finding.objects.create(
        inspection=inspection,
        visited_on=visited_on,
        text=text.strip(),
        severity=severity,
        recommendation=recommendation.strip(),
        deadline=deadline,
        created_by=actor,
        **unit_fields,
    )
    FollowUp.objects.create(finding=finding, deadline=deadline, **unit_fields)
    return finding
