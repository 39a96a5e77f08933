"""The task workflow's events in the audit trail (core.trail): every status update of an assignment and every
catalogue import; and the records edited in the admin that django-auditlog keeps field by field."""

from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import trail
from tasks.models import (
    Agency,
    AssignmentStatus,
    CatalogueImport,
    LocalPlan,
    Membership,
    Phase,
    StatusUpdate,
    SubTask,
    SubTaskUpdate,
    Task,
    TaskGroup,
    Vendor,
    WorkingGroup,
)


def _status_label(value: str | None) -> str:
    try:
        return str(AssignmentStatus(value or "").label)
    except ValueError:
        return value or ""


def _describe_update(row: trail.Row) -> trail.Description:
    details = row.details
    changes = [
        {
            "field": _("status"),
            "old": _status_label(details.get("old_status")),
            "new": _status_label(details.get("new_status")),
        },
        {"field": _("progress (%)"), "old": str(details.get("old_progress")), "new": str(details.get("new_progress"))},
    ]
    summary = "; ".join(f"{c['field']}: {c['old']} → {c['new']}" for c in changes)
    if details.get("on_behalf"):
        summary += " " + _("(on the commune's behalf)")
    return trail.Description(
        object_type="assignment",
        label=" ".join(part for part in (row.label, details.get("unit") or "") if part),
        summary=summary,
        note=details.get("note") or "",
        url=trail.link("tasks:assignment", row.object_id),
        changes=changes,
    )


def _describe_import(row: trail.Row) -> trail.Description:
    return trail.Description(
        object_type="catalogue_import",
        summary=_("%(created)s created, %(updated)s updated, %(unchanged)s unchanged") % row.details,
    )


def _describe_subtask_update(row: trail.Row) -> trail.Description:
    described = _describe_update(row)
    return trail.Description(
        object_type="subtask",
        label=" ".join(part for part in (row.label, row.details.get("unit") or "") if part),
        summary=described.summary,
        note=described.note,
        url=trail.link("tasks:subtask", row.object_id),
        changes=described.changes,
    )


def _describe_plan(row: trail.Row) -> trail.Description:
    return trail.Description(
        object_type="local_plan",
        summary=_("local plan recorded: %(title)s") % {"title": row.details.get("title") or ""},
        url=trail.link("tasks:plan", row.object_id),
    )


ASSIGNMENT_UPDATE = trail.Kind("assignment_update", gettext_lazy("assignment update"), _describe_update)
CATALOGUE_IMPORT = trail.Kind("catalogue_import", gettext_lazy("catalogue import"), _describe_import)
SUBTASK_UPDATE = trail.Kind("subtask_update", gettext_lazy("sub-task update"), _describe_subtask_update)
PLAN_RECORDED = trail.Kind("local_plan", gettext_lazy("local plan recorded"), _describe_plan)


def register() -> None:
    """Called by the tasks app's ready()."""
    trail.register(
        trail.TrailSource(
            kinds=(ASSIGNMENT_UPDATE,),
            queryset=StatusUpdate.objects.all(),
            time="created_at",
            actors=("actor__username",),
            codes=(
                "assignment__task__code",
                "assignment__commune__code",
                "assignment__province__code",
                "assignment__agency__code",
            ),
            columns=trail.columns(
                at="created_at",
                kind=ASSIGNMENT_UPDATE,
                user="actor__username",
                object_id="assignment_id",
                object_code="assignment__task__code",
                object_label=Coalesce("assignment__commune_id", "assignment__province_id", "assignment__agency__code"),
                data=trail.data(
                    old_status="old_status",
                    new_status="new_status",
                    old_progress="old_progress",
                    new_progress="new_progress",
                    on_behalf="on_behalf",
                    note="note",
                    unit=Coalesce(
                        "assignment__commune__name", "assignment__province__name", "assignment__agency__name_vi"
                    ),
                ),
            ),
        ),
        trail.TrailSource(
            kinds=(SUBTASK_UPDATE,),
            queryset=SubTaskUpdate.objects.all(),
            time="created_at",
            actors=("actor__username",),
            codes=("subtask__parent__task__code", "subtask__commune__code", "subtask__plan__province__code"),
            words=("subtask__title", "subtask__department"),
            columns=trail.columns(
                at="created_at",
                kind=SUBTASK_UPDATE,
                user="actor__username",
                object_id="subtask_id",
                object_code="subtask__parent__task__code",
                object_label=Coalesce("subtask__commune_id", "subtask__department"),
                data=trail.data(
                    old_status="old_status",
                    new_status="new_status",
                    old_progress="old_progress",
                    new_progress="new_progress",
                    on_behalf="on_behalf",
                    note="note",
                    unit=Coalesce("subtask__commune__name", "subtask__department"),
                ),
            ),
        ),
        trail.TrailSource(
            kinds=(PLAN_RECORDED,),
            queryset=LocalPlan.objects.all(),
            time="created_at",
            actors=("created_by__username",),
            codes=("number", "province__code", "agency__code"),
            words=("title",),
            columns=trail.columns(
                at="created_at",
                kind=PLAN_RECORDED,
                user="created_by__username",
                object_id="pk",
                object_code="number",
                object_label=Coalesce("province_id", "agency__code"),
                data=trail.data(title="title"),
            ),
        ),
        trail.TrailSource(
            kinds=(CATALOGUE_IMPORT,),
            queryset=CatalogueImport.objects.all(),
            time="imported_at",
            actors=("imported_by",),
            words=("filename",),
            columns=trail.columns(
                at="imported_at",
                kind=CATALOGUE_IMPORT,
                user="imported_by",
                object_id="pk",
                object_code="filename",
                data=trail.data(created="created", updated="updated", unchanged="unchanged", checksum="checksum"),
            ),
        ),
    )
    trail.keep_changes(
        # Roles and units: changed in the admin, the model keeps no actor of its own.
        trail.KeptModel(Membership, exclude=("created_at",)),
        trail.KeptModel(Agency),
        trail.KeptModel(Phase),
        trail.KeptModel(TaskGroup),
        # The steering committee's working groups and the vendors that may block work (DESIGN.md §13).
        trail.KeptModel(WorkingGroup, m2m=frozenset({"task_groups"})),
        trail.KeptModel(Vendor),
        trail.KeptModel(Task, exclude=("created_at", "updated_at"), m2m=frozenset({"coordinating_agencies"})),
        # A plan's record and its sub-tasks' definitions (owner, deadline, weight) as edited on their pages; the
        # sub-tasks' state is the workflow's (its history rows above), not kept twice.
        trail.KeptModel(LocalPlan, exclude=("created_at",), created_by_own_event=True),
        trail.KeptModel(
            SubTask,
            exclude=(
                "status",
                "progress",
                "completed_on",
                "blocked_by",
                "blocked_by_province",
                "blocked_by_vendor",
                "blocked_by_system",
                "blocked_reason",
                "version",
                "updated_at",
                "updated_by",
            ),
        ),
    )
