"""The data-quality row of the benchmark (DESIGN.md §7): the bands of every locality and indicator rebuilt
from the reports' history (reports.quality.bands_refresh: the locality's last N reported days within the
horizon, median and MAD by percentile_cont, the province's peers for short or flat series, the changed bands
written and the gone ones deleted in one transaction; timed from yesterday's bands, so it writes a day's
changes), against the floor: a bare SQL percentile query over the same rows, by the same method — each
locality's last N reported days within the horizon (a window sort) gathered into one array per figure, each
array's median and MAD (two small sorts) — written to a temporary table, without the province's peers, the
choice between them and the stored table, under the same session settings. Best of 3 each."""

import time


def _floor_sql() -> str:
    from django.conf import settings

    from reports.figures import INTEGER_FIELDS
    from reports.quality import STATS_SQL, unpivot_sql

    figures = ", ".join(f'r."{name}"' for name in INTEGER_FIELDS)
    arrays = ", ".join(f'array_agg(s."{name}") AS "{name}"' for name in INTEGER_FIELDS)
    return f"""
CREATE TEMPORARY TABLE bench_floor_bands AS
WITH src AS (
    SELECT r.locality, {figures}, row_number() OVER (PARTITION BY r.locality ORDER BY r.date DESC) AS rn
    FROM reports_dailyreport r
    WHERE r.date > %(start)s AND r.date <= %(as_of)s
),
own AS (
    SELECT s.locality, {arrays} FROM src s WHERE s.rn <= {settings.QUALITY_BAND_DAYS} GROUP BY s.locality
)
SELECT a.locality, v.indicator, st.med, st.mad
FROM own a {unpivot_sql("a")}
CROSS JOIN LATERAL ({STATS_SQL.format(values="v.value")}) st
"""


def _floor(params) -> tuple[float, int]:
    from django.db import connection, transaction

    from reports.quality import WORK_MEM

    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # As ours (reports.quality.bands_refresh): the same session settings that bear on this query's plan.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        cursor.execute("SET LOCAL enable_memoize = off")
        cursor.execute(_floor_sql(), params)
        cursor.execute("SELECT count(*) FROM bench_floor_bands")
        count = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_floor_bands")
    return time.perf_counter() - began, count


def _ours() -> tuple[float, int]:
    import datetime

    from django.utils import timezone

    from reports.quality import bands_refresh

    # The night's refresh: the stored bands are yesterday's (untimed), so the timed run writes a day's changes
    # rather than finding every band unchanged.
    today = timezone.localdate()
    bands_refresh(as_of=today - datetime.timedelta(days=1))
    began = time.perf_counter()
    stored = bands_refresh(as_of=today)
    return time.perf_counter() - began, stored


def quality_rows(row) -> None:
    from django.utils import timezone

    from reports.models import DailyReport
    from reports.quality import _window

    params = _window(timezone.localdate())
    rows = DailyReport.objects.filter(date__gt=params["start"], date__lte=params["as_of"]).count()
    ours = min((_ours() for _ in range(3)), key=lambda r: r[0])
    floor = min((_floor(params) for _ in range(3)), key=lambda r: r[0])
    row(
        "data-quality bands: every locality and indicator refreshed, best of 3",
        ours[0],
        floor[0],
        "≤ 1.5×",
        ours[0] <= 1.5 * floor[0],
        "s",
        f"{ours[1]:,} bands stored from {rows:,} reports in the horizon (floor: {floor[1]:,} own medians and MADs)",
    )
