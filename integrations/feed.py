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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.models import BooleanField, QuerySet
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
_HORIZON_SQL = """
SELECT COALESCE(
    (SELECT MIN(x) FROM txid_snapshot_xip(s) AS x
     WHERE x % 4294967296 NOT IN (
           SELECT backend_xid::text::bigint FROM pg_stat_activity
           WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database())),
    txid_snapshot_xmax(s))
FROM txid_current_snapshot() AS s
"""


def horizon() -> int | None:
    """PostgreSQL: every transaction of this database below this id has ended, so its events are all there
    for good: txid_snapshot_xmin(txid_current_snapshot()), not counting transactions known to be in other
    databases. A reader's own uncommitted events are not read (they are not in order yet). None on SQLite."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(_HORIZON_SQL)
        return cursor.fetchone()[0]


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
    return list(after(queryset, position, until=until).values(*FIELDS)[:limit])


def position_of(event: Mapping[str, Any]) -> Position:
    return Position(event["txid"] or 0, event["id"])


def mark(name: str) -> FeedMark:
    mark_row, _created = FeedMark.objects.get_or_create(name=name)
    return mark_row


def check_kept(position: Position) -> None:
    """Raise CursorExpired when events after `position` have been purged."""
    if position == START:
        return
    purged = FeedMark.objects.filter(name=PURGED).first()
    if purged is not None and position < Position(purged.txid, purged.event_id):
        oldest = Event.objects.order_by("occurred_at").values_list("occurred_at", flat=True).first()
        raise CursorExpired(oldest)


@dataclass(frozen=True)
class Page:
    events: list[dict[str, Any]]
    cursor: Position
    has_more: bool


def changes(*, scope: Scope, position: Position = START, types: list[str] | None = None, limit: int = 500) -> Page:
    """A page of the feed for `scope` after `position`. Raises CursorExpired."""
    check_kept(position)
    queryset = visible_to(Event.objects.all(), scope)
    if types:
        queryset = queryset.filter(type__in=types)
    rows = rows_after(queryset, position, until=horizon(), limit=limit + 1)
    has_more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, position_of(rows[-1]) if rows else position, has_more)


def retention_days() -> int:
    return settings.EVENTS_RETENTION_DAYS


def serialize(event: Mapping[str, Any]) -> dict[str, Any]:
    """An event row (FIELDS) as the feed and the webhooks send it. Who made the change is not sent: that is
    the audit trail's, read by inspectors."""
    return {
        "id": event["id"],
        "type": event["type"],
        "occurred_at": timezone.localtime(event["occurred_at"]).isoformat(),
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
