"""Rollups of daily reports: province/day and nation/day sums of every figure, completeness, and which
communes reported (a bitmap by commune slot, from which the dashboards list who has not reported).

- `rollup_rebuild(*, province_id, day)`: one transaction that deletes and re-inserts the (province, day)
  rollup with INSERT … SELECT, then re-sums that day's nation row (and the same for the approved figures,
  DESIGN.md §11). Running it twice, or again after a crash, gives the same rows.
- `rollup_rebuild_range(*, start, end)`: the same for every province over a period, set-based, one
  transaction per chunk of days.
- `rollup_catch_up()`: rebuild the (province, day) pairs whose request (reports.outbox) has waited too long.
- `rollup_verify(*, start, end)`: recompute, compare with what is stored, record a RollupAlarm for each
  disagreement (telling the admins), then repair by rebuilding.

Concurrency: rebuilds of the same day are serialised by a transaction-level advisory lock on the day
(PostgreSQL; SQLite serialises every writer anyway). Without it, two workers rebuilding two provinces of
one day both delete and re-insert that day's nation row — a duplicate key for one of them, and a nation
sum that misses the other's province. With it, a rebuild waits for the one before and reads its rows.

Rows exist for every (province, day) that was built, with zeros when nobody reported.
"""

import datetime
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from core.dates import parse_date
from dashboards import cache as dashboard_cache
from dashboards.locks import ROLLUP_DAY, lock_days
from dashboards.models import ProvinceDayRollup, RollupAlarm
from localities.models import BITS_PER_WORD, SLOT_WORDS, Commune, Province
from reports import formspec
from reports.completeness import expected_sql
from reports.figures import INTEGER_FIELDS
from reports.models import RollupRequest

logger = logging.getLogger(__name__)

COMPLETENESS_FIELDS = [
    "localities_expected",
    "localities_received",
    "localities_late",
    "communes_expected",
    "communes_received",
    "communes_late",
    "support_needed",
    "localities_approved",
]
ROLLUP_FIELDS = [*INTEGER_FIELDS, *COMPLETENESS_FIELDS]


# --- SQL ------------------------------------------------------------------------------------------------
# Portable SQL (PostgreSQL and SQLite); only code constants are interpolated, values are parameters.
# A rebuild of consecutive days (for one province or all) is:
#   1. one GROUP BY pass over the reports of those days: sums, completeness counts and the bitmap of the
#      communes that reported (each report carries its commune's slot, so no join per report);
#   2. zero rows for the (province, day) pairs nobody reported, so every built day has all its rows;
#   3. the nation rows, summed from the province rows.

REPORTED_FIELDS = [f"reported_{k}" for k in range(SLOT_WORDS)]
_PROVINCE_COLUMNS = ", ".join([*ROLLUP_FIELDS, *REPORTED_FIELDS, "province_id", "date", "built_at"])
_EXPECTED = "(SELECT province_id, COUNT(*) AS communes FROM localities_commune GROUP BY province_id)"


def _days_sql(days: list[datetime.date]) -> str:
    # A VALUES list, not a UNION ALL: SQLite refuses a compound SELECT of more than 500 terms (a rebuild
    # chunk is up to 731 days). Both databases name a VALUES list's column column1.
    return "(SELECT column1 AS day FROM (VALUES " + ", ".join(["(%s)"] * len(days)) + ") AS v)"


def _words_in_use() -> int:
    """How many bitmap words the communes' slots reach today (the highest slot's word, plus one): the rebuild
    computes only those and writes 0 into the others, so unused words cost nothing per report."""
    top = Commune.objects.aggregate(top=Max("slot"))["top"]
    return 0 if top is None else min(SLOT_WORDS, top // BITS_PER_WORD + 1)


# Up to this many words in use, the pass computes each word with its own expression per report (the cheapest
# way for a few words: one hash aggregate by (province, day)); past it, by (province, day, word) first.
DIRECT_WORDS = 6


def _grouped_sql(where: str, words: int) -> str:
    """Per (province, day): the sums, the counts and the bitmap words `reported_k`; one pass over the reports,
    no join. Only the first `words` words are computed (the others are 0): each costs an expression per report.
    Past DIRECT_WORDS words (a province with more than 372 communes: 10× the reporting units), the pass groups
    by (province, day, word) and ORs each report's bit into its word — one expression per report, whatever the
    number of words — and an outer level, over a few rows per (province, day), sums those groups and spreads
    the words into their columns."""
    counts = {
        "received": "COUNT(*)",
        "late": "COUNT(*) FILTER (WHERE r.late = TRUE)",
        "communes_received": "COUNT(r.commune_id)",
        "communes_late": "COUNT(r.commune_id) FILTER (WHERE r.late = TRUE)",
        "support_needed": "COUNT(*) FILTER (WHERE r.support_needed = TRUE)",
    }
    inner = ", ".join([*(f"SUM(r.{f}) AS {f}" for f in INTEGER_FIELDS), *(f"{e} AS {c}" for c, e in counts.items())])
    if words <= DIRECT_WORDS:
        reported = ", ".join(
            f"SUM(CASE WHEN r.slot / {BITS_PER_WORD} = {k} THEN CAST(1 AS BIGINT) << (r.slot %% {BITS_PER_WORD}) "
            f"ELSE 0 END) AS reported_{k}"
            if k < words
            else f"CAST(0 AS BIGINT) AS reported_{k}"
            for k in range(SLOT_WORDS)
        )
        return f"""
SELECT r.province_id, r.date, {inner}, {reported}
FROM reports_dailyreport r
WHERE {where}
GROUP BY r.province_id, r.date
"""
    # PostgreSQL: BIT_OR of bigints stays a bigint. SQLite has no BIT_OR; the slots of one (province, day) are
    # distinct, so SUM is the same OR there.
    bit_or = "BIT_OR" if connection.vendor == "postgresql" else "SUM"
    outer = ", ".join(f"SUM(w.{f}) AS {f}" for f in [*INTEGER_FIELDS, *counts])
    reported = ", ".join(
        f"COALESCE({bit_or}(CASE WHEN w.word = {k} THEN w.bits END), 0) AS reported_{k}"
        if k < words
        else f"CAST(0 AS BIGINT) AS reported_{k}"
        for k in range(SLOT_WORDS)
    )
    return f"""
SELECT w.province_id, w.date, {outer}, {reported}
FROM (
    SELECT r.province_id, r.date, r.slot / {BITS_PER_WORD} AS word,
        {bit_or}(CAST(1 AS BIGINT) << (r.slot %% {BITS_PER_WORD})) AS bits, {inner}
    FROM reports_dailyreport r
    WHERE {where}
    GROUP BY r.province_id, r.date, r.slot / {BITS_PER_WORD}
) w
GROUP BY w.province_id, w.date
"""


def _province_select_sql(where: str, words: int, *, built_at: bool = True) -> str:
    """The rollup values in _PROVINCE_COLUMNS order (built_at as a parameter when asked); `words`: the bitmap's
    words in use (_words_in_use)."""
    sums = ", ".join(f"g.{f}" for f in INTEGER_FIELDS)
    bitmap = ", ".join(f"g.{f}" for f in REPORTED_FIELDS)
    return f"""
SELECT {sums},
    {expected_sql("COALESCE(e.communes, 0)")}, g.received, g.late, COALESCE(e.communes, 0), g.communes_received,
    g.communes_late, g.support_needed,
    (SELECT COUNT(*) FROM reports_reportapproval a
        WHERE a.date = g.date AND a.province_id = g.province_id AND a.withdrawn_at IS NULL),
    {bitmap}, g.province_id, g.date{", %s" if built_at else ""}
FROM ({_grouped_sql(where, words)}) g
LEFT JOIN {_EXPECTED} e ON e.province_id = g.province_id
"""


def _zero_rows_sql(days: list[datetime.date], province_filter: str) -> str:
    zeros = ", ".join(["0"] * len(INTEGER_FIELDS))
    words = ", ".join(["0"] * SLOT_WORDS)
    return f"""
INSERT INTO reports_provincedayrollup ({_PROVINCE_COLUMNS})
SELECT {zeros}, {expected_sql("COALESCE(e.communes, 0)")}, 0, 0, COALESCE(e.communes, 0), 0, 0, 0, 0, {words}, p.code,
    d.day, %s
FROM localities_province p
CROSS JOIN {_days_sql(days)} d
LEFT JOIN {_EXPECTED} e ON e.province_id = p.code
WHERE {province_filter or "1 = 1"}
  AND NOT EXISTS (SELECT 1 FROM reports_provincedayrollup x WHERE x.province_id = p.code AND x.date = d.day)
"""


def _nation_insert_sql(where: str) -> str:
    sums = ", ".join(f"SUM({f})" for f in ROLLUP_FIELDS)
    columns = ", ".join([*ROLLUP_FIELDS, "date", "built_at"])
    return f"""
INSERT INTO reports_nationdayrollup ({columns})
SELECT {sums}, date, %s
FROM reports_provincedayrollup
WHERE {where}
GROUP BY date
"""


def _approved_sql(where: str) -> tuple[str, str]:
    """The approved figures (DESIGN.md §11): per (province, day), the sums of the reports with an approval in
    force, read from the approvals (few, and none for most of history) to their reports; then the nation rows."""
    columns = ", ".join([*INTEGER_FIELDS, "province_id", "date", "built_at"])
    # PostgreSQL: LATERAL, one primary-key read per approval (a plain join may hash every report of a long range
    # for a handful of approvals). SQLite has no LATERAL; its join reads by the primary key anyway.
    reports = (
        "CROSS JOIN LATERAL (SELECT * FROM reports_dailyreport x WHERE x.id = a.report_id) r"
        if connection.vendor == "postgresql"
        else "JOIN reports_dailyreport r ON r.id = a.report_id"
    )
    sums = ", ".join(f"SUM(r.{f})" for f in INTEGER_FIELDS)
    province = f"""
INSERT INTO dashboards_approvedprovincedayrollup ({columns})
SELECT {sums}, a.province_id, a.date, %s
FROM reports_reportapproval a
{reports}
WHERE a.withdrawn_at IS NULL AND {where}
GROUP BY a.province_id, a.date
"""
    nation = f"""
INSERT INTO dashboards_approvednationdayrollup ({", ".join([*INTEGER_FIELDS, "date", "built_at"])})
SELECT {", ".join(f"SUM({f})" for f in INTEGER_FIELDS)}, date, %s
FROM dashboards_approvedprovincedayrollup
WHERE date BETWEEN %s AND %s
GROUP BY date
"""
    return province, nation


def _rebuild_approved(
    cursor: Any, now: datetime.datetime, days: list[datetime.date], scope: list[Any], *, extra: bool
) -> None:
    first, last = days[0], days[-1]
    marks = ", ".join(["%s"] * len(scope))
    some = f"AND province_id IN ({marks})" if scope else ""
    cursor.execute(
        f"DELETE FROM dashboards_approvedprovincedayrollup WHERE date BETWEEN %s AND %s {some}", [first, last, *scope]
    )
    province, nation = _approved_sql("a.date BETWEEN %s AND %s" + (f" AND a.province_id IN ({marks})" if scope else ""))
    cursor.execute(province, [now, first, last, *scope])
    if extra:
        cursor.execute(_approved_extra_province_sql(some), [first, last, *scope])
    cursor.execute("DELETE FROM dashboards_approvednationdayrollup WHERE date BETWEEN %s AND %s", [first, last])
    cursor.execute(nation, [now, first, last])
    if extra:
        span = "date BETWEEN %s AND %s"
        cursor.execute(
            _extra_nation_sql(
                span, source="dashboards_approvedprovincedayrollup", target="dashboards_approvednationdayrollup"
            ),
            [first, last],
        )


def _approved_extra_province_sql(some: str) -> str:
    """The approved province rows' `extra`: the `extra` indicators of the reports with an approval in force,
    summed per key (as _extra_province_sql sums every report's), read from the approvals to their reports."""
    if connection.vendor == "postgresql":
        return f"""
UPDATE dashboards_approvedprovincedayrollup p SET extra = s.extra
FROM (
    SELECT province_id, date, jsonb_object_agg(key, total) AS extra FROM (
        SELECT a.province_id, a.date, e.key, SUM((e.value #>> '{{}}')::numeric)::bigint AS total
        FROM reports_reportapproval a
        CROSS JOIN LATERAL (SELECT x.extra FROM reports_dailyreport x WHERE x.id = a.report_id) r
        CROSS JOIN LATERAL jsonb_each(r.extra) e
        WHERE a.withdrawn_at IS NULL AND a.date BETWEEN %s AND %s {some.replace("province_id", "a.province_id")}
            AND r.extra IS NOT NULL AND jsonb_typeof(e.value) = 'number'
        GROUP BY a.province_id, a.date, e.key
    ) k GROUP BY province_id, date
) s
WHERE p.province_id = s.province_id AND p.date = s.date
"""
    return f"""
UPDATE dashboards_approvedprovincedayrollup SET extra = COALESCE((
    SELECT json_group_object(k.key, k.total) FROM (
        SELECT e.key AS key, SUM(e.value) AS total
        FROM reports_reportapproval a JOIN reports_dailyreport r ON r.id = a.report_id, json_each(r.extra) e
        WHERE a.province_id = dashboards_approvedprovincedayrollup.province_id
            AND a.date = dashboards_approvedprovincedayrollup.date AND a.withdrawn_at IS NULL
            AND r.extra IS NOT NULL AND e.type = 'integer'
        GROUP BY e.key
    ) k
), '{{}}')
WHERE date BETWEEN %s AND %s {some}
"""


def _extra_province_sql(span: str, some: str) -> str:
    """Sum the `extra` indicators of the reports (those of a form version that are no series of the default
    form, reports.formspec) per key into the province rows of the days: one set-based statement, numbers only
    (texts, lists and yes/no values are not summed)."""
    if connection.vendor == "postgresql":
        return f"""
UPDATE reports_provincedayrollup p SET extra = s.extra
FROM (
    SELECT province_id, date, jsonb_object_agg(key, total) AS extra FROM (
        SELECT r.province_id, r.date, e.key, SUM((e.value #>> '{{}}')::numeric)::bigint AS total
        FROM reports_dailyreport r CROSS JOIN LATERAL jsonb_each(r.extra) e
        WHERE r.{span} {some.replace("province_id", "r.province_id")} AND r.extra IS NOT NULL
            AND jsonb_typeof(e.value) = 'number'
        GROUP BY r.province_id, r.date, e.key
    ) k GROUP BY province_id, date
) s
WHERE p.province_id = s.province_id AND p.date = s.date
"""
    return f"""
UPDATE reports_provincedayrollup SET extra = COALESCE((
    SELECT json_group_object(k.key, k.total) FROM (
        SELECT e.key AS key, SUM(e.value) AS total
        FROM reports_dailyreport r, json_each(r.extra) e
        WHERE r.province_id = reports_provincedayrollup.province_id AND r.date = reports_provincedayrollup.date
            AND r.extra IS NOT NULL AND e.type = 'integer'
        GROUP BY e.key
    ) k
), '{{}}')
WHERE {span} {some}
"""


def _extra_nation_sql(
    span: str, *, source: str = "reports_provincedayrollup", target: str = "reports_nationdayrollup"
) -> str:
    """The nation rows' `extra`: the province rows' summed per key (of all reports, or of the approved ones:
    `source` and `target` are the table names, code constants)."""
    if connection.vendor == "postgresql":
        return f"""
UPDATE {target} n SET extra = s.extra
FROM (
    SELECT date, jsonb_object_agg(key, total) AS extra FROM (
        SELECT p.date, e.key, SUM((e.value #>> '{{}}')::numeric)::bigint AS total
        FROM {source} p CROSS JOIN LATERAL jsonb_each(p.extra) e
        WHERE p.{span} AND jsonb_typeof(e.value) = 'number'
        GROUP BY p.date, e.key
    ) k GROUP BY date
) s
WHERE n.date = s.date
"""
    return f"""
UPDATE {target} SET extra = COALESCE((
    SELECT json_group_object(k.key, k.total) FROM (
        SELECT e.key AS key, SUM(e.value) AS total
        FROM {source} p, json_each(p.extra) e
        WHERE p.date = {target}.date AND e.type = 'integer'
        GROUP BY e.key
    ) k
), '{{}}')
WHERE {span}
"""


def _rebuild(days: list[datetime.date], provinces: list[str] | None = None) -> None:
    """Delete and re-insert the rollups of these consecutive days (some provinces, or all) and the days'
    nation rows."""
    now = timezone.now()
    first, last = days[0], days[-1]
    span = "date BETWEEN %s AND %s"
    scope: list[Any] = list(provinces or [])
    marks = ", ".join(["%s"] * len(scope))
    with connection.cursor() as cursor:
        some = f"AND province_id IN ({marks})" if scope else ""
        cursor.execute(f"DELETE FROM reports_provincedayrollup WHERE {span} {some}", [first, last, *scope])
        where = "r.date BETWEEN %s AND %s" + (f" AND r.province_id IN ({marks})" if scope else "")
        words = _words_in_use()
        select, params = _province_select_sql(where, words), [now, first, last, *scope]
        if scope:
            cursor.execute(f"INSERT INTO reports_provincedayrollup ({_PROVINCE_COLUMNS})\n{select}", params)
        else:
            # PostgreSQL never runs the query of an INSERT … SELECT in parallel, but does for CREATE TABLE AS:
            # over a long period the GROUP BY pass is about twice as fast through a temporary table.
            postgres = connection.vendor == "postgresql"
            if postgres:
                # Without JIT: compiling this pass's expressions took 0.2–0.45 s of a 1.5 s national rebuild
                # (EXPLAIN ANALYZE, 510 days). Past DIRECT_WORDS words, the (province, day, word) groups are
                # hashed: the planner overestimates them tenfold (it cannot know that a province's slots fill
                # its first words) and would sort every report instead, spilling to disk.
                cursor.execute("SET LOCAL jit = off")
                if words > DIRECT_WORDS:
                    cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute(f"CREATE TEMPORARY TABLE rollup_rebuild_tmp AS {select}", params)
            if postgres:
                cursor.execute("SET LOCAL jit TO DEFAULT")
                cursor.execute("SET LOCAL enable_sort TO DEFAULT")
            cursor.execute(
                f"INSERT INTO reports_provincedayrollup ({_PROVINCE_COLUMNS}) SELECT * FROM rollup_rebuild_tmp"
            )
            cursor.execute("DROP TABLE rollup_rebuild_tmp")
        cursor.execute(_zero_rows_sql(days, f"p.code IN ({marks})" if scope else ""), [now, *days, *scope])
        # Only days under a version with indicators of its own have `extra` values to sum: the default form's
        # days cost no second pass over the reports.
        extra = formspec.has_extra_between(first, last)
        if extra:
            cursor.execute(_extra_province_sql(span, some), [first, last, *scope])
        cursor.execute(f"DELETE FROM reports_nationdayrollup WHERE {span}", [first, last])
        cursor.execute(_nation_insert_sql(span), [now, first, last])
        if extra:
            cursor.execute(_extra_nation_sql(span), [first, last])
        _rebuild_approved(cursor, now, days, scope, extra=extra)
    dashboard_cache.invalidate()  # in this transaction: the new generation is visible with the new rows


def reported_slots(row: Any) -> set[int]:
    """The slots of the communes that reported, from a ProvinceDayRollup (or a dict with its fields)."""
    slots = set()
    for k, field in enumerate(REPORTED_FIELDS):
        word = row.get(field, 0) if isinstance(row, dict) else getattr(row, field)
        while word:  # one step per bit set (most words are 0: a province's communes fill its first words)
            low = word & -word
            slots.add(k * BITS_PER_WORD + low.bit_length() - 1)
            word ^= low
    return slots


def missing_localities(rows: Iterable[Any], communes: dict[str, list[tuple[int, str]]]) -> list[tuple[str, str]]:
    """(province code, locality code) of who has not reported, from province rollups of one day.

    `communes`: {province code: [(slot, commune code), ...]}; a province without a row has nobody reported.
    """
    by_province = {r.province_id: r for r in rows}
    result = []
    for province_id in sorted(communes):
        row = by_province.get(province_id)
        seen = reported_slots(row) if row else set()
        if row is None or row.localities_received == row.communes_received:
            result.append((province_id, province_id))  # the province's own report is missing
        result.extend((province_id, code) for slot, code in communes[province_id] if slot not in seen)
    return result


def communes_by_slot(province_id: str | None = None) -> dict[str, list[tuple[int, str]]]:
    """{province code: [(slot, commune code), ...]} for decoding the bitmaps (one province, or all)."""
    provinces = Province.objects.filter(code=province_id) if province_id else Province.objects.all()
    result: dict[str, list[tuple[int, str]]] = {code: [] for code in provinces.values_list("code", flat=True)}
    communes = Commune.objects.filter(province_id__in=list(result)) if province_id else Commune.objects.all()
    for province, slot, code in communes.order_by("province_id", "code").values_list("province_id", "slot", "code"):
        result[province].append((slot, code))
    return result


def rollup_rebuild(*, province_id: str, day: datetime.date, only_if_requested: bool = False) -> int:
    """Rebuild one (province, day), the other provinces of that day whose rebuild is pending too, and the
    day's nation row. Idempotent.

    The job of one province takes the day's pending requests with it: when the 34 provinces post at once, the
    first job to get the day's lock rebuilds every province requested so far in one pass, and the jobs that
    waited behind it find their request gone and stop. With `only_if_requested` (the job), nothing is done
    when this province's request is no longer pending: an earlier job took it, and its rebuild included
    every report committed before it started. Returns the number of pending requests it took (0: none)."""
    with transaction.atomic():
        lock_days(ROLLUP_DAY, [day])
        if connection.vendor != "postgresql":
            taken = _take_requests(day)
        else:
            # The requests are read, not locked: a report committed while this rebuild aggregates upserts its
            # request without waiting for it (at 08:00 every report of the day would queue behind each rebuild).
            # The snapshot taken first decides which requests this rebuild answers: those whose last writer it
            # saw, whose reports every statement below reads; they are deleted at the end, and any other stays
            # for the next rebuild. No clock is compared across the machines that write requests and rebuild.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_current_snapshot()::text")
                snapshot = cursor.fetchone()[0]
                cursor.execute("SELECT DISTINCT province_id FROM reports_rolluprequest WHERE date = %s", [day])
                taken = sorted(row[0] for row in cursor.fetchall())
        if only_if_requested and not taken:
            return 0
        # A job whose own request an earlier job took still rebuilds what it has just taken: requests of
        # reports committed since that job began, whose own jobs will find them gone.
        provinces = taken if only_if_requested else sorted({province_id, *taken})
        if not ProvinceDayRollup.objects.filter(date=day).exclude(province_id__in=provinces).exists():
            # First rollup of this day: build every province so the day's nation row covers all of them.
            _rebuild([day])
        else:
            _rebuild([day], provinces)
        if connection.vendor == "postgresql" and taken:
            with connection.cursor() as cursor:
                cursor.execute(
                    "DELETE FROM reports_rolluprequest WHERE date = %s AND province_id = ANY(%s) "
                    "AND (txid IS NULL OR txid = txid_current_if_assigned() "  # its own writes are visible too
                    "OR pg_visible_in_snapshot(txid::text::xid8, %s::pg_snapshot))",
                    [day, taken, snapshot],
                )
    return len(taken)


def _take_requests(day: datetime.date) -> list[str]:
    """SQLite (one writer at a time): the day's requests, deleted before the rebuild reads the reports."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM reports_rolluprequest WHERE date = %s RETURNING province_id", [day])
        return sorted({row[0] for row in cursor.fetchall()})


def _days(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    return [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]


def rollup_rebuild_range(
    *,
    start: datetime.date,
    end: datetime.date,
    chunk_days: int = 731,
    progress: Callable[[int], Any] | None = None,
) -> None:
    """Rebuild every province and the nation from `start` to `end` (inclusive), one transaction per chunk
    of days (two years: one GROUP BY pass over the reports is cheaper than several, and the work is done in
    the database, not in this process's memory). `progress(days_done)` is called after each chunk."""
    all_days = _days(start, end)
    for i in range(0, len(all_days), chunk_days):
        chunk = all_days[i : i + chunk_days]
        with transaction.atomic():
            lock_days(ROLLUP_DAY, chunk)
            RollupRequest.objects.filter(date__range=(chunk[0], chunk[-1])).delete()
            _rebuild(chunk)
        if progress:
            progress(len(chunk))


# A request waits this long for the job queued with it before the catch-up takes it over: the job's delay
# (ROLLUP_DELAY) plus a queue under load. A request that waited longer lost its job (the broker was down,
# the worker was killed, the job failed): the catch-up, every 5 minutes on the beat, rebuilds it.
CATCH_UP_AFTER = datetime.timedelta(minutes=2)


def pending_pairs(
    *, older_than: datetime.timedelta | None = CATCH_UP_AFTER, limit: int | None = None
) -> list[tuple[str, datetime.date]]:
    """(province code, date) of the pending requests, oldest first (those older than `older_than`)."""
    pending = RollupRequest.objects.order_by("requested_at")
    if older_than is not None:
        pending = pending.filter(requested_at__lt=timezone.now() - older_than)
    pairs = pending.values_list("province_id", "date")
    return list(pairs[:limit] if limit else pairs)


def rollup_catch_up(*, older_than: datetime.timedelta | None = CATCH_UP_AFTER, limit: int | None = 500) -> int:
    """Rebuild the pending (province, day) pairs whose job never ran, or all pending ones (`older_than=None`,
    `manage.py rollup --pending`). Returns the number of requests taken."""
    done = 0
    for province_id, day in pending_pairs(older_than=older_than, limit=limit):
        done += rollup_rebuild(province_id=province_id, day=day, only_if_requested=True)
    return done


def _fresh_rows(days: list[datetime.date]) -> dict[tuple[str, datetime.date], dict[str, Any]]:
    with connection.cursor() as cursor:
        select = _province_select_sql("r.date BETWEEN %s AND %s", _words_in_use(), built_at=False)
        cursor.execute(select, [days[0], days[-1]])
        rows = cursor.fetchall()
    fresh = {}
    for row in rows:
        province_id, day = row[-2], row[-1]
        if isinstance(day, str):
            day = parse_date(day)
        fields = [*ROLLUP_FIELDS, *REPORTED_FIELDS]
        fresh[(province_id, day)] = dict(zip(fields, row[: len(fields)], strict=True))
    return fresh


def _fresh_extra(days: list[datetime.date]) -> dict[tuple[str, datetime.date], dict[str, int]]:
    """The `extra` sums of the province rows of these days, computed afresh from the reports (empty when no
    day is under a version with indicators of its own)."""
    if not formspec.has_extra_between(days[0], days[-1]):
        return {}
    if connection.vendor == "postgresql":
        sql = (
            "SELECT r.province_id, r.date, e.key, SUM((e.value #>> '{}')::numeric)::bigint "
            "FROM reports_dailyreport r CROSS JOIN LATERAL jsonb_each(r.extra) e "
            "WHERE r.date BETWEEN %s AND %s AND r.extra IS NOT NULL AND jsonb_typeof(e.value) = 'number' "
            "GROUP BY 1, 2, 3"
        )
    else:
        sql = (
            "SELECT r.province_id, r.date, e.key, SUM(e.value) FROM reports_dailyreport r, json_each(r.extra) e "
            "WHERE r.date BETWEEN %s AND %s AND r.extra IS NOT NULL AND e.type = 'integer' GROUP BY 1, 2, 3"
        )
    found: dict[tuple[str, datetime.date], dict[str, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [days[0], days[-1]])
        for province_id, day, key, total in cursor.fetchall():
            day = parse_date(day) if isinstance(day, str) else day
            found.setdefault((province_id, day), {})[key] = int(total)
    return found


def rollup_verify(*, start: datetime.date, end: datetime.date) -> list[RollupAlarm]:
    """Compare stored province rollups of a window with a fresh computation; record an alarm for each
    (province, day) that differs or is missing, tell the admins (an ERROR log line, mailed to ADMINS), then
    rebuild the window. Pairs whose
    rebuild is still pending are skipped: they are expected to differ until their job runs."""
    days = _days(start, end)
    pending = set(RollupRequest.objects.filter(date__range=(start, end)).values_list("province_id", "date"))
    fresh = _fresh_rows(days)
    extra = _fresh_extra(days)
    stored = {
        (r["province_id"], r["date"]): r
        for r in ProvinceDayRollup.objects.filter(date__in=days).values(
            "province_id", "date", *ROLLUP_FIELDS, *REPORTED_FIELDS, "extra"
        )
    }
    alarms = []
    for key in sorted((set(fresh) | set(stored)) - pending):
        have, values = stored.get(key), fresh.get(key)
        if have is None:
            differences: dict[str, Any] = {"row": "missing"}
        elif values is None:  # nobody reported: only a row of zeros is right
            differences = {f: {"stored": have[f], "fresh": 0} for f in INTEGER_FIELDS if have[f]}
            if have["localities_received"]:
                differences["localities_received"] = {"stored": have["localities_received"], "fresh": 0}
        else:
            differences = {f: {"stored": have[f], "fresh": values[f]} for f, v in values.items() if have[f] != v}
        if have is not None and (have["extra"] or {}) != extra.get(key, {}):
            differences["extra"] = {"stored": have["extra"] or {}, "fresh": extra.get(key, {})}
        if differences:
            alarms.append(RollupAlarm(date=key[1], province_id=key[0], differences=differences))
    RollupAlarm.objects.bulk_create(alarms)
    if alarms:
        transaction.on_commit(dashboard_cache.invalidate)  # an admin's page counts the open alarms at once
        # ERROR reaches the admins (settings.LOGGING mails the project's errors to ADMINS).
        lines = [f"{a.date} {a.province_id}: {', '.join(sorted(a.differences))}" for a in alarms]
        logger.error(
            "rollup verification: %d (province, day) rollups disagreed with a fresh rebuild (repaired):\n%s",
            len(alarms),
            "\n".join(lines),
        )
    rollup_rebuild_range(start=start, end=end)
    return alarms
