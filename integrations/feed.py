"""The changes feed (DESIGN.md §14): the events of core.events in the order no reader can skip one.

Ids are handed out when a row is inserted, not when its transaction commits: transaction A may take id 10,
B id 11, and B commit first. A reader that had read 11 and moved its cursor past it would never see 10.
So the feed orders by (txid, id), the writing transaction's id first, and reads only the rows of
transactions older than every transaction still running (`txid < xmin` of the current snapshot): all of
them have committed or rolled back, and none can add a row below the cursor later. A transaction that is
still open holds the feed back until it ends (a long one delays the feed; it never loses an event). The
cursor is the last (txid, id) read, signed so a client cannot forge a position.

SQLite has no transaction ids (txid is NULL) and serialises its writers, so its rows commit in id order:
the feed orders by id alone there.

Who sees what: the event's province, commune and agency codes against the reader's Scope, as every other
list (read-all roles and national keys: everything).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.models import BooleanField, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from core import events
from core.models import Event
from integrations.models import FeedMark
from tasks.models import Agency
from tasks.roles import Scope

SALT = "integrations.changes.cursor"
PURGED = "purged"
DISPATCHED = "dispatched"


class BadCursor(ValueError):
    """The cursor was not made by this portal (forged, truncated, or signed with another key)."""


class CursorExpired(Exception):
    """Events after the cursor were purged (older than the retention): some may never have been read."""

    def __init__(self, oldest_kept: datetime.datetime | None) -> None:
        self.oldest_kept = oldest_kept
        super().__init__("cursor older than the retention")


class UnknownTypes(ValueError):
    def __init__(self, unknown: list[str]) -> None:
        self.unknown = unknown
        super().__init__(", ".join(unknown))


@dataclass(frozen=True, order=True)
class Position:
    """A place in the feed: after the event (txid, id). (0, 0) is before every event."""

    txid: int = 0
    id: int = 0

    def encode(self) -> str:
        return signing.dumps([self.txid, self.id], salt=SALT, compress=False)

    @classmethod
    def decode(cls, token: str) -> Position:
        try:
            value = signing.loads(token, salt=SALT)
        except (signing.BadSignature, ValueError, TypeError, UnicodeError) as exc:
            raise BadCursor(str(exc)) from None
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63 for v in value)
        ):
            raise BadCursor("malformed")
        return cls(value[0], value[1])


START = Position()


def parse_types(raw: list[str]) -> list[str]:
    """The `types` filter: codes separated by commas (or the parameter repeated); each a declared type."""
    codes = sorted({code.strip() for value in raw for code in value.split(",") if code.strip()})
    unknown = [code for code in codes if code not in events.declared()]
    if unknown:
        raise UnknownTypes(unknown)
    return codes


def visible_to(queryset: QuerySet[Event], scope: Scope) -> QuerySet[Event]:
    """The events a scope may read: everything for read-all roles (and national keys); a province's and its
    communes'; a commune's own; an agency's (its own assignments, the tasks it leads, its targets)."""
    if scope.reads_all:
        return queryset
    if scope.is_commune and scope.commune_id:
        return queryset.filter(commune=scope.commune_id)
    if scope.is_province and scope.province_id:
        return queryset.filter(province=scope.province_id)
    if scope.is_agency and scope.agency_id:
        code = Agency.objects.filter(pk=scope.agency_id).values_list("code", flat=True).first()
        return queryset.filter(agency=code) if code else queryset.none()
    return queryset.none()


def event_visible(scope: Scope, event: Mapping[str, Any], *, agency_code: str | None = None) -> bool:
    """visible_to() for one event row (FIELDS) in Python, for the webhooks' fan-out; tests hold the two to the
    same answers. `agency_code` is the code of the scope's agency."""
    if scope.reads_all:
        return True
    if scope.is_commune and scope.commune_id:
        return event["commune"] == scope.commune_id
    if scope.is_province and scope.province_id:
        return event["province"] == scope.province_id
    if scope.is_agency and scope.agency_id:
        return bool(agency_code) and event["agency"] == agency_code
    return False


# Transactions of other databases of the same PostgreSQL server cannot write here, yet they are in every
# snapshot: those the portal's role can see in pg_stat_activity (its own sessions: the other test databases
# of a parallel run, a benchmark's database) are left out, so a long one elsewhere does not hold the feed
# back. Sessions it cannot see (other roles) stay in: waiting longer is safe, skipping is not.
# When no other transaction is running (the snapshot's xmin is its xmax) the horizon is xmax and
# pg_stat_activity (a few milliseconds to read) is not consulted: CASE evaluates only the branch it takes.
_HORIZON_EXPR = """
CASE WHEN txid_snapshot_xmin(s) = txid_snapshot_xmax(s) THEN txid_snapshot_xmax(s) ELSE COALESCE(
    (SELECT MIN(x) FROM txid_snapshot_xip(s) AS x
     WHERE mod(x, 4294967296) NOT IN (
           SELECT backend_xid::text::bigint FROM pg_stat_activity
           WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database())),
    txid_snapshot_xmax(s)) END
"""
_HORIZON_SQL = f"SELECT {_HORIZON_EXPR} FROM txid_current_snapshot() AS s"  # noqa: S608 (constants only)
# One round trip a page: the horizon and the purge mark together.
_STATE_SQL = f"""
SELECT {_HORIZON_EXPR}, mark.txid, mark.event_id
FROM txid_current_snapshot() AS s LEFT JOIN integrations_feedmark AS mark ON mark.name = %s
"""  # noqa: S608 (constants only)


def horizon() -> int | None:
    """PostgreSQL: every transaction of this database below this id has ended, so its events are all there
    for good: txid_snapshot_xmin(txid_current_snapshot()), not counting transactions known to be in other
    databases. A reader's own uncommitted events are not read (they are not in order yet). None on SQLite."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(_HORIZON_SQL)
        return cursor.fetchone()[0]


def purge_mark() -> Position | None:
    """The position of the last event purged (older than the retention), or None."""
    mark_row = FeedMark.objects.filter(name=PURGED).values_list("txid", "event_id").first()
    return Position(*mark_row) if mark_row else None


def state() -> tuple[int | None, Position | None]:
    """(horizon(), purge_mark()), in one query on PostgreSQL: what a page of the feed asks first."""
    if connection.vendor != "postgresql":
        return None, purge_mark()
    with connection.cursor() as cursor:
        cursor.execute(_STATE_SQL, [PURGED])
        until, txid, event_id = cursor.fetchone()
    return until, Position(txid, event_id) if event_id is not None else None


def after(queryset: QuerySet[Event], position: Position, *, until: int | None) -> QuerySet[Event]:
    """The events after `position`, in feed order, of transactions below `until` (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return queryset.filter(id__gt=position.id).order_by("id")
    # A row comparison: PostgreSQL reads it as one range of the (txid, id) index.
    beyond = RawSQL('("core_event"."txid", "core_event"."id") > (%s, %s)', (position.txid, position.id), BooleanField())
    return queryset.filter(beyond, txid__lt=until).order_by("txid", "id")


# What a reader gets of each event: plain rows, no model instances (the feed reads many).
FIELDS = ("id", "txid", "type", "occurred_at", "subject", "subject_id", "province", "commune", "agency", "payload")


def rows_after(queryset: QuerySet[Event], position: Position, *, until: int | None, limit: int) -> list[dict[str, Any]]:
    """The rows (FIELDS) as plain dicts, read with one cursor: no model instances and no per-row converters
    (the feed reads many; the payload, text from the driver, is decoded here)."""
    sql, params = after(queryset, position, until=until).values_list(*FIELDS)[:limit].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [dict(zip(FIELDS, row, strict=True)) for row in cursor.fetchall()]
    loads, parse_time = json.loads, datetime.datetime.fromisoformat
    for row in rows:
        if isinstance(row["payload"], str | bytes):
            row["payload"] = loads(row["payload"])
        if isinstance(row["occurred_at"], str):  # SQLite: naive ISO text in UTC
            row["occurred_at"] = parse_time(row["occurred_at"]).replace(tzinfo=datetime.UTC)
    return rows


def position_of(event: Mapping[str, Any]) -> Position:
    return Position(event["txid"] or 0, event["id"])


def mark(name: str) -> FeedMark:
    mark_row, _created = FeedMark.objects.get_or_create(name=name)
    return mark_row


def check_kept(position: Position, purged: Position | None) -> None:
    """Raise CursorExpired when events after `position` have been purged (`purged`: the purge mark)."""
    if position == START:
        return
    if purged is not None and position < purged:
        oldest = Event.objects.order_by("occurred_at").values_list("occurred_at", flat=True).first()
        raise CursorExpired(oldest)


@dataclass(frozen=True)
class Page:
    """A page of the feed: each event as its JSON text (serialize()'s shape), the cursor after the last one."""

    documents: list[str]
    cursor: Position
    has_more: bool

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(document) for document in self.documents]

    def body(self) -> bytes:
        """The feed's answer, written around the documents rather than decoding and encoding them again."""
        return (
            '{"events":['
            + ",".join(self.documents)
            + '],"cursor":'
            + json.dumps(self.cursor.encode())
            + ',"has_more":'
            + ("true" if self.has_more else "false")
            + "}"
        ).encode()


# PostgreSQL writes each event's document itself (a page is read many times by many readers): the fields of
# serialize(), the time in the portal's zone as Python's isoformat() writes it (no fraction when it is zero,
# the offset as ±HH:MM). tests/integrations/test_feed.py holds it to serialize() row for row.
_COLUMN = '"core_event"."{}"'.format
_LOCAL = f"({_COLUMN('occurred_at')} AT TIME ZONE %s)"
_OFFSET = f"({_LOCAL} - ({_COLUMN('occurred_at')} AT TIME ZONE 'UTC'))"
_DOCUMENT_SQL = f"""json_build_object(
    'id', {_COLUMN("id")},
    'type', {_COLUMN("type")},
    'occurred_at', to_char({_LOCAL}, 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN mod(extract(microseconds FROM {_COLUMN("occurred_at")})::bigint, 1000000) = 0 THEN ''
           ELSE to_char({_LOCAL}, '.US') END
        || CASE WHEN {_OFFSET} >= interval '0' THEN '+' ELSE '' END || to_char({_OFFSET}, 'HH24:MI'),
    'subject', {_COLUMN("subject")},
    'subject_id', {_COLUMN("subject_id")},
    'province', NULLIF({_COLUMN("province")}, ''),
    'commune', NULLIF({_COLUMN("commune")}, ''),
    'agency', NULLIF({_COLUMN("agency")}, ''),
    'data', {_COLUMN("payload")})::text"""
_DOCUMENT_PARAMS = _DOCUMENT_SQL.count("%s")


def documents_after(
    queryset: QuerySet[Event], position: Position, *, until: int | None, limit: int
) -> list[tuple[Position, str]]:
    """(position, JSON text) of the events after `position`: written by PostgreSQL, by serialize() on SQLite."""
    if connection.vendor != "postgresql":
        rows = rows_after(queryset, position, until=until, limit=limit)
        return [(position_of(row), json.dumps(serialize(row), ensure_ascii=False)) for row in rows]
    document = RawSQL(_DOCUMENT_SQL, [settings.TIME_ZONE] * _DOCUMENT_PARAMS, output_field=TextField())  # noqa: S611 (constant SQL, bound zone)
    query = after(queryset, position, until=until).annotate(document=document)
    sql, params = query.values_list("txid", "id", "document")[:limit].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(Position(txid or 0, event_id), text) for txid, event_id, text in cursor.fetchall()]


def changes(*, scope: Scope, position: Position = START, types: list[str] | None = None, limit: int = 500) -> Page:
    """A page of the feed for `scope` after `position`. Raises CursorExpired."""
    until, purged = state()
    check_kept(position, purged)
    queryset = visible_to(Event.objects.all(), scope)
    if types:
        queryset = queryset.filter(type__in=types)
    found = documents_after(queryset, position, until=until, limit=limit + 1)
    has_more = len(found) > limit
    found = found[:limit]
    return Page([text for _at, text in found], found[-1][0] if found else position, has_more)


def retention_days() -> int:
    return settings.EVENTS_RETENTION_DAYS


def serialize(event: Mapping[str, Any]) -> dict[str, Any]:
    """An event row (FIELDS) as the feed and the webhooks send it, its time in the portal's zone. Who made the
    change is not sent: that is the audit trail's, read by inspectors."""
    return {
        "id": event["id"],
        "type": event["type"],
        "occurred_at": event["occurred_at"].astimezone(timezone.get_default_timezone()).isoformat(),
        "subject": event["subject"],
        "subject_id": event["subject_id"],
        "province": event["province"] or None,
        "commune": event["commune"] or None,
        "agency": event["agency"] or None,
        "data": event["payload"],
    }


__all__ = [
    "START",
    "BadCursor",
    "CursorExpired",
    "Page",
    "Position",
    "UnknownTypes",
    "changes",
    "horizon",
    "parse_types",
    "serialize",
    "visible_to",
]
