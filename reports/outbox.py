"""The outbox of intake: the (province, day) pairs whose rollups must be rebuilt, recorded as RollupRequest
rows in the same transaction as the reports that changed them, so an accepted report can never be left
out of the dashboards, whatever happens to the broker or the worker afterwards.

After commit, the pairs whose request is new are announced (reports.signals.rollups_requested); the
dashboards app enqueues one rebuild per pair and its rebuild deletes the request. A request that was
already pending has a job queued: that job deletes the request as its first step, so a report committed
before that step is in the job's rebuild, and one committed after it creates a new request (and job). The
requests already pending are locked here (the upsert's DO UPDATE, or SELECT … FOR UPDATE), so such a job
waits for this transaction before deleting them. Under load most reports of a (province, day) therefore
share one rebuild.
"""

import datetime
from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from reports.models import RollupRequest
from reports.signals import rollups_requested

Pair = tuple[str, datetime.date]

# Used alone, and as a CTE of the report insert (reports.services), so that a submission's reports, their
# revisions and the rollup requests are one statement. `source` yields (province_id, date, requested_at).
# DO UPDATE keeps requested_at (the first request's time, which the catch-up's bound reads) and records this
# transaction as the row's last writer (txid, the column's default: dashboards.rollups deletes a request only
# when its snapshot saw that writer); it also tells a pending row from a new one (xmax = 0 on a row this
# statement created).
REQUEST_UPSERT_SQL = (
    "INSERT INTO reports_rolluprequest AS r (province_id, date, requested_at) {source} "
    "ON CONFLICT (province_id, date) DO UPDATE SET requested_at = r.requested_at, txid = excluded.txid "
    "RETURNING province_id, date, (xmax = 0) AS inserted"
)


def request_rollups(pairs: Iterable[Pair]) -> None:
    """Record, inside the current transaction, that these (province code, date) pairs need a rebuild; the
    new ones are announced after commit."""
    pairs = sorted(set(pairs))
    if not pairs:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        new = _upsert_postgresql(pairs, now)
    else:
        pending = set(
            RollupRequest.objects.select_for_update()
            .filter(province_id__in={p for p, _d in pairs}, date__in={d for _p, d in pairs})
            .values_list("province_id", "date")
        )
        RollupRequest.objects.bulk_create(
            [RollupRequest(province_id=p, date=d, requested_at=now) for p, d in pairs if (p, d) not in pending]
        )
        new = [pair for pair in pairs if pair not in pending]
    announce_after_commit(new)


def announce_after_commit(pairs: Iterable[Pair]) -> None:
    """Announce these newly requested pairs once the transaction commits (inline when there is none)."""
    pairs = sorted(pairs)
    if pairs:
        # send_robust: a receiver's failure (the broker, or an in-process job in the embedded mode) is logged
        # and reaches the admins; the reports are committed and the catch-up rebuilds their rollups.
        transaction.on_commit(lambda: rollups_requested.send_robust(sender=RollupRequest, pairs=pairs))


def _upsert_postgresql(pairs: list[Pair], now: datetime.datetime) -> list[Pair]:
    values = ", ".join(["(%s, %s::date, %s)"] * len(pairs))
    params = [value for province_id, day in pairs for value in (province_id, day, now)]
    with connection.cursor() as cursor:
        cursor.execute(REQUEST_UPSERT_SQL.format(source=f"VALUES {values}"), params)
        return sorted((province_id, day) for province_id, day, inserted in cursor.fetchall() if inserted)
