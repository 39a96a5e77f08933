"""Named generations of cached content (core.models.Generation): `renew(name)` inside the transaction of a
change, `read(names)` in one query. Values are random, not counters: a database restored from a dump must not
reuse a generation whose pages the cache still holds from the original."""

import secrets
from collections.abc import Iterable

from django.db import connection

_TABLE = "core_generation"
# Portable upsert (PostgreSQL; SQLite 3.24+). Its row lock is held only until the change's commit.
_RENEW_SQL = (
    f"INSERT INTO {_TABLE} (name, value) VALUES (%s, %s) "  # noqa: S608 - a constant table name
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
)


def renew(name: str) -> None:
    """A new value for `name`, visible with the current transaction's commit (at once in autocommit)."""
    with connection.cursor() as cursor:
        cursor.execute(_RENEW_SQL, [name, secrets.randbits(62)])


def read(names: Iterable[str]) -> dict[str, int]:
    """The current value of each name (0 for one never renewed), in one query."""
    names = list(names)
    marks = ", ".join(["%s"] * len(names))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name, value FROM {_TABLE} WHERE name IN ({marks})", names)  # noqa: S608
        found = dict(cursor.fetchall())
    return {name: found.get(name, 0) for name in names}
