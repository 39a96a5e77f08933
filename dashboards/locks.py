"""Transaction-level advisory locks that serialise the rebuilds of one day (PostgreSQL).

Rebuilds delete and re-insert rows, and a day's nation row is summed from every province's row of that day,
so two rebuilds of one day must not run at once: the second waits for the first to commit, then reads its
rows. The lock is released at the end of the transaction, crash included. Days are locked in ascending
order, so a range rebuild and a one-day rebuild never wait for each other in a circle. SQLite needs none:
its IMMEDIATE transactions (settings) already let one writer in at a time.
"""

import datetime
from collections.abc import Iterable

from django.db import connection

# The first key of pg_advisory_xact_lock(int, int): which kind of rebuild; the second is the day's ordinal.
ROLLUP_DAY = 2002
SNAPSHOT_DAY = 2003


def lock_days(kind: int, days: Iterable[datetime.date]) -> None:
    """Take the advisory lock of each day for this transaction (call inside transaction.atomic())."""
    if connection.vendor != "postgresql":
        return
    ordinals = sorted({day.toordinal() for day in days})
    if not ordinals:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, d) FROM unnest(%s::int[]) AS d ORDER BY d", [kind, ordinals])
