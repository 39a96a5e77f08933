"""Data quality (DESIGN.md §11): each figure against its locality's usual range, the warnings it raises, and
what happens to them (explained by the clerk, corrected, confirmed by the province).

The band of a (locality, indicator) is median ± k × MAD over the locality's last N reported days (within a
horizon); a locality with fewer than MIN_DAYS of them, or a MAD of 0, takes the band of its province's
communes over the last N days (a province's own report has no peers: its own history only). A band with a
MAD of 0 even then is not stored: a flat series flags nothing.

The rule lives here in both its forms: `band_of` and `outliers` in Python (SQLite's refresh, the correction,
the tests), `_refresh_sql` and `outlier_sql` in SQL (PostgreSQL's refresh, and the submission's one statement
in reports.services). tests/reports/test_quality*.py check both against hand-computed figures. The bands are
those of the series of the form version in force (`series_in_force`); a warning rule's warning waits in the
same queue, its effect the gap to the rule's bound (`rule_gap`).

Bands are rebuilt by a set-based job: every locality nightly (reports.jobs, plan02.celery), one locality after
its correction. The POST only reads them.
"""

import datetime
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dates import parse_date_or_none
from core.text import echo
from reports import formspec
from reports.figures import FIGURE_LABELS, INTEGER_FIELDS, TEXT_MAX
from reports.models import ApiClient, DailyReport, QualityBand, QualityWarning
from tasks.roles import Role, Scope

OUTLIER = "outlier"
_LOCK = 7_302_017  # pg_advisory_xact_lock key of the bands' refresh
WORK_MEM = "64MB"  # the refresh's own (SET LOCAL): see bands_refresh


@dataclass(frozen=True)
class Band:
    median: float
    mad: float
    low: float
    high: float
    days: int
    source: str


def band_of(values: list[int], *, k: float | None = None) -> tuple[float, float, float, float]:
    """(median, MAD, low, high) of a series: median ± k × MAD, the low end never below 0."""
    k = settings.QUALITY_BAND_K if k is None else k
    median = float(statistics.median(values))
    mad = float(statistics.median([abs(v - median) for v in values]))
    return median, mad, max(0.0, median - k * mad), median + k * mad


def usable(days: int, mad: float) -> bool:
    return days >= settings.QUALITY_BAND_MIN_DAYS and mad > 0


def outliers(
    values: Mapping[str, Any],
    bands: Mapping[str, Band],
    *,
    skip: Iterable[str] = (),
    names: Mapping[str, str] | None = None,
) -> list[tuple[str, int, Band]]:
    """(indicator, value, band) of each figure outside its band: the default form's series in their order, then
    the whole numbers of `extra` (the series a later version added); `skip` names the series the report's form
    version does not have (reports.formspec: stored as 0, never judged). The indicator is named as the report's
    version names it (`names`: {series: code} of its renamed indicators, `renamed_series`)."""
    skipped = set(skip)
    names = names or {}
    extra = values.get("extra") or {}
    figures = [(name, values[name]) for name in INTEGER_FIELDS]
    figures += [(name, value) for name, value in extra.items() if type(value) is int]
    return [
        (names.get(name, name), value, bands[name])
        for name, value in figures
        if name in bands and name not in skipped and (value < bands[name].low or value > bands[name].high)
    ]


def figure_order(name: str, names: Mapping[str, str] | None = None) -> int:
    """The order of `outliers`: the default form's series first, then the added ones (`names`: {code: series}
    of a version's renamed indicators)."""
    return _ORDER.get((names or {}).get(name, name), len(_ORDER))


_ORDER = {name: i for i, name in enumerate(INTEGER_FIELDS)}


def renamed_series(version_id: int | None) -> dict[str, str]:
    """{series: indicator code} of the indicators this form version renamed (none for the default form): a
    warning names the figure as the report's version does, so the clerk explains it by the field it sent."""
    spec = formspec.spec_for_version(version_id)
    if formspec.is_default(spec):
        return {}
    return {i.series: i.code for i in spec.integers if i.series != i.code}


def dropped_series(version_id: int | None) -> list[str]:
    """The default form's series a report of this form version does not have (none for the default form)."""
    spec = formspec.spec_for_version(version_id)
    if formspec.is_default(spec):
        return []
    return [name for name in INTEGER_FIELDS if name not in spec.by_series]


def unpivot_sql(alias: str, names: Iterable[str] = INTEGER_FIELDS) -> str:
    """PostgreSQL: `CROSS JOIN LATERAL (VALUES ('received_online', x.received_online), …) v(indicator, value)`
    over a row with the integer figures (or the columns `names`: series codes, code constants)."""
    pairs = ", ".join(f"('{name}', {alias}.\"{name}\")" for name in names)
    return f"CROSS JOIN LATERAL (VALUES {pairs}) AS v(indicator, value)"


def report_unpivot_sql(alias: str) -> str:
    """PostgreSQL: `unpivot_sql` over a report row's integer columns, and the whole numbers of its `extra` (the
    series a later version added), as (indicator, value)."""
    pairs = ", ".join(f"('{name}', {alias}.\"{name}\"::bigint)" for name in INTEGER_FIELDS)
    source = f'jsonb_each({alias}."extra") e'
    extra = f"SELECT e.key, (e.value #>> '{{}}')::bigint FROM {source} WHERE jsonb_typeof(e.value) = 'number'"  # noqa: S608
    return f"CROSS JOIN LATERAL (VALUES {pairs} UNION ALL {extra}) AS v(indicator, value)"


def outlier_sql() -> str:
    """The same test as `outliers`, in SQL, for a value `v.value` and a band `b`."""
    return "(v.value < b.low OR v.value > b.high)"


def _label(series: str) -> str:
    return FIGURE_LABELS.get(series) or formspec.indicator_labels().get(series, series)


def warning_body(*, indicator: str, value: int, low: float, high: float) -> dict[str, Any]:
    """The `warnings` entry of an outlier (DESIGN.md §11)."""
    return {
        "code": OUTLIER,
        "indicator": indicator,
        "value": value,
        "expected": [round(low, 2), round(high, 2)],
        "message": _(
            "%(label)s: %(value)s is far from this locality's usual figures (expected %(low)s to %(high)s); "
            "explain it or correct the report."
        )
        % {"label": _label(indicator), "value": value, "low": f"{low:g}", "high": f"{high:g}"},
    }


# --- warning rules --------------------------------------------------------------------------------------------
# A broken warning rule of the form (formspec.Rule, severity "warning") waits in the same queue as an outlier.
# Its effect on the national total is how far the figure it names must move for the rule to hold (the gap to
# the rule's bound), when that figure adds up into the national total (an integer summed or a stock); its
# `expected` is the range the rule allows that figure, and its `median` the bound the gap is measured from.


@dataclass(frozen=True)
class RuleGap:
    effect: float
    low: float
    high: float
    bound: float


def _adds_up(indicator: formspec.Indicator | None) -> bool:
    return (
        indicator is not None
        and indicator.type == formspec.INTEGER
        and indicator.aggregation in (formspec.SUM, formspec.STOCK)
    )


def _as_number(value: Any) -> float:
    number = formspec._number(value)
    return float(number) if number is not None else 0.0


def rule_gap(
    rule: formspec.Rule, spec: formspec.FormSpec, values: Mapping[str, Any], *, median: float | None = None
) -> RuleGap:
    """The gap of a broken warning rule over a report's `values` ({indicator code: value}):
    - `compare` (left op right): the change of the named figure that makes both sides meet; with the figure
      alone on one side, |left − right| (`consultations ≤ 1000` at 1500: 500, expected [0, 1000]);
    - `only_when`: the figure should be empty: its value (expected [0, 0]);
    - `required_when`: the figure is missing: its usual size, the median of its band (`median`, when known).
    The effect is that gap when the named figure adds up into the national total, else 0."""
    indicator = spec.by_code.get(rule.field)
    value = _as_number(values.get(rule.field))
    lowest = float(indicator.minimum if indicator is not None and indicator.minimum is not None else 0)
    highest = float(
        indicator.maximum if indicator is not None and indicator.maximum is not None else formspec.INTEGER_MAX
    )
    if rule.kind == formspec.COMPARE:
        left, right = rule.left.value(values), rule.right.value(values)
        if left is None or right is None:
            return RuleGap(0.0, value, value, value)
        # How (left − right) moves when the named figure grows by one: +1 on the left, −1 on the right,
        # 0 when the rule does not name it (then the gap is the sides' own).
        moved = {**values, rule.field: int(value) + 1}
        ml, mr = rule.left.value(moved), rule.right.value(moved)
        slope = (ml - mr) - (left - right) if ml is not None and mr is not None else 0
        if not slope:
            gap = float(abs(left - right))
            return RuleGap(gap if _adds_up(indicator) else 0.0, value, value, value)
        gap = abs(left - right) / abs(slope)
        # The bound may lie beyond what the figure can be (other figures must move too): the range is then
        # the figure's end, and the gap stays the whole of it.
        bound = min(max(value - (left - right) / slope, lowest), highest)
        if rule.op == "=":
            low, high = bound, bound
        elif (rule.op == "<=") == (slope > 0):
            low, high = lowest, bound
        else:
            low, high = bound, highest
    elif rule.kind == formspec.ONLY_WHEN:
        bound, low, high, gap = 0.0, 0.0, 0.0, value
    else:  # REQUIRED_WHEN
        bound = float(median or 0.0)
        low, high, gap = max(lowest, 1.0), highest, bound
    return RuleGap(gap if _adds_up(indicator) else 0.0, low, high, bound)


def _rule_of(spec: formspec.FormSpec, warning: Mapping[str, Any]) -> formspec.Rule | None:
    for rule in spec.rules:
        if rule.severity == formspec.WARNING and rule.code == warning["code"] and rule.field == warning["indicator"]:
            return rule
    return None


def _rule_medians(
    items: Iterable[tuple[str, formspec.FormSpec, list[dict[str, Any]]]],
) -> dict[str, dict[str, Band]]:
    """The bands a `required_when` warning needs (the missing figure's usual size), in one query, only when
    there is such a warning."""
    wanted = {
        locality
        for locality, spec, found in items
        for warning in found
        if (rule := _rule_of(spec, warning)) is not None and rule.kind == formspec.REQUIRED_WHEN
    }
    return bands_for(wanted) if wanted else {}


def _rule_warning_fields(
    spec: formspec.FormSpec,
    values: Mapping[str, Any],
    warning: Mapping[str, Any],
    bands: Mapping[str, Band],
) -> dict[str, Any]:
    rule = _rule_of(spec, warning)
    indicator = spec.by_code.get(warning["indicator"])
    band = bands.get(indicator.series) if indicator is not None else None
    value = warning["value"] if type(warning["value"]) is int else 0
    if rule is None:
        gap = RuleGap(0.0, value, value, value)
    else:
        gap = rule_gap(rule, spec, values, median=band.median if band is not None else None)
    return {
        "value": value,
        "expected_low": gap.low,
        "expected_high": gap.high,
        "median": gap.bound,
        "effect": gap.effect,
    }


def rule_warnings_record(
    reports: Mapping[int, tuple[Mapping[str, Any], formspec.FormSpec, Mapping[str, Any], list[dict[str, Any]]]],
    *,
    now: datetime.datetime,
) -> None:
    """Store the warnings of the warning rules of newly inserted reports ({report id: (row with locality,
    province_id, commune_id, date; the report's version; its values by indicator code; its rules' `warnings`
    entries)}) as open quality warnings, with their effect on the national total (`rule_gap`). One statement
    (two when a `required_when` needs a band)."""
    bands = _rule_medians((row["locality"], spec, found) for row, spec, _values, found in reports.values())
    QualityWarning.objects.bulk_create(
        QualityWarning(
            report_id=report_id,
            locality=row["locality"],
            province_id=row["province_id"],
            commune_id=row["commune_id"],
            date=row["date"],
            code=warning["code"],
            indicator=warning["indicator"],
            created_at=now,
            **_rule_warning_fields(spec, values, warning, bands.get(row["locality"], {})),
        )
        for report_id, (row, spec, values, found) in reports.items()
        for warning in found
    )


def rule_warnings_recheck(
    *,
    report: DailyReport,
    spec: formspec.FormSpec,
    values: Mapping[str, Any],
    found: list[dict[str, Any]],
    user: Any = None,
    now: datetime.datetime,
) -> None:
    """After a correction (inside its transaction, the report row locked), the warning rules of the report's
    version judged again (`found`, the corrected report's rules' `warnings` entries): a warning whose rule now
    holds ends `corrected`; one still broken keeps its row (re-opened with the new value and gap when the value
    changed, else left as it was: an explanation of the same figure still stands); a newly broken rule opens a
    warning. Rows are never deleted: the report's warnings are its history."""
    existing = {(w.code, w.indicator): w for w in QualityWarning.objects.filter(report=report).exclude(code=OUTLIER)}
    current = {(w["code"], w["indicator"]): w for w in found}
    bands = _rule_medians([(report.locality, spec, found)]).get(report.locality, {})
    for key, warning in existing.items():
        if key in current:
            fields = _rule_warning_fields(spec, values, current[key], bands)
            if fields["value"] != warning.value or warning.state == QualityWarning.State.CORRECTED:
                for name, value in fields.items():
                    setattr(warning, name, value)
                warning.state, warning.closed_by, warning.closed_at = QualityWarning.State.OPEN, None, None
                warning.save()
        elif warning.state != QualityWarning.State.CORRECTED:
            warning.state, warning.closed_by, warning.closed_at = QualityWarning.State.CORRECTED, user, now
            warning.save(update_fields=["state", "closed_by", "closed_at"])
    new = [w for key, w in current.items() if key not in existing]
    if new:
        row = {
            "locality": report.locality,
            "province_id": report.province_id,
            "commune_id": report.commune_id,
            "date": report.date,
        }
        rule_warnings_record({report.pk: (row, spec, values, new)}, now=now)


# --- the bands' refresh -------------------------------------------------------------------------------------


def _window(as_of: datetime.date) -> dict[str, Any]:
    return {
        "as_of": as_of,
        "start": as_of - datetime.timedelta(days=settings.QUALITY_BAND_HORIZON_DAYS),
        "peer_start": as_of - datetime.timedelta(days=settings.QUALITY_BAND_DAYS),
        "n": settings.QUALITY_BAND_DAYS,
        "min": settings.QUALITY_BAND_MIN_DAYS,
        "k": settings.QUALITY_BAND_K,
    }


# The median and the MAD of one array of values: the median once (OFFSET 0 keeps it a subquery of its own, not
# recomputed inside the MAD's), then the median of the absolute deviations from it.
STATS_SQL = """SELECT m.med,
        (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(x - m.med)) FROM unnest({values}) x) AS mad
    FROM (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS med FROM unnest({values}) x OFFSET 0) m"""


@dataclass(frozen=True)
class Series:
    """One series the bands are computed for: an integer indicator of the version in force, by its series (a
    renamed indicator keeps its predecessor's), where a report stores it (`column`, or `extra` for an indicator
    added by a later version) and the versions in the window whose reports do not have it (their stored 0 is no
    figure: a report of such a version is left out of that series)."""

    name: str
    column: bool
    absent_in: tuple[int, ...] = ()

    @property
    def nullable(self) -> bool:
        return not self.column or bool(self.absent_in)

    def sql(self, alias: str) -> str:
        """Its value in a report row `alias` (NULL where the report has none); code constants only."""
        if not self.column:
            return (
                f"CASE WHEN jsonb_typeof({alias}.extra -> '{self.name}') = 'number' "
                f"THEN ({alias}.extra ->> '{self.name}')::bigint END"
            )
        if self.absent_in:
            ids = ", ".join(str(int(pk)) for pk in self.absent_in)
            return f'CASE WHEN {alias}.form_version_id IN ({ids}) THEN NULL ELSE {alias}."{self.name}" END'
        return f'{alias}."{self.name}"'

    def value(self, row: Mapping[str, Any]) -> int | None:
        """The same in Python, over a report's values ({column: value}, with `extra` and `form_version_id`)."""
        if not self.column:
            value = (row.get("extra") or {}).get(self.name)
            return value if type(value) is int else None
        if row.get("form_version_id") in self.absent_in:
            return None
        return row[self.name]


def series_in_force(as_of: datetime.date) -> list[Series]:
    """The series whose bands are refreshed as of `as_of`: the integer indicators of the form version in force
    that day (reports.formspec), by series. A series the version dropped has none; one it added (stored in
    `extra`) has one once its history is long enough; a renamed one continues its series."""
    horizon = as_of - datetime.timedelta(days=settings.QUALITY_BAND_HORIZON_DAYS)
    spec = formspec.spec_for_day(as_of)
    window = formspec.specs_between(horizon, as_of)
    columns = set(INTEGER_FIELDS)
    found = []
    for indicator in spec.integers:
        name = indicator.series
        absent = tuple(sorted(v.version_id for v in window if v.version_id is not None and name not in v.by_series))
        found.append(Series(name, name in columns, absent if name in columns else ()))
    return found


def _refresh_sql(*, one_locality: bool, series: list[Series] | None = None) -> str:
    """The bands in one statement.

    Each locality's last N reported days are found by N probes of the (locality, date) unique index (the day of
    its N-th last report), not by a sort of the window's reports; its reports from that day on, and each
    province's communes' reports of the last N days, are gathered into one array per series by hash aggregates
    (no sort of any value). Each (locality or province, series) array then gives its median and its MAD by two
    small sorts of its own values (`STATS_SQL`). The bands are written by one upsert that leaves unchanged rows
    alone, and the bands that are no more are deleted; the statement answers the number of bands."""
    series = series if series is not None else [Series(name, True) for name in INTEGER_FIELDS]
    names = [s.name for s in series]

    def arrays(alias: str) -> str:
        return ", ".join(
            f'array_agg({s.sql(alias)}) FILTER (WHERE {s.sql(alias)} IS NOT NULL) AS "{s.name}"'
            if s.nullable
            else f'array_agg({s.sql(alias)}) AS "{s.name}"'
            for s in series
        )

    if one_locality:
        localities = "SELECT %(locality)s::varchar AS locality"
        province_filter = "AND r.province_id = %(province)s"
        own_filter = "AND r.locality = %(locality)s"
        target_filter = "AND c.code = %(locality)s"
        stored = "(SELECT * FROM reports_qualityband WHERE locality = %(locality)s)"
    else:
        localities = "SELECT code AS locality FROM localities_commune UNION ALL SELECT code FROM localities_province"
        province_filter = target_filter = own_filter = ""
        stored = "reports_qualityband"
    in_window = "r.date > %(start)s AND r.date <= %(as_of)s"
    return f"""
WITH cut AS (
    -- The first day of each locality's last N reported days: its N-th last report's, or its first in the window.
    SELECT l.locality, COALESCE(
        (SELECT r.date FROM reports_dailyreport r WHERE r.locality = l.locality AND {in_window}
            ORDER BY r.date DESC OFFSET %(n)s - 1 LIMIT 1),
        (SELECT min(r.date) FROM reports_dailyreport r WHERE r.locality = l.locality AND {in_window})
    ) AS first_day
    FROM ({localities}) l
),
own_arrays AS (
    -- The last N reported days of each locality.
    SELECT r.locality, r.province_id, {arrays("r")}
    FROM reports_dailyreport r JOIN cut c ON c.locality = r.locality
    WHERE {in_window} AND r.date >= c.first_day
        AND r.date >= (SELECT min(first_day) FROM cut) {own_filter}
    GROUP BY r.locality, r.province_id
),
peer_arrays AS (
    -- The last N days of the province's communes.
    SELECT r.province_id, {arrays("r")}
    FROM reports_dailyreport r
    WHERE r.commune_id IS NOT NULL AND r.date > %(peer_start)s AND r.date <= %(as_of)s {province_filter}
    GROUP BY r.province_id
),
own_mad AS MATERIALIZED (
    -- Materialized: referenced once, it would be inlined into `chosen`, whose CASEs would compute it again.
    SELECT a.locality, a.province_id, v.indicator, cardinality(v.value) AS n, st.med, st.mad
    FROM own_arrays a {unpivot_sql("a", names)}
    CROSS JOIN LATERAL ({STATS_SQL.format(values="v.value")}) st
),
needed AS (
    -- The (province, series) whose peers some commune needs: its own band is short or flat, or it has no
    -- reports in the window. Only those peers' statistics are computed (two sorts of ~2,500 values each).
    SELECT DISTINCT o.province_id, o.indicator FROM own_mad o
    WHERE o.locality <> o.province_id AND NOT (o.n >= %(min)s AND o.mad > 0)
    UNION
    SELECT c.province_id, x.indicator FROM localities_commune c CROSS JOIN unnest(%(series)s::text[]) x(indicator)
    WHERE NOT EXISTS (SELECT 1 FROM own_arrays o WHERE o.locality = c.code) {target_filter}
),
peer_mad AS (
    SELECT a.province_id, v.indicator, cardinality(v.value) AS n, st.med, st.mad
    FROM peer_arrays a {unpivot_sql("a", names)}
    JOIN needed d ON d.province_id = a.province_id AND d.indicator = v.indicator
    CROSS JOIN LATERAL ({STATS_SQL.format(values="v.value")}) st
),
chosen AS (
    -- A locality with values of its own: its band when usable, else (a commune) its province's peers'.
    SELECT o.locality, o.province_id, o.indicator,
        CASE WHEN o.n >= %(min)s AND o.mad > 0 THEN 'own'
             WHEN o.locality <> o.province_id AND p.n >= %(min)s AND p.mad > 0 THEN 'peers' END AS source,
        o.med AS o_med, o.mad AS o_mad, o.n AS o_n, p.med AS p_med, p.mad AS p_mad, p.n AS p_n
    FROM own_mad o
    LEFT JOIN peer_mad p ON p.province_id = o.province_id AND p.indicator = o.indicator
    UNION ALL
    -- A commune without reports in the window: its province's peers'.
    SELECT c.code, c.province_id, p.indicator,
        CASE WHEN p.n >= %(min)s AND p.mad > 0 THEN 'peers' END,
        NULL, NULL, NULL, p.med, p.mad, p.n
    FROM localities_commune c
    JOIN peer_mad p ON p.province_id = c.province_id
    WHERE NOT EXISTS (SELECT 1 FROM own_arrays o WHERE o.locality = c.code) {target_filter}
),
band AS (
    SELECT locality, province_id, indicator, source, med, mad, n,
        greatest(0, med - %(k)s * mad) AS low, med + %(k)s * mad AS high
    FROM (
        SELECT locality, province_id, indicator, source,
            CASE source WHEN 'own' THEN o_med ELSE p_med END AS med,
            CASE source WHEN 'own' THEN o_mad ELSE p_mad END AS mad,
            CASE source WHEN 'own' THEN o_n ELSE p_n END AS n
        FROM chosen WHERE source IS NOT NULL
    ) b
),
diff AS (
    -- The bands against the stored ones, in one hash join: new or changed (written), or no more (deleted).
    -- Unchanged bands are not written again (most of a night's: a median moves seldom), nor even locked, as
    -- ON CONFLICT would lock each; computed_at says when a band last changed.
    SELECT b.*, q.id AS stale
    FROM band b FULL JOIN {stored} q ON q.locality = b.locality AND q.indicator = b.indicator
    WHERE b.locality IS NULL OR q.id IS NULL
        OR (q.province_id, q.median, q.mad, q.low, q.high, q.days, q.source)
            IS DISTINCT FROM (b.province_id, b.med, b.mad, b.low, b.high, b.n::integer, b.source)
),
written AS (
    INSERT INTO reports_qualityband AS q
        (locality, province_id, indicator, median, mad, low, high, days, source, computed_at)
    SELECT locality, province_id, indicator, med, mad, low, high, n, source, %(now)s
    FROM diff WHERE locality IS NOT NULL
    ON CONFLICT (locality, indicator) DO UPDATE SET
        province_id = EXCLUDED.province_id, median = EXCLUDED.median, mad = EXCLUDED.mad, low = EXCLUDED.low,
        high = EXCLUDED.high, days = EXCLUDED.days, source = EXCLUDED.source, computed_at = EXCLUDED.computed_at
    RETURNING 1
),
gone AS (
    DELETE FROM reports_qualityband q USING diff d WHERE d.locality IS NULL AND q.id = d.stale RETURNING 1
)
SELECT (SELECT count(*) FROM band), (SELECT count(*) FROM written), (SELECT count(*) FROM gone)
"""  # noqa: S608 - only column names and version ids (code constants) are interpolated


def _python_bands(
    params: Mapping[str, Any], *, locality: str | None, province: str | None, series: list[Series]
) -> list[QualityBand]:
    """SQLite's refresh: the same rule as _refresh_sql, in Python."""
    from localities.models import Commune

    reports = DailyReport.objects.filter(date__gt=params["start"], date__lte=params["as_of"])
    if province:
        reports = reports.filter(province_id=province)
    rows = reports.order_by("locality", "-date").values(
        "locality", "province_id", "commune_id", "date", "form_version_id", "extra", *INTEGER_FIELDS
    )
    own: dict[tuple[str, str], list[int]] = defaultdict(list)
    peers: dict[tuple[str, str], list[int]] = defaultdict(list)
    provinces: dict[str, str] = {}
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        code, province_id, day = row["locality"], row["province_id"], row["date"]
        provinces[code] = province_id
        counts[code] += 1
        for one in series:
            value = one.value(row)
            if value is None:
                continue  # a report whose version has no such figure
            if counts[code] <= params["n"]:
                own[(code, one.name)].append(value)
            if row["commune_id"] is not None and day > params["peer_start"]:
                peers[(province_id, one.name)].append(value)
    peer_bands = {key: (len(values), *band_of(values, k=params["k"])) for key, values in peers.items()}
    communes = Commune.objects.all()
    if province:
        communes = communes.filter(province_id=province)
    targets = {(code, name) for code, name in own}
    for code, province_id in communes.values_list("code", "province_id"):
        provinces[code] = province_id
        targets.update((code, name) for (p, name) in peer_bands if p == province_id)
    bands = []
    for code, name in sorted(targets):
        if locality and code != locality:
            continue
        province_id = provinces[code]
        chosen = None
        if (code, name) in own:
            values = own[(code, name)]
            median, mad, low, high = band_of(values, k=params["k"])
            if usable(len(values), mad):
                chosen = (median, mad, low, high, len(values), QualityBand.Source.OWN)
        peer = peer_bands.get((province_id, name))
        if chosen is None and code != province_id and peer is not None and usable(peer[0], peer[2]):
            n, median, mad, low, high = peer
            chosen = (median, mad, low, high, n, QualityBand.Source.PEERS)
        if chosen is not None:
            median, mad, low, high, n, source = chosen
            bands.append(
                QualityBand(
                    locality=code,
                    province_id=province_id,
                    indicator=name,
                    median=median,
                    mad=mad,
                    low=low,
                    high=high,
                    days=n,
                    source=source,
                    computed_at=params["now"],
                )
            )
    return bands


def bands_refresh(*, as_of: datetime.date | None = None, locality: str | None = None) -> int:
    """Rebuild the bands of every locality (or of one, after its correction) as of `as_of` (default today), for
    the series of the form version in force that day (`series_in_force`), in one transaction, so a crash or a
    second run leaves the same rows. On PostgreSQL one statement (percentile_cont) that writes only the new and
    changed bands and deletes those no more (SQLite deletes and re-inserts); an advisory lock serialises two
    refreshes (the nightly job and a correction's). Returns the number of bands stored."""
    as_of = as_of or timezone.localdate()
    params = {**_window(as_of), "now": timezone.now()}
    province = None
    if locality is not None:
        from reports.validation import lookup_localities

        found = lookup_localities([locality]).get(locality)
        if found is None:
            return 0
        province = found[0]
        params.update(locality=locality, province=province)
    series = series_in_force(as_of)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
                # The CTEs' row counts are guesses (1 row each for a fresh table's statistics): a nested loop
                # between the localities' statistics and the communes without values would then compare every
                # pair. Hash and merge joins only, for this transaction. Those guesses also put the statement's
                # cost far above its size, and PostgreSQL would spend longer compiling it (JIT, about 1.5 s on
                # the national dataset) than running it: no JIT for this transaction.
                cursor.execute("SET LOCAL enable_nestloop = off")
                cursor.execute("SET LOCAL jit = off")
                # Its hash tables and sorts (the national window: ~120,000 reports into arrays, 64,000 statistics,
                # 47,000 bands compared with the stored ones) fit in memory instead of spilling to disk.
                cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
                # Memoize would hash every array before its statistics, for few hits (the arrays are mostly
                # distinct); the joins of the statistics are hash joins, not merges of sorted copies.
                cursor.execute("SET LOCAL enable_memoize = off")
                cursor.execute("SET LOCAL enable_mergejoin = off")
                cursor.execute(
                    _refresh_sql(one_locality=locality is not None, series=series),
                    {**params, "series": [s.name for s in series]},
                )
                return cursor.fetchone()[0]
        stale = QualityBand.objects.all() if locality is None else QualityBand.objects.filter(locality=locality)
        stale._raw_delete(stale.db)
        bands = _python_bands(params, locality=locality, province=province, series=series)
        QualityBand.objects.bulk_create(bands, batch_size=2000)
        return len(bands)


def bands_for(localities: Iterable[str]) -> dict[str, dict[str, Band]]:
    """{locality: {indicator: Band}} of these localities, in one query."""
    found: dict[str, dict[str, Band]] = defaultdict(dict)
    rows = QualityBand.objects.filter(locality__in=set(localities)).values_list(
        "locality", "indicator", "median", "mad", "low", "high", "days", "source"
    )
    for code, name, median, mad, low, high, days, source in rows:
        found[code][name] = Band(median, mad, low, high, days, source)
    return found


# --- warnings ---------------------------------------------------------------------------------------------


def warnings_record(
    reports: Mapping[int, tuple[DailyReport | Mapping[str, Any], list[tuple[str, int, Band]]]],
    *,
    now: datetime.datetime,
) -> None:
    """Store the outliers of newly inserted reports ({report id: (row with locality, province_id, commune_id,
    date; outliers)}), one statement (SQLite's submission; PostgreSQL writes them in its own statement)."""
    rows = []
    for report_id, (row, found) in reports.items():
        get = row.get if isinstance(row, Mapping) else lambda name, r=row: getattr(r, name)
        for name, value, band in found:
            rows.append(
                QualityWarning(
                    report_id=report_id,
                    locality=get("locality"),
                    province_id=get("province_id"),
                    commune_id=get("commune_id"),
                    date=get("date"),
                    code=OUTLIER,
                    indicator=name,
                    value=value,
                    expected_low=band.low,
                    expected_high=band.high,
                    median=band.median,
                    effect=abs(value - band.median),
                    created_at=now,
                )
            )
    if rows:
        QualityWarning.objects.bulk_create(rows)


def warnings_recheck(*, report: DailyReport, user: Any = None, now: datetime.datetime) -> list[dict[str, Any]]:
    """After a correction (inside its transaction, the report row locked): a warning whose figure is now
    inside its band is `corrected`; a figure outside its band opens (or re-opens, when its value changed) a
    warning. Returns the `warnings` entries of the figures still or newly outside."""
    bands = bands_for([report.locality]).get(report.locality, {})
    values = {**report.figures(), "extra": report.extra}
    names = renamed_series(report.form_version_id)
    flat = {names.get(series, series): value for series, value in {**(report.extra or {}), **report.figures()}.items()}
    skip = dropped_series(report.form_version_id)
    found = {name: (value, band) for name, value, band in outliers(values, bands, skip=skip, names=names)}
    existing = {w.indicator: w for w in QualityWarning.objects.filter(report=report, code=OUTLIER)}
    for name, warning in existing.items():
        if name in found:
            value, band = found[name]
            if value != warning.value:
                warning.value, warning.expected_low, warning.expected_high = value, band.low, band.high
                warning.median, warning.effect = band.median, abs(value - band.median)
                warning.state, warning.closed_by, warning.closed_at = QualityWarning.State.OPEN, None, None
                warning.save()
        elif warning.state != QualityWarning.State.CORRECTED and flat.get(name) != warning.value:
            warning.state, warning.closed_by, warning.closed_at = QualityWarning.State.CORRECTED, user, now
            warning.save(update_fields=["state", "closed_by", "closed_at"])
    new = {name: found[name] for name in found if name not in existing}
    if new:
        warnings_record({report.pk: (report, [(n, v, b) for n, (v, b) in new.items()])}, now=now)
    return [warning_body(indicator=n, value=v, low=b.low, high=b.high) for n, (v, b) in found.items()]


def warning_as_dict(warning: QualityWarning) -> dict[str, Any]:
    """A warning in the API: the `warnings` entry and what happened to it."""
    return {
        "id": warning.pk,
        "locality": warning.locality,
        "province": warning.province_id,
        "date": warning.date.isoformat(),
        "code": warning.code,
        "indicator": warning.indicator,
        "value": warning.value,
        "expected": [round(warning.expected_low, 2), round(warning.expected_high, 2)],
        "median": round(warning.median, 2),
        "effect": round(warning.effect, 2),
        "state": warning.state,
        "explanation": warning.explanation,
        "explained_at": warning.explained_at.isoformat() if warning.explained_at else None,
        "follow_up": warning.follow_up,
        "closed_at": warning.closed_at.isoformat() if warning.closed_at else None,
    }


def _field_error(field: str, code: str, message: str) -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


class NotFound(Exception):
    """No such report (or not one the caller may see)."""


def may_explain(scope: Scope, *, province_id: str, commune_id: str | None) -> bool:
    """Who may submit or correct the report explains its figures (reports.services.may_submit): the clerk (or
    key) of the locality, its province (officer or key), or the national admin."""
    if scope.is_admin and not scope.is_api_client:
        return True
    return scope.may_act_for_locality(province_id=province_id, commune_id=commune_id)


def may_review(scope: Scope, *, province_id: str) -> bool:
    """Confirming a figure and flagging it for follow-up: the province's officers (or the national admin)."""
    if scope.is_api_client:
        return False
    return scope.is_admin or (scope.role == Role.PROVINCE_OFFICER and scope.province_id == province_id)


def warning_explain(
    *,
    locality: str,
    date: str | datetime.date,
    data: Any,
    scope: Scope,
    user: Any = None,
    client: ApiClient | None = None,
) -> QualityWarning:
    """The clerk's explanation of an open warning (`{"indicator", "text"}`). Raises NotFound, PermissionDenied
    or ValidationError (naming the field)."""
    day = parse_date_or_none(date) if isinstance(date, str | datetime.date) else None
    report = (
        DailyReport.objects.visible_to(scope)
        .filter(locality=locality, date=day)
        .only("pk", "province_id", "commune_id")
        .first()
        if day is not None
        else None
    )
    if report is None:
        raise NotFound
    if not may_explain(scope, province_id=report.province_id, commune_id=report.commune_id):
        raise PermissionDenied(_("You may not explain this locality's figures."))
    if not isinstance(data, dict):
        raise _field_error("non_field_errors", "invalid", _('Send {"indicator": …, "text": …}.'))
    unknown = sorted(set(data) - {"indicator", "text"})
    if unknown:
        raise _field_error(echo(unknown[0]), "unknown_field", _("Unknown field."))
    indicator, text = data.get("indicator"), data.get("text")
    if not isinstance(indicator, str) or not indicator:
        raise _field_error("indicator", "required", _("Name the figure you explain."))
    if not isinstance(text, str) or not text.strip():
        raise _field_error("text", "required", _("Write the explanation."))
    if len(text) > TEXT_MAX:
        raise _field_error("text", "too_long", _("At most %(max)s characters.") % {"max": TEXT_MAX})
    now = timezone.now()
    with transaction.atomic():
        warning = (
            QualityWarning.objects.select_for_update()
            .filter(report=report, indicator=indicator, state=QualityWarning.State.OPEN)
            .first()
        )
        if warning is None:
            raise _field_error("indicator", "no_open_warning", _("This figure has no open warning to explain."))
        warning.state = QualityWarning.State.EXPLAINED
        warning.explanation = text.strip()
        warning.explained_by = user if user is not None and getattr(user, "pk", None) else None
        warning.explained_client = client
        warning.explained_at = now
        warning.save(update_fields=["state", "explanation", "explained_by", "explained_client", "explained_at"])
    return warning


def warning_review(*, warning_id: int, action: str, user: Any, scope: Scope) -> QualityWarning:
    """The province's hand on a warning: `confirm` (the figure is right: the warning ends confirmed) or
    `follow_up` / `no_follow_up` (the flag). Raises NotFound, PermissionDenied or ValidationError."""
    warning = QualityWarning.objects.visible_to(scope).filter(pk=warning_id).first()
    if warning is None:
        raise NotFound
    if not may_review(scope, province_id=warning.province_id):
        raise PermissionDenied(_("Only the province's officers review its warnings."))
    now = timezone.now()
    with transaction.atomic():
        if action == "confirm":
            done = QualityWarning.objects.filter(
                pk=warning.pk, state__in=[QualityWarning.State.OPEN, QualityWarning.State.EXPLAINED]
            ).update(state=QualityWarning.State.CONFIRMED, closed_by=user, closed_at=now)
            if not done:
                raise _field_error("state", "not_open", _("Only an open or explained warning can be confirmed."))
        elif action in ("follow_up", "no_follow_up"):
            QualityWarning.objects.filter(pk=warning.pk).update(follow_up=action == "follow_up")
        else:
            raise _field_error("action", "invalid_choice", _("Unknown action."))
    warning.refresh_from_db()
    return warning


def warnings_queue(*, scope: Scope):
    """The quality queue the scope may see, biggest effect on the national total first."""
    return (
        QualityWarning.objects.visible_to(scope)
        .select_related("explained_by", "closed_by")
        .order_by("-effect", "-date", "locality", "indicator")
    )
