"""The audit trail as one list: every source of audit, newest first, read by inspectors and the admin.

Each source is a queryset shaped to the same columns (`COLUMNS`) with `.values()`; the trail is their
`UNION ALL` ordered by time, so a page is two queries (the count and the page) whatever the size of the
history, and an export streams from one cursor. Filters are applied inside each source, before the union
(SQL cannot filter a union's rows by the sources' own fields). A row becomes what people read
(`describe`) in Python, from the row alone: no query per row.
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
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, Coalesce, Concat, JSONObject
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.registry import audited_models
from core.dates import end_of_day
from dashboards.models import Meeting, TargetValue
from reports.models import ApiClient, LockException, ReportRevision
from tasks.models import AssignmentStatus, CatalogueImport, StatusUpdate
from tasks.roles import Role, Scope


class Kind(models.TextChoices):
    ASSIGNMENT_UPDATE = "assignment_update", gettext_lazy("assignment update")
    REPORT_SUBMITTED = "report_submitted", gettext_lazy("report submitted")
    REPORT_CORRECTED = "report_corrected", gettext_lazy("report corrected")
    CATALOGUE_IMPORT = "catalogue_import", gettext_lazy("catalogue import")
    KEY_ISSUED = "key_issued", gettext_lazy("API key issued")
    KEY_REVOKED = "key_revoked", gettext_lazy("API key revoked")
    LOCK_EXCEPTION = "lock_exception", gettext_lazy("lock exception granted")
    MEETING_FROZEN = "meeting_frozen", gettext_lazy("meeting frozen")
    TARGET_VALUE = "target_value", gettext_lazy("target value entered")
    RECORD_CHANGE = "record_change", gettext_lazy("record changed")


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


# The columns every source gives, in this order (prefixed: annotations may not share a model field's name).
COLUMNS = (
    "e_at",
    "e_kind",
    "e_src",
    "e_user",
    "e_client_prefix",
    "e_client_name",
    "e_object_id",
    "e_object_code",
    "e_object_label",
    "e_model",
    "e_action",
    "e_data",
)


def _text(expression: Any = None) -> Combinable:
    """A text column; NULL typed as text, so the union's column types agree on PostgreSQL."""
    if expression is None:
        return Cast(Value(None), output_field=models.TextField())
    if isinstance(expression, str):
        expression = F(expression)
    return Cast(expression, output_field=models.TextField())


def _literal(value: str) -> Combinable:
    return Cast(Value(value), output_field=models.TextField())


def _data(**fields: Any) -> Combinable:
    """The source's own details as JSON text (decoded by describe())."""
    values = {name: F(path) if isinstance(path, str) else path for name, path in fields.items()}
    return Cast(JSONObject(**values), output_field=models.TextField())


@dataclass(frozen=True)
class _Source:
    """One source of the trail: its rows, the field that dates them, the fields that name its actor, and
    the fields its object is found by (exact codes, and text found inside). `only` narrows the rows to one
    kind where a source gives two (a report's first revision is its submission, later ones corrections)."""

    kinds: tuple[str, ...]
    queryset: QuerySet
    time: str
    actors: tuple[str, ...]
    codes: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    columns: dict[str, Any] | None = None
    only: dict[str, Q] | None = None

    def rows(self, trail_filter: TrailFilter) -> QuerySet | None:
        if trail_filter.kind and trail_filter.kind not in self.kinds:
            return None
        queryset = self.queryset
        if trail_filter.kind and self.only and trail_filter.kind in self.only:
            queryset = queryset.filter(self.only[trail_filter.kind])
        if trail_filter.date_after:
            queryset = queryset.filter(**{f"{self.time}__gte": end_of_day(trail_filter.date_after - _DAY)})
        if trail_filter.date_before:
            queryset = queryset.filter(**{f"{self.time}__lt": end_of_day(trail_filter.date_before)})
        if trail_filter.actor:
            who = Q()
            for path in self.actors:
                who |= Q(**{f"{path}__iexact": trail_filter.actor})
            queryset = queryset.filter(who)
        if trail_filter.q:
            if not self.codes and not self.words:
                return None
            what = Q()
            for path in self.codes:
                what |= Q(**{f"{path}__iexact": trail_filter.q})
            for path in self.words:
                what |= Q(**{f"{path}__icontains": trail_filter.q})
            queryset = queryset.filter(what)
        columns = self.columns or {}
        assert tuple(columns) == COLUMNS, "every source gives the same columns in the same order"
        return queryset.order_by().annotate(**columns).values(*COLUMNS)


_DAY = datetime.timedelta(days=1)


def _columns(
    *,
    at: str,
    kind: Combinable,
    user: Any,
    object_code: Any,
    data: Combinable,
    object_id: Any = None,
    object_label: Any = None,
    client_prefix: Any = None,
    client_name: Any = None,
    model: Any = None,
    action: Any = None,
) -> dict[str, Any]:
    return {
        "e_at": F(at),
        "e_kind": kind,
        "e_src": F("pk"),
        "e_user": _text(user),
        "e_client_prefix": _text(client_prefix),
        "e_client_name": _text(client_name),
        "e_object_id": _text(object_id),
        "e_object_code": _text(object_code),
        "e_object_label": _text(object_label),
        "e_model": _text(model),
        "e_action": action if action is not None else _text(),
        "e_data": data,
    }


def _model_q(model_labels: Iterable[str]) -> Q:
    """Rows whose content type is one of these `app_label.model` labels (a join, not a content-type
    lookup, so the number of queries does not depend on ContentType's cache)."""
    found = Q(pk__in=[])
    for label in model_labels:
        app_label, model = label.split(".")
        found |= Q(content_type__app_label=app_label, content_type__model=model)
    return found


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


# Record changes whose creation is already an event of its own source (a key issued, an exception granted).
CREATED_BY_THEIR_OWN_EVENT = (_label(ApiClient), _label(LockException))
# The admin's own log of a password set in the admin (auditlog never records the password field): who set
# whose password, and when, without anything of the password.
PASSWORD_CHANGED = json.dumps([{"changed": {"fields": ["password"]}}])


def _sources() -> list[_Source]:
    revision_kind = Case(When(number=1, then=_literal(Kind.REPORT_SUBMITTED)), default=_literal(Kind.REPORT_CORRECTED))
    key_columns: dict[str, Any] = {
        "object_id": "pk",
        "object_code": "key_prefix",
        "object_label": Coalesce("commune_id", "province_id"),
        "data": _data(name="name", locality=Coalesce("commune_id", "province_id")),
    }
    record_action = Case(
        When(action=RecordChange.Action.CREATE, then=_literal("create")),
        When(action=RecordChange.Action.UPDATE, then=_literal("update")),
        default=_literal("delete"),
    )
    admin_action = Case(
        When(action_flag=1, then=_literal("create")),
        When(action_flag=2, then=_literal("update")),
        default=_literal("delete"),
    )
    audited = [_label(model) for model in audited_models()]
    return [
        _Source(
            kinds=(Kind.ASSIGNMENT_UPDATE,),
            queryset=StatusUpdate.objects.all(),
            time="created_at",
            actors=("actor__username",),
            codes=(
                "assignment__task__code",
                "assignment__commune__code",
                "assignment__province__code",
                "assignment__agency__code",
            ),
            columns=_columns(
                at="created_at",
                kind=_literal(Kind.ASSIGNMENT_UPDATE),
                user="actor__username",
                object_id="assignment_id",
                object_code="assignment__task__code",
                object_label=Coalesce("assignment__commune_id", "assignment__province_id", "assignment__agency__code"),
                data=_data(
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
        _Source(
            kinds=(Kind.REPORT_SUBMITTED, Kind.REPORT_CORRECTED),
            queryset=ReportRevision.objects.all(),
            time="created_at",
            actors=("author__username", "client__key_prefix"),
            codes=("report__locality", "receipt"),
            only={Kind.REPORT_SUBMITTED: Q(number=1), Kind.REPORT_CORRECTED: Q(number__gt=1)},
            columns=_columns(
                at="created_at",
                kind=revision_kind,
                user="author__username",
                client_prefix="client__key_prefix",
                client_name="client__name",
                object_id="report_id",
                object_code="report__locality",
                object_label=Cast("report__date", output_field=models.TextField()),
                data=_data(number="number", receipt="receipt", reason="reason", date="report__date"),
            ),
        ),
        _Source(
            kinds=(Kind.CATALOGUE_IMPORT,),
            queryset=CatalogueImport.objects.all(),
            time="imported_at",
            actors=("imported_by",),
            words=("filename",),
            columns=_columns(
                at="imported_at",
                kind=_literal(Kind.CATALOGUE_IMPORT),
                user="imported_by",
                object_id="pk",
                object_code="filename",
                data=_data(created="created", updated="updated", unchanged="unchanged", checksum="checksum"),
            ),
        ),
        _Source(
            kinds=(Kind.KEY_ISSUED,),
            queryset=ApiClient.objects.all(),
            time="created_at",
            actors=("created_by__username",),
            codes=("key_prefix", "commune__code", "province__code"),
            words=("name",),
            columns=_columns(
                at="created_at", kind=_literal(Kind.KEY_ISSUED), user="created_by__username", **key_columns
            ),
        ),
        _Source(
            kinds=(Kind.KEY_REVOKED,),
            queryset=ApiClient.objects.filter(revoked_at__isnull=False),
            time="revoked_at",
            actors=("revoked_by__username",),
            codes=("key_prefix", "commune__code", "province__code"),
            words=("name",),
            columns=_columns(
                at="revoked_at", kind=_literal(Kind.KEY_REVOKED), user="revoked_by__username", **key_columns
            ),
        ),
        _Source(
            kinds=(Kind.LOCK_EXCEPTION,),
            queryset=LockException.objects.all(),
            time="granted_at",
            actors=("granted_by__username",),
            codes=("locality",),
            columns=_columns(
                at="granted_at",
                kind=_literal(Kind.LOCK_EXCEPTION),
                user="granted_by__username",
                object_id="pk",
                object_code="locality",
                object_label=Cast("date", output_field=models.TextField()),
                data=_data(date="date", reason="reason"),
            ),
        ),
        _Source(
            kinds=(Kind.MEETING_FROZEN,),
            queryset=Meeting.objects.all(),
            time="created_at",
            actors=("created_by__username",),
            words=("title",),
            columns=_columns(
                at="created_at",
                kind=_literal(Kind.MEETING_FROZEN),
                user="created_by__username",
                object_id="pk",
                object_code="title",
                object_label=Cast("date", output_field=models.TextField()),
                data=_data(date="date"),
            ),
        ),
        _Source(
            kinds=(Kind.TARGET_VALUE,),
            queryset=TargetValue.objects.all(),
            time="entered_at",
            actors=("entered_by__username",),
            codes=("target__code", "province__code"),
            columns=_columns(
                at="entered_at",
                kind=_literal(Kind.TARGET_VALUE),
                user="entered_by__username",
                object_id="target_id",
                object_code="target__code",
                object_label="province_id",
                data=_data(
                    value="value",
                    measured_on="measured_on",
                    province="province_id",
                    note="note",
                    evidence_url="evidence_url",
                ),
            ),
        ),
        _Source(
            kinds=(Kind.RECORD_CHANGE,),
            queryset=RecordChange.objects.filter(
                action__in=[RecordChange.Action.CREATE, RecordChange.Action.UPDATE, RecordChange.Action.DELETE]
            ).exclude(_model_q(CREATED_BY_THEIR_OWN_EVENT) & Q(action=RecordChange.Action.CREATE)),
            time="timestamp",
            actors=("actor__username",),
            codes=("object_pk",),
            words=("object_repr",),
            columns=_columns(
                at="timestamp",
                kind=_literal(Kind.RECORD_CHANGE),
                user="actor__username",
                object_id="object_pk",
                object_code="object_repr",
                model=_model_column(),
                action=record_action,
                data=_text("changes"),
            ),
        ),
        # What the admin changed in records that auditlog does not keep field by field (its own log), and the
        # passwords it set.
        _Source(
            kinds=(Kind.RECORD_CHANGE,),
            queryset=AdminLogEntry.objects.exclude(_model_q(audited) & ~Q(change_message=PASSWORD_CHANGED)),
            time="action_time",
            actors=("user__username",),
            codes=("object_id",),
            words=("object_repr",),
            columns=_columns(
                at="action_time",
                kind=_literal(Kind.RECORD_CHANGE),
                user="user__username",
                object_id="object_id",
                object_code="object_repr",
                model=_model_column(),
                action=admin_action,
                data=_text("change_message"),
            ),
        ),
    ]


def _model_column() -> Combinable:
    return Concat("content_type__app_label", Value("."), "content_type__model", output_field=models.TextField())


def audit_trail(trail_filter: TrailFilter = TrailFilter()) -> QuerySet:
    """The filtered trail, newest first, as rows of COLUMNS (a queryset: paginate or iterate it)."""
    parts = [rows for source in _sources() if (rows := source.rows(trail_filter)) is not None]
    if not parts:
        return StatusUpdate.objects.none().values()
    first, *rest = parts
    combined = first.union(*rest, all=True) if rest else first
    # The source's own id breaks ties between events of one instant, so pages never overlap.
    return combined.order_by("-e_at", "e_kind", "-e_src")


# --- what people read ---------------------------------------------------------------------------------------


def _status_label(value: str | None) -> str:
    try:
        return str(AssignmentStatus(value or "").label)
    except ValueError:
        return value or ""


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


def _decode(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _url(name: str, *args: Any) -> str | None:
    try:
        return reverse(name, args=args)
    except Exception:  # a link that cannot be made (a malformed code) is left out, the row is kept
        return None


RECORD_PAGES = {"localities.province": "dashboard:province", "localities.commune": "dashboard:commune"}
ACTIONS = {
    "create": gettext_lazy("created"),
    "update": gettext_lazy("changed"),
    "delete": gettext_lazy("deleted"),
}


def describe(row: dict[str, Any]) -> dict[str, Any]:
    """One row of audit_trail() as people read it: when, who, what, which object (with its link), a short
    summary, the note given with it, and the changes field by field (old → new)."""
    kind = row["e_kind"]
    data = _decode(row["e_data"])
    details = data if isinstance(data, dict) else {}
    code, label, object_id = row["e_object_code"] or "", row["e_object_label"] or "", row["e_object_id"]
    changes: list[dict[str, Any]] = []
    summary, note, url, object_type = "", "", None, kind
    if kind == Kind.ASSIGNMENT_UPDATE:
        object_type = "assignment"
        label = " ".join(part for part in (label, details.get("unit") or "") if part)
        changes = [
            {
                "field": _("status"),
                "old": _status_label(details.get("old_status")),
                "new": _status_label(details.get("new_status")),
            },
            {
                "field": _("progress (%)"),
                "old": str(details.get("old_progress")),
                "new": str(details.get("new_progress")),
            },
        ]
        summary = "; ".join(f"{c['field']}: {c['old']} → {c['new']}" for c in changes)
        if details.get("on_behalf"):
            summary += " " + _("(on the commune's behalf)")
        note = details.get("note") or ""
        url = _url("tasks:assignment", object_id)
    elif kind in (Kind.REPORT_SUBMITTED, Kind.REPORT_CORRECTED):
        object_type = "report"
        summary = _("revision %(number)s, receipt %(receipt)s") % {
            "number": details.get("number"),
            "receipt": details.get("receipt"),
        }
        note = details.get("reason") or ""
        url = _url("reports:detail", code, str(details.get("date") or label)[:10])
        label = str(details.get("date") or label)[:10]
    elif kind == Kind.CATALOGUE_IMPORT:
        object_type = "catalogue_import"
        summary = _("%(created)s created, %(updated)s updated, %(unchanged)s unchanged") % details
    elif kind in (Kind.KEY_ISSUED, Kind.KEY_REVOKED):
        object_type = "api_client"
        summary = _("key %(prefix)s… of %(locality)s (%(name)s)") % {
            "prefix": code,
            "locality": details.get("locality"),
            "name": details.get("name"),
        }
    elif kind == Kind.LOCK_EXCEPTION:
        object_type = "lock_exception"
        summary = _("%(locality)s may send or correct its report of %(date)s past the lock window") % {
            "locality": code,
            "date": label,
        }
        note = details.get("reason") or ""
    elif kind == Kind.MEETING_FROZEN:
        object_type = "meeting"
        summary = _("the state as of %(date)s, frozen") % {"date": label}
        url = _url("dashboard:meeting", object_id)
    elif kind == Kind.TARGET_VALUE:
        object_type = "target"
        summary = _("value %(value)s measured on %(date)s") % {
            "value": details.get("value"),
            "date": details.get("measured_on"),
        }
        if details.get("province"):
            summary += " · " + str(details["province"])
        note = details.get("note") or ""
        url = _url("dashboard:target", code)
    elif kind == Kind.RECORD_CHANGE:
        model = _model(row["e_model"])
        object_type = row["e_model"] or ""
        label = str(model._meta.verbose_name) if model is not None else object_type
        action = str(ACTIONS.get(row["e_action"], row["e_action"] or ""))
        if isinstance(data, dict):
            changes = _record_changes(model, data)
            summary = action
            if changes:
                summary += ": " + "; ".join(f"{c['field']}: {c['old']} → {c['new']}" for c in changes)
        else:
            message = _admin_message(row["e_data"])
            summary = f"{action}: {message}" if message else action
        if row["e_action"] != "delete" and object_type in RECORD_PAGES:
            url = _url(RECORD_PAGES[object_type], object_id)
    return {
        "at": row["e_at"],
        "kind": kind,
        "kind_label": str(Kind(kind).label) if kind in Kind.values else kind,
        "actor": row["e_user"],
        "api_client": (
            {"key_prefix": row["e_client_prefix"], "name": row["e_client_name"]} if row["e_client_prefix"] else None
        ),
        "object": {"type": object_type, "id": object_id, "code": code, "label": label, "url": url},
        "action": row["e_action"],
        "action_label": str(ACTIONS.get(row["e_action"] or "", "")),
        "summary": summary,
        "note": note,
        "changes": changes,
    }


def describe_all(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        yield describe(row)
