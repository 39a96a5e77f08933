"""Database helpers below every app."""

import datetime
import json
import re
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import NOT_PROVIDED, Model

# Every primary key is at most a bigint: 19 digits.
_ID = re.compile(r"[0-9]{1,19}")


def parse_id(value: object) -> int | None:
    """The id in an address or a parameter (`/api/v1/alerts/12/`, `?since=12`): ASCII digits, or None for
    anything else, which names no row (a 404 or a 400, not a crash). Not str.isdigit(): it is true of "¹" and
    "²", which int() refuses (a ValueError, so a 500)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _ID.fullmatch(value):
        return int(value)
    return None


# psycopg prepares a statement after this many runs on a connection (its own default).
PREPARE_AFTER = 5


def bound_cursor() -> CursorWrapper:
    """A cursor of the default connection that sends its parameters apart from the statement (PostgreSQL
    with psycopg 3: server-side binding), where Django's own cursors quote them into the SQL text.

    For the few hand-written statements on the hot paths (reports.services): a large parameter (a national
    day's reports as one JSON document) is not escaped and joined into a megabyte of SQL, and a statement
    run again and again on the same connection is prepared by psycopg after a few runs (its
    prepare_threshold), so PostgreSQL parses and plans it once. Parameters must be typed where PostgreSQL
    cannot infer them (`%s::bigint`). Elsewhere (SQLite) it is Django's cursor. Either way it is Django's
    cursor wrapper: errors are Django's, and the statement is counted and logged like any other."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined] # psycopg 3 only

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns psycopg's automatic preparation off on every connection (for transaction-mode poolers,
        # which the portal does not use: it keeps its own connections, CONN_MAX_AGE). Only these cursors bind
        # on the server, so only their statements are prepared: Django's own cursors bind on the client, and
        # psycopg never prepares those.
        raw.prepare_threshold = PREPARE_AFTER
    with connection.wrap_database_errors:
        return connection._prepare_cursor(ServerBindingCursor(raw))  # type: ignore[attr-defined]


def insert_many(model: type[Model], rows: list[dict[str, Any]], *, ignore_conflicts: bool = False) -> None:
    """INSERT `rows` (each a mapping of field attnames — `run_id`, not `run` — to values) into `model`'s table.

    On PostgreSQL one statement with the rows as one JSON parameter, unpacked by `jsonb_to_recordset` into the
    columns' own types: bulk_create would build a model instance and compile every value of every row, seconds
    for tens of thousands of rows (alerts_run's first run at national scale). A field missing from a row takes
    its default; a field with a database default (and no value) takes the database's. Elsewhere
    (SQLite), bulk_create. `ignore_conflicts` skips rows that conflict with a unique constraint."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**row) for row in rows], ignore_conflicts=ignore_conflicts)
        return
    given = set(rows[0])
    fields = [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key
        and f.db_type(connection) is not None
        and (f.attname in given or f.db_default is NOT_PROVIDED)
    ]
    defaults = {f.attname: f.get_default() for f in fields if f.attname not in given}
    data = json.dumps([{**defaults, **row} for row in rows], default=_json_value, ensure_ascii=False)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    # Named by attname in the JSON, so the record's columns are declared by attname too.
    record = ", ".join(f"{connection.ops.quote_name(f.attname)} {f.db_type(connection)}" for f in fields)
    picked = ", ".join(f"x.{connection.ops.quote_name(f.attname)}" for f in fields)
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) "  # noqa: S608 - names only
            f"SELECT {picked} FROM jsonb_to_recordset(%s::jsonb) AS x({record}){conflict}",
            [data],
        )


def _json_value(value: Any) -> Any:
    """Dates and times in ISO 8601 with every digit (DjangoJSONEncoder cuts microseconds), else their text."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)
