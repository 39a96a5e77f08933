"""Database helpers below every app."""

import re

from django.db import connection
from django.db.backends.utils import CursorWrapper

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
    with connection.wrap_database_errors:
        return connection._prepare_cursor(ServerBindingCursor(connection.connection))  # type: ignore[attr-defined]
