"""The operations desk in the audit trail (core.trail): every step of every incident (its history rows,
comments included), and the teams and categories edited in the admin, kept field by field."""

from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import trail
from support.models import Action, IncidentCategory, IncidentEvent, State, Team


def _label(choices, value: str | None) -> str:
    try:
        return str(choices(value or "").label)
    except ValueError:
        return value or ""


def _describe(row: trail.Row) -> trail.Description:
    details = row.details
    before, after = details.get("from_state") or "", details.get("to_state") or ""
    summary = _label(Action, details.get("action"))
    changes = []
    if before != after:
        changes.append({"field": _("state"), "old": _label(State, before), "new": _label(State, after)})
        summary += f": {_label(State, before) or '—'} → {_label(State, after)}"
    return trail.Description(
        object_type="incident",
        label=f"#{row.object_id} · {row.label}",
        summary=summary,
        note=details.get("text") or "",
        url=trail.link("support:incident", row.object_id),
        changes=changes,
    )


INCIDENT_STEP = trail.Kind("incident_step", gettext_lazy("incident step"), _describe)


def register() -> None:
    """Called by the support app's ready()."""
    trail.register(
        trail.TrailSource(
            kinds=(INCIDENT_STEP,),
            queryset=IncidentEvent.objects.all(),
            time="at",
            actors=("actor__username",),
            codes=("incident__commune__code", "incident__province__code", "incident__category__code"),
            words=("text",),
            columns=trail.columns(
                at="at",
                kind=INCIDENT_STEP,
                user="actor__username",
                object_id="incident_id",
                object_code="incident__category_id",
                object_label=Coalesce("incident__commune_id", "incident__province_id"),
                data=trail.data(action="action", from_state="from_state", to_state="to_state", text="text"),
            ),
        )
    )
    trail.keep_changes(
        trail.KeptModel(Team, exclude=("created_at",), m2m=frozenset({"members", "skills"})),
        trail.KeptModel(IncidentCategory),
    )
