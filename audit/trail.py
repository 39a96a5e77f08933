"""The audit trail as one list: every source of audit, newest first, read by inspectors and the admin.

The sources are the ones the apps declare next to their models (core.trail: tasks, reports, dashboards, …)
and this app's own: the record changes django-auditlog keeps field by field (for the models the apps declare,
audit.registry) and the admin's own log of the rest. Each is a queryset shaped to the same columns
(core.trail.COLUMNS) with `.values()`; the trail is their `UNION ALL` ordered by time, so a page is two
queries (the count and the page) whatever the size of the history, and an export streams from one cursor.
Filters are applied inside each source, before the union (SQL cannot filter a union's rows by the sources'
own fields). A row becomes what people read (`describe`, through its kind's describer) in Python, from the row
alone: no query per row.
"""

import datetime
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from auditlog.models import LogEntry as RecordChange
from django.apps import apps
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.db import models
from django.db.models import Case, Q, QuerySet, Value, When
from django.db.models.expressions import Combinable
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy

from audit.registry import audited_models, created_by_own_event
from core import trail
from core.dates import end_of_day
from tasks.roles import Role, Scope

_DAY = datetime.timedelta(days=1)


def may_read_audit(scope: Scope) -> bool:
    """DESIGN.md §3: inspectors read the audit history; the national admin, who grants every role, too.
    Steering members read dashboards and meetings, not who did what; no API key reads it."""
    return not scope.is_api_client and scope.role in (Role.INSPECTOR, Role.ADMIN)


@dataclass(frozen=True)
class TrailFilter:
    """What the page, its export and the API filter by. `actor` is a username (or an API key's prefix),
    `q` the code of the object (a task, locality, key prefix, target) or words of its name."""

    kind: str = ""
    actor: str = ""
    date_after: datetime.date | None = None
    date_before: datetime.date | None = None
    q: str = ""


def _rows(source: trail.TrailSource, trail_filter: TrailFilter) -> QuerySet | None:
    """The source's rows that pass the filter, as COLUMNS; None when none can."""
    codes = [kind.code for kind in source.kinds]
    if trail_filter.kind and trail_filter.kind not in codes:
        return None
    queryset = source.queryset
    if trail_filter.kind and source.only and trail_filter.kind in source.only:
        queryset = queryset.filter(source.only[trail_filter.kind])
    if trail_filter.date_after:
        queryset = queryset.filter(**{f"{source.time}__gte": end_of_day(trail_filter.date_after - _DAY)})
    if trail_filter.date_before:
        queryset = queryset.filter(**{f"{source.time}__lt": end_of_day(trail_filter.date_before)})
    if trail_filter.actor:
        who = Q()
        for path in source.actors:
            who |= Q(**{f"{path}__iexact": trail_filter.actor})
        queryset = queryset.filter(who)
    if trail_filter.q:
        if not source.codes and not source.words:
            return None
        what = Q()
        for path in source.codes:
            what |= Q(**{f"{path}__iexact": trail_filter.q})
        for path in source.words:
            what |= Q(**{f"{path}__icontains": trail_filter.q})
        queryset = queryset.filter(what)
    return queryset.order_by().annotate(**source.columns).values(*trail.COLUMNS)


def audit_trail(trail_filter: TrailFilter = TrailFilter()) -> QuerySet:
    """The filtered trail, newest first, as rows of COLUMNS (a queryset: paginate or iterate it)."""
    parts = [rows for source in trail.sources() if (rows := _rows(source, trail_filter)) is not None]
    if not parts:
        return AdminLogEntry.objects.none().values()
    first, *rest = parts
    combined = first.union(*rest, all=True) if rest else first
    # The source's own id breaks ties between events of one instant, so pages never overlap.
    return combined.order_by("-e_at", "e_kind", "-e_src")


# --- record changes: this app's own sources ----------------------------------------------------------------------

ACTIONS = {
    "create": gettext_lazy("created"),
    "update": gettext_lazy("changed"),
    "delete": gettext_lazy("deleted"),
}
# The admin's own log of a password set in the admin (auditlog never records the password field): who set
# whose password, and when, without anything of the password.
PASSWORD_CHANGED = json.dumps([{"changed": {"fields": ["password"]}}])


def _field_label(model: type[models.Model] | None, name: str) -> str:
    if model is None:
        return name
    try:
        field = model._meta.get_field(name)
    except Exception:  # a field since removed from the model
        return name
    return str(getattr(field, "verbose_name", name))


def _choice_label(model: type[models.Model] | None, name: str, value: Any) -> Any:
    """A choice field's label instead of its stored value ("thanh tra" rather than "inspector")."""
    if model is None:
        return value
    try:
        field = model._meta.get_field(name)
    except Exception:
        return value
    choices = dict(getattr(field, "flatchoices", None) or ())
    return str(choices.get(value, value)) if choices else value


def _model(label: str | None) -> type[models.Model] | None:
    if not label:
        return None
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _record_changes(model: type[models.Model] | None, data: Any) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    if not isinstance(data, dict):
        return changes
    for name, change in sorted(data.items()):
        if isinstance(change, dict) and change.get("type") == "m2m":
            objects = ", ".join(str(o) for o in change.get("objects", []))
            old, new = (objects, "") if change.get("operation") == "delete" else ("", objects)
        elif isinstance(change, (list, tuple)) and len(change) == 2:
            old, new = (_choice_label(model, name, v) for v in change)
        else:
            continue
        changes.append({"field": _field_label(model, name), "old": _shown(old), "new": _shown(new)})
    return changes


def _shown(value: Any) -> str:
    return "" if value in (None, "None") else str(value)


def _admin_message(data: str | None) -> str:
    """Django admin's change message (JSON it translates), or its plain text."""
    return AdminLogEntry(change_message=data or "").get_change_message()


def _describe_record_change(row: trail.Row) -> trail.Description:
    model = _model(row.model)
    object_type = row.model or ""
    action = str(ACTIONS.get(row.action or "", row.action or ""))
    changes: list[dict[str, str]] = []
    if isinstance(row.data, dict):
        changes = _record_changes(model, row.data)
        summary = action
        if changes:
            summary += ": " + "; ".join(f"{c['field']}: {c['old']} → {c['new']}" for c in changes)
    else:
        message = _admin_message(row.raw)
        summary = f"{action}: {message}" if message else action
    page = trail.record_page(object_type)
    return trail.Description(
        object_type=object_type,
        label=str(model._meta.verbose_name) if model is not None else object_type,
        summary=summary,
        url=trail.link(page, row.object_id) if page and row.action != "delete" else None,
        changes=changes,
    )


RECORD_CHANGE = trail.Kind("record_change", gettext_lazy("record changed"), _describe_record_change)


def _model_q(model_labels: Iterable[str]) -> Q:
    """Rows whose content type is one of these `app_label.model` labels (a join, not a content-type
    lookup, so the number of queries does not depend on ContentType's cache)."""
    found = Q(pk__in=[])
    for label in model_labels:
        app_label, model = label.split(".")
        found |= Q(content_type__app_label=app_label, content_type__model=model)
    return found


def _model_column() -> Combinable:
    return Concat("content_type__app_label", Value("."), "content_type__model", output_field=models.TextField())


def register() -> None:
    """Called by this app's ready(), after the apps below declared theirs (so record changes come last)."""
    record_action = Case(
        When(action=RecordChange.Action.CREATE, then=trail.literal("create")),
        When(action=RecordChange.Action.UPDATE, then=trail.literal("update")),
        default=trail.literal("delete"),
    )
    admin_action = Case(
        When(action_flag=1, then=trail.literal("create")),
        When(action_flag=2, then=trail.literal("update")),
        default=trail.literal("delete"),
    )
    audited = [model._meta.label_lower for model in audited_models()]
    trail.register(
        trail.TrailSource(
            kinds=(RECORD_CHANGE,),
            # Creations that are already an event of their own source (a key issued) are not shown twice.
            queryset=RecordChange.objects.filter(
                action__in=[RecordChange.Action.CREATE, RecordChange.Action.UPDATE, RecordChange.Action.DELETE]
            ).exclude(_model_q(created_by_own_event()) & Q(action=RecordChange.Action.CREATE)),
            time="timestamp",
            actors=("actor__username",),
            codes=("object_pk",),
            words=("object_repr",),
            columns=trail.columns(
                at="timestamp",
                kind=RECORD_CHANGE,
                user="actor__username",
                object_id="object_pk",
                object_code="object_repr",
                model=_model_column(),
                action=record_action,
                data=trail.text("changes"),
            ),
        ),
        # What the admin changed in records that auditlog does not keep field by field (its own log), and the
        # passwords it set.
        trail.TrailSource(
            kinds=(RECORD_CHANGE,),
            queryset=AdminLogEntry.objects.exclude(_model_q(audited) & ~Q(change_message=PASSWORD_CHANGED)),
            time="action_time",
            actors=("user__username",),
            codes=("object_id",),
            words=("object_repr",),
            columns=trail.columns(
                at="action_time",
                kind=RECORD_CHANGE,
                user="user__username",
                object_id="object_id",
                object_code="object_repr",
                model=_model_column(),
                action=admin_action,
                data=trail.text("change_message"),
            ),
        ),
    )


# --- what people read ---------------------------------------------------------------------------------------


def describe(row: dict[str, Any]) -> dict[str, Any]:
    """One row of audit_trail() as people read it: when, who, what, which object (with its link), a short
    summary, the note given with it, and the changes field by field (old → new) — as its kind describes it."""
    event = trail.Row.of(row)
    kind = trail.kind(event.kind)
    told = kind.describe(event) if kind is not None else trail.Description(object_type=event.kind)
    return {
        "at": row["e_at"],
        "kind": event.kind,
        "kind_label": str(kind.label) if kind is not None else event.kind,
        "actor": row["e_user"],
        "api_client": (
            {"key_prefix": row["e_client_prefix"], "name": row["e_client_name"]} if row["e_client_prefix"] else None
        ),
        "object": {
            "type": told.object_type,
            "id": event.object_id,
            "code": event.code,
            "label": event.label if told.label is None else told.label,
            "url": told.url,
        },
        "action": event.action,
        "action_label": str(ACTIONS.get(event.action or "", "")),
        "summary": told.summary,
        "note": told.note,
        "changes": told.changes,
    }


def describe_all(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        yield describe(row)
