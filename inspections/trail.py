"""The inspections' events in the audit trail (core.trail): an inspection recorded, a finding recorded (with
its follow-up item), and every change of a follow-up item (the same history as an assignment's)."""

from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import trail
from inspections.models import Finding, FollowUpUpdate, Inspection
from tasks.models import AssignmentStatus


def _status(value):
    try:
        return str(AssignmentStatus(value or "").label)
    except ValueError:
        return value or ""


def _describe_inspection(row: trail.Row) -> trail.Description:
    return trail.Description(
        object_type="inspection",
        summary=_("inspection recorded: %(from)s – %(to)s")
        % {"from": row.details.get("starts_on"), "to": row.details.get("ends_on")},
        url=trail.link("inspections:detail", row.object_id),
    )


def _describe_finding(row: trail.Row) -> trail.Description:
    return trail.Description(
        object_type="finding",
        summary=_("finding (%(severity)s) for %(unit)s; recommendation due %(deadline)s") % row.details,
        note=row.details.get("recommendation") or "",
        url=trail.link("inspections:detail", row.details.get("inspection")),
    )


def _describe_followup(row: trail.Row) -> trail.Description:
    details = row.details
    changes = [
        {"field": _("status"), "old": _status(details.get("old_status")), "new": _status(details.get("new_status"))},
        {"field": _("progress (%)"), "old": str(details.get("old_progress")), "new": str(details.get("new_progress"))},
    ]
    return trail.Description(
        object_type="followup",
        summary="; ".join(f"{c['field']}: {c['old']} → {c['new']}" for c in changes),
        note=details.get("note") or "",
        url=trail.link("inspections:followup", row.object_id),
        changes=changes,
    )


INSPECTION_RECORDED = trail.Kind("inspection", gettext_lazy("inspection recorded"), _describe_inspection)
FINDING_RECORDED = trail.Kind("finding", gettext_lazy("inspection finding"), _describe_finding)
FOLLOWUP_UPDATE = trail.Kind("followup_update", gettext_lazy("follow-up item update"), _describe_followup)

UNIT_CODE = Coalesce("commune_id", "province_id", "agency__code")


def register() -> None:
    """Called by the inspections app's ready()."""
    trail.register(
        trail.TrailSource(
            kinds=(INSPECTION_RECORDED,),
            queryset=Inspection.objects.all(),
            time="created_at",
            actors=("inspector__username",),
            words=("title",),
            columns=trail.columns(
                at="created_at",
                kind=INSPECTION_RECORDED,
                user="inspector__username",
                object_id="pk",
                object_code="title",
                data=trail.data(starts_on="starts_on", ends_on="ends_on"),
            ),
        ),
        trail.TrailSource(
            kinds=(FINDING_RECORDED,),
            queryset=Finding.objects.all(),
            time="created_at",
            actors=("created_by__username",),
            codes=("commune__code", "province__code", "agency__code"),
            words=("text",),
            columns=trail.columns(
                at="created_at",
                kind=FINDING_RECORDED,
                user="created_by__username",
                object_id="pk",
                object_code=UNIT_CODE,
                data=trail.data(
                    inspection="inspection_id",
                    severity="severity",
                    unit=UNIT_CODE,
                    deadline="deadline",
                    recommendation="recommendation",
                ),
            ),
        ),
        trail.TrailSource(
            kinds=(FOLLOWUP_UPDATE,),
            queryset=FollowUpUpdate.objects.all(),
            time="created_at",
            actors=("actor__username",),
            codes=("followup__commune__code", "followup__province__code", "followup__agency__code"),
            columns=trail.columns(
                at="created_at",
                kind=FOLLOWUP_UPDATE,
                user="actor__username",
                object_id="followup_id",
                object_code=Coalesce("followup__commune_id", "followup__province_id", "followup__agency__code"),
                data=trail.data(
                    old_status="old_status",
                    new_status="new_status",
                    old_progress="old_progress",
                    new_progress="new_progress",
                    note="note",
                ),
            ),
        ),
    )
