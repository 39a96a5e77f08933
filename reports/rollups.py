"""Rollups of daily reports: province/day and nation/day sums of every figure, and completeness.

- `rollup_request(*, province_id, day)` / `rollup_request_many(pairs)`: call inside the transaction that
  accepted or corrected reports; the rebuild is enqueued after commit (inline without a broker).
- `rollup_rebuild(*, province_id, day)`: one transaction that deletes and re-inserts the (province, day)
  row with one INSERT … SELECT, then re-sums that day's nation row. Running it twice gives the same rows.
- `rollup_rebuild_range(*, start, end)`: the same for every province over a period, set-based.
"""

import datetime
import logging

from django.db import connection, transaction
from django.utils import timezone

from reports.figures import INTEGER_FIELDS
from reports.rollup_models import NationDayRollup, RollupRequest

logger = logging.getLogger(__name__)

COMPLETENESS_FIELDS = [
    "localities_expected",
    "localities_received",
    "localities_late",
    "communes_expected",
    "communes_received",
    "communes_late",
    "support_needed",
]
ROLLUP_FIELDS = [*INTEGER_FIELDS, *COMPLETENESS_FIELDS]


def rollup_request_many(pairs):
    """Record that these (province code, date) pairs need a rebuild and enqueue it after commit."""
    pairs = sorted(set(pairs))
    if not pairs:
        return
    now = timezone.now()
    RollupRequest.objects.bulk_create(
        [RollupRequest(province_id=p, date=d, requested_at=now) for p, d in pairs],
        update_conflicts=True,
        unique_fields=["province", "date"],
        update_fields=["requested_at"],
    )
    transaction.on_commit(lambda: _enqueue(pairs))


def rollup_request(*, province_id, day):
    rollup_request_many([(province_id, day)])


def _enqueue(pairs):
    from reports import jobs

    try:
        for province_id, day in pairs:
            jobs.rollup_province_day.delay(province_id, day.isoformat())
    except Exception:  # broker down: the RollupRequest rows stay and the catch-up job rebuilds them
        logger.warning("could not enqueue %d rollup(s); the catch-up job will rebuild them", len(pairs), exc_info=True)


# --- SQL ------------------------------------------------------------------------------------------------
# One statement sums a set of (province, day) groups straight from the reports table. The expected counts
# come from the communes table as it is now (units change rarely; the rebuild is redone when they do).

_REPORT = "reports_dailyreport"
_TRUE = "TRUE"  # both PostgreSQL and SQLite (3.23+) accept TRUE


def _province_insert_sql(where):
    sums = ",\n    ".join(f"COALESCE(SUM(r.{f}), 0)" for f in INTEGER_FIELDS)
    columns = ", ".join([*INTEGER_FIELDS, *COMPLETENESS_FIELDS, "province_id", "date", "built_at"])
    # Only code constants are interpolated (column names, `where` fragments); values are parameters.
    return f"""
INSERT INTO reports_provincedayrollup ({columns})
SELECT
    {sums},
    MAX(e.communes) + 1,
    COUNT(*),
    SUM(CASE WHEN r.late = {_TRUE} THEN 1 ELSE 0 END),
    MAX(e.communes),
    SUM(CASE WHEN r.commune_id IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN r.commune_id IS NOT NULL AND r.late = {_TRUE} THEN 1 ELSE 0 END),
    SUM(CASE WHEN r.support_needed = {_TRUE} THEN 1 ELSE 0 END),
    r.province_id, r.date, %s
FROM {_REPORT} r
JOIN (SELECT province_id, COUNT(*) AS communes FROM localities_commune GROUP BY province_id) e
  ON e.province_id = r.province_id
WHERE {where}
GROUP BY r.province_id, r.date
"""


def _nation_insert_sql(where):
    sums = ",\n    ".join(f"COALESCE(SUM({f}), 0)" for f in ROLLUP_FIELDS)
    columns = ", ".join([*ROLLUP_FIELDS, "date", "built_at"])
    return f"""
INSERT INTO reports_nationdayrollup ({columns})
SELECT {sums}, date, %s
FROM reports_provincedayrollup
WHERE {where}
GROUP BY date
"""


def _fill_missing_nation_expected(days):
    """Provinces with no report that day have no row; the national expected count must still include them."""
    from localities.models import Commune, Province

    provinces = Province.objects.count()
    communes = Commune.objects.count()
    NationDayRollup.objects.filter(date__in=days).update(
        localities_expected=provinces + communes, communes_expected=communes
    )


@transaction.atomic
def rollup_rebuild(*, province_id, day):
    """Rebuild one (province, day) and that day's nation row. Idempotent."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM reports_provincedayrollup WHERE province_id = %s AND date = %s", [province_id, day])
        cursor.execute(_province_insert_sql("r.province_id = %s AND r.date = %s"), [now, province_id, day])
        cursor.execute("DELETE FROM reports_nationdayrollup WHERE date = %s", [day])
        cursor.execute(_nation_insert_sql("date = %s"), [now, day])
    _fill_missing_nation_expected([day])
    RollupRequest.objects.filter(province_id=province_id, date=day, requested_at__lte=now).delete()


def rollup_rebuild_range(*, start, end, chunk_days=31, progress=None):
    """Rebuild every province and the nation from `start` to `end` (inclusive), one transaction per chunk
    of days. `progress(days_done)` is called after each chunk."""
    day = start
    while day <= end:
        last = min(end, day + datetime.timedelta(days=chunk_days - 1))
        _rebuild_chunk(day, last)
        if progress:
            progress((last - day).days + 1)
        day = last + datetime.timedelta(days=1)


@transaction.atomic
def _rebuild_chunk(first, last):
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM reports_provincedayrollup WHERE date BETWEEN %s AND %s", [first, last])
        cursor.execute(_province_insert_sql("r.date BETWEEN %s AND %s"), [now, first, last])
        cursor.execute("DELETE FROM reports_nationdayrollup WHERE date BETWEEN %s AND %s", [first, last])
        cursor.execute(_nation_insert_sql("date BETWEEN %s AND %s"), [now, first, last])
    days = [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]
    _fill_missing_nation_expected(days)
    RollupRequest.objects.filter(date__range=(first, last), requested_at__lte=now).delete()
