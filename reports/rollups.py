"""Rollups of daily reports: province/day and nation/day sums of every figure, completeness, and the list
of localities that have not reported.

- `rollup_request(*, province_id, day)` / `rollup_request_many(pairs)`: call inside the transaction that
  accepted or corrected reports; the rebuild is enqueued after commit (inline without a broker).
- `rollup_rebuild(*, province_id, day)`: one transaction that deletes and re-inserts the (province, day)
  rollup and missing list with INSERT … SELECT, then re-sums that day's nation row. Running it twice, or
  again after a crash, gives the same rows.
- `rollup_rebuild_range(*, start, end)`: the same for every province over a period, set-based, one
  transaction per chunk of days.
- `rollup_verify(*, start, end)`: recompute, compare with what is stored, record a RollupAlarm for each
  disagreement, then repair by rebuilding.

Rows exist for every (province, day) that was built, with zeros when nobody reported.
"""

import datetime
import logging

from django.db import connection, transaction
from django.utils import timezone

from reports.figures import INTEGER_FIELDS
from reports.rollup_models import MissingReport, NationDayRollup, ProvinceDayRollup, RollupAlarm, RollupRequest

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
# Portable SQL (PostgreSQL and SQLite). Only code constants are interpolated; values are parameters. The
# days of a rebuild are a derived table of parameters, so days without any report still get their rows.


def _days_sql(days):
    return "(" + " UNION ALL ".join(["SELECT %s AS day"] * len(days)) + ")"


def _province_select_sql(days, province_filter, *, built_at=False):
    sums = ",\n    ".join(f"COALESCE(SUM(r.{f}), 0)" for f in INTEGER_FIELDS)
    return f"""
SELECT
    {sums},
    COALESCE(MAX(e.communes), 0) + 1,
    COUNT(r.id),
    COALESCE(SUM(CASE WHEN r.late = TRUE THEN 1 ELSE 0 END), 0),
    COALESCE(MAX(e.communes), 0),
    COALESCE(SUM(CASE WHEN r.commune_id IS NOT NULL THEN 1 ELSE 0 END), 0),
    COALESCE(SUM(CASE WHEN r.commune_id IS NOT NULL AND r.late = TRUE THEN 1 ELSE 0 END), 0),
    COALESCE(SUM(CASE WHEN r.support_needed = TRUE THEN 1 ELSE 0 END), 0),
    p.code, d.day{", %s" if built_at else ""}
FROM localities_province p
CROSS JOIN {_days_sql(days)} d
LEFT JOIN (SELECT province_id, COUNT(*) AS communes FROM localities_commune GROUP BY province_id) e
  ON e.province_id = p.code
LEFT JOIN reports_dailyreport r ON r.province_id = p.code AND r.date = d.day
{province_filter}
GROUP BY p.code, d.day
"""


def _province_insert_sql(days, province_filter):
    columns = ", ".join([*ROLLUP_FIELDS, "province_id", "date", "built_at"])
    select = _province_select_sql(days, province_filter, built_at=True)
    return f"INSERT INTO reports_provincedayrollup ({columns})\n{select}"


def _missing_insert_sql(days, province_filter):
    return f"""
INSERT INTO reports_missingreport (date, province_id, locality)
SELECT d.day, l.province_id, l.code
FROM (SELECT code, province_id FROM localities_commune
      UNION ALL SELECT code, code AS province_id FROM localities_province) l
CROSS JOIN {_days_sql(days)} d
WHERE {province_filter or "1 = 1"}
  AND NOT EXISTS (SELECT 1 FROM reports_dailyreport r WHERE r.locality = l.code AND r.date = d.day)
"""


def _nation_insert_sql(days):
    sums = ", ".join(f"SUM({f})" for f in ROLLUP_FIELDS)
    columns = ", ".join([*ROLLUP_FIELDS, "date", "built_at"])
    marks = ", ".join(["%s"] * len(days))
    return f"""
INSERT INTO reports_nationdayrollup ({columns})
SELECT {sums}, date, %s
FROM reports_provincedayrollup
WHERE date IN ({marks})
GROUP BY date
"""


def _rebuild(days, province_id=None):
    """Delete and re-insert the rows of these days (one province or all) and the days' nation rows."""
    now = timezone.now()
    marks = ", ".join(["%s"] * len(days))
    scope, scope_params = ("AND province_id = %s", [province_id]) if province_id else ("", [])
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM reports_provincedayrollup WHERE date IN ({marks}) {scope}", [*days, *scope_params])
        cursor.execute(f"DELETE FROM reports_missingreport WHERE date IN ({marks}) {scope}", [*days, *scope_params])
        where = "WHERE p.code = %s" if province_id else ""
        cursor.execute(_province_insert_sql(days, where), [now, *days, *scope_params])
        missing_where = "l.province_id = %s" if province_id else ""
        cursor.execute(_missing_insert_sql(days, missing_where), [*days, *scope_params])
        cursor.execute(f"DELETE FROM reports_nationdayrollup WHERE date IN ({marks})", days)
        cursor.execute(_nation_insert_sql(days), [now, *days])
    return now


@transaction.atomic
def rollup_rebuild(*, province_id, day):
    """Rebuild one (province, day) and that day's nation row. Idempotent."""
    if not ProvinceDayRollup.objects.filter(date=day).exclude(province_id=province_id).exists():
        # First rollup of this day: build every province so the day's nation row covers all of them.
        started = _rebuild([day])
    else:
        started = _rebuild([day], province_id)
    RollupRequest.objects.filter(province_id=province_id, date=day, requested_at__lte=started).delete()


def _days(start, end):
    return [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]


def rollup_rebuild_range(*, start, end, chunk_days=31, progress=None):
    """Rebuild every province and the nation from `start` to `end` (inclusive), one transaction per chunk
    of days. `progress(days_done)` is called after each chunk."""
    all_days = _days(start, end)
    for i in range(0, len(all_days), chunk_days):
        chunk = all_days[i : i + chunk_days]
        with transaction.atomic():
            started = _rebuild(chunk)
            RollupRequest.objects.filter(date__in=chunk, requested_at__lte=started).delete()
        if progress:
            progress(len(chunk))


def rollup_catch_up(*, limit=500):
    """Rebuild the (province, day) pairs whose job never ran (broker down when they were requested)."""
    pairs = list(RollupRequest.objects.order_by("requested_at").values_list("province_id", "date")[:limit])
    for province_id, day in pairs:
        rollup_rebuild(province_id=province_id, day=day)
    return len(pairs)


def _fresh_rows(days):
    with connection.cursor() as cursor:
        cursor.execute(_province_select_sql(days, ""), days)
        rows = cursor.fetchall()
    fresh = {}
    for row in rows:
        province_id, day = row[-2], row[-1]
        if isinstance(day, str):
            day = datetime.date.fromisoformat(day)
        fresh[(province_id, day)] = dict(zip(ROLLUP_FIELDS, row[: len(ROLLUP_FIELDS)], strict=True))
    return fresh


def rollup_verify(*, start, end):
    """Compare stored province rollups of a window with a fresh computation; record an alarm for each
    (province, day) that differs or is missing, then rebuild the window. Returns the alarms created."""
    days = _days(start, end)
    fresh = _fresh_rows(days)
    stored = {
        (r["province_id"], r["date"]): r
        for r in ProvinceDayRollup.objects.filter(date__in=days).values("province_id", "date", *ROLLUP_FIELDS)
    }
    alarms = []
    for key, values in sorted(fresh.items()):
        have = stored.get(key)
        if have is None:
            differences = {"row": "missing"}
        else:
            differences = {f: {"stored": have[f], "fresh": values[f]} for f in ROLLUP_FIELDS if have[f] != values[f]}
        if differences:
            alarms.append(RollupAlarm(date=key[1], province_id=key[0], differences=differences))
    RollupAlarm.objects.bulk_create(alarms)
    if alarms:
        logger.error("rollup verification: %d (province, day) rollups disagreed with a fresh rebuild", len(alarms))
    rollup_rebuild_range(start=start, end=end)
    return alarms


def missing_for(day, province_id=None):
    qs = MissingReport.objects.filter(date=day)
    return qs.filter(province_id=province_id) if province_id else qs


def nation_row(day):
    return NationDayRollup.objects.filter(date=day).first()
