"""The outbox of events (DESIGN.md §14): every change other systems care about is written as an `Event` row in
the change's own transaction, by the app that makes the change. The changes feed and the webhooks
(integrations/) read these rows; they never ask the apps.

Declare, then emit: each app declares its event types once, next to the code that makes the change
(`EventType("report.accepted", _("…"))` at module level), and emits them from its services:

    REPORT_ACCEPTED = events.declare("report.accepted", _("A daily report was accepted"))
    ...
    with transaction.atomic():
        report = ...
        events.emit(REPORT_ACCEPTED, subject="daily_report", subject_id=report.pk, province="01", payload={...})

`emit` refuses an undeclared type and a call outside a transaction, so an event can never be written
without its change, nor a change committed without its event.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models import Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.functional import Promise

from core.models import Event


@dataclass(frozen=True)
class EventType:
    """A kind of change: its stable code (`report.accepted`) and what it means, for the feed's documentation."""

    code: str
    description: str | Promise

    def __str__(self) -> str:
        return self.code


_TYPES: dict[str, EventType] = {}


def declare(code: str, description: str | Promise) -> EventType:
    """Declares an event type (once per code; declaring the same code again returns the first)."""
    if code in _TYPES:
        return _TYPES[code]
    event_type = EventType(code, description)
    _TYPES[code] = event_type
    return event_type


def declared() -> dict[str, EventType]:
    """Every declared type by code (the feed's `types` filter accepts exactly these)."""
    return dict(sorted(_TYPES.items()))


class EventOutsideTransaction(RuntimeError):
    """An event written in autocommit would be committed apart from its change."""


def emit(
    event_type: EventType,
    *,
    subject: str,
    subject_id: object,
    payload: Mapping[str, Any] | None = None,
    province: str = "",
    commune: str = "",
    agency: str = "",
    actor: str = "",
) -> Event:
    """Writes one event in the caller's transaction. `province`/`commune`/`agency` are the codes whose readers
    may see it (a commune's event names its province too)."""
    if _TYPES.get(event_type.code) is not event_type:
        raise KeyError(f"undeclared event type {event_type.code!r}")
    if not connection.in_atomic_block:
        raise EventOutsideTransaction(f"{event_type.code} must be emitted inside the change's transaction")
    return Event.objects.create(
        type=event_type.code,
        subject=subject,
        subject_id=str(subject_id),
        payload=dict(payload or {}),
        province=province or "",
        commune=commune or "",
        agency=agency or "",
        actor=actor or "",
    )


def emit_many(event_type: EventType, rows: list[dict[str, Any]]) -> int:
    """Writes many events of one type in one statement (a batch of reports, a bulk update); each row holds
    emit()'s keyword arguments."""
    if _TYPES.get(event_type.code) is not event_type:
        raise KeyError(f"undeclared event type {event_type.code!r}")
    if not connection.in_atomic_block:
        raise EventOutsideTransaction(f"{event_type.code} must be emitted inside the change's transaction")
    events = [
        Event(
            type=event_type.code,
            subject=row["subject"],
            subject_id=str(row["subject_id"]),
            payload=dict(row.get("payload") or {}),
            province=row.get("province") or "",
            commune=row.get("commune") or "",
            agency=row.get("agency") or "",
            actor=row.get("actor") or "",
        )
        for row in rows
    ]
    if connection.vendor == "sqlite" and events:
        _insert_sqlite(event_type, events)
    else:
        Event.objects.bulk_create(events)
    return len(events)


_SQLITE_FIELDS = ("subject", "subject_id", "payload", "province", "commune", "agency", "actor")


def _insert_sqlite(event_type: EventType, events: list[Event]) -> None:
    """One statement for any number of events: the rows as one JSON parameter (bulk_create splits them into
    statements of 999 parameters on SQLite, about a hundred events each)."""
    data = json.dumps([{f: getattr(e, f) for f in _SQLITE_FIELDS} for e in events], ensure_ascii=False)
    picked = ", ".join(
        f"json(json_extract(value, '$.{f}'))" if f == "payload" else f"json_extract(value, '$.{f}')"
        for f in _SQLITE_FIELDS
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO core_event (type, occurred_at, {', '.join(_SQLITE_FIELDS)}) "  # noqa: S608 - constants
            f"SELECT %s, %s, {picked} FROM json_each(%s)",
            [event_type.code, connection.ops.adapt_datetimefield_value(timezone.now()), data],
        )


# The columns an INSERT of events names (the txid is the column's database default), in this order: for the
# statements that write events in SQL (emit_select, and the report insert's CTE in reports.services).
COLUMNS = ("type", "occurred_at", "subject", "subject_id", "payload", "province", "commune", "agency", "actor")


def _text(value: Any) -> Any:
    """A text column of the SELECT: a constant, or an expression whose NULL becomes ''."""
    if value is None or isinstance(value, str):
        return Value(value or "", output_field=models.CharField())
    return Coalesce(Cast(value, output_field=models.CharField()), Value(""), output_field=models.CharField())


def emit_select(
    event_type: EventType,
    rows: models.QuerySet,
    *,
    subject: str,
    subject_id: Any,
    payload: Any,
    province: Any = None,
    commune: Any = None,
    agency: Any = None,
    actor: Any = None,
    occurred_at: Any = None,
) -> int:
    """Writes one event per row of `rows` in one INSERT … SELECT, for a change made by a set-based statement
    (alerts raised or closed by a run): no row is read into Python. `subject` is a constant; the others are
    expressions over `rows` (F("pk"), JSONObject(...), F("agency__code")) or constants. Returns how many."""
    if _TYPES.get(event_type.code) is not event_type:
        raise KeyError(f"undeclared event type {event_type.code!r}")
    if not connection.in_atomic_block:
        raise EventOutsideTransaction(f"{event_type.code} must be emitted inside the change's transaction")
    columns = {
        "ev_type": Value(event_type.code, output_field=models.CharField()),
        "ev_occurred_at": Value(occurred_at or timezone.now(), output_field=models.DateTimeField()),
        "ev_subject": Value(subject, output_field=models.CharField()),
        "ev_subject_id": _text(subject_id),
        "ev_payload": payload,
        "ev_province": _text(province),
        "ev_commune": _text(commune),
        "ev_agency": _text(agency),
        "ev_actor": _text(actor),
    }
    select = rows.order_by("pk").annotate(**columns).values_list(*columns)
    sql, params = select.query.sql_with_params()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(Event._meta.db_table)} ({', '.join(map(quote, COLUMNS))}) {sql}", params)
        return cursor.rowcount


__all__ = [
    "COLUMNS",
    "Event",
    "EventOutsideTransaction",
    "EventType",
    "declare",
    "declared",
    "emit",
    "emit_many",
    "emit_select",
]
