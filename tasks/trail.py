"""The task workflow's events in the audit trail (core.trail): every status update of an assignment and every
catalogue import; and the records edited in the admin that django-auditlog keeps field by field."""

from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import trail
from tasks.models import Agency, AssignmentStatus, CatalogueImport, Membership, Phase, StatusUpdate, Task, TaskGroup


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


ASSIGNMENT_UPDATE = trail.Kind("assignment_update", gettext_lazy("assignment update"), _describe_update)
CATALOGUE_IMPORT = trail.Kind("catalogue_import", gettext_lazy("catalogue import"), _describe_import)


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
        trail.KeptModel(Task, exclude=("created_at", "updated_at"), m2m=frozenset({"coordinating_agencies"})),
    )
