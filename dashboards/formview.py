"""The report form as the dashboards show it (DESIGN.md §11): the figures, totals and rates of the form version
in force on the day shown, read from rollup rows (or a commune's reports) by series. No figure is named here:
the version's indicators say which series they read (a renamed indicator continues its series under its new
label), its rates say what is derived, and an indicator the version dropped is not shown for its days.

A rollup row keeps the default form's series in its columns and a later version's own in its `extra` sums
(dashboards.rollups); `series_of` reads both, so the pages, charts and exports need no query to follow the form
(the versions are cached in the process: reports.formspec).
"""

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from dashboards.targets import chart_targets
from reports import formspec
from reports.figures import INTEGER_FIELDS, TEXT_FIELDS

_COLUMNS = frozenset(INTEGER_FIELDS)
_TEXT_COLUMNS = frozenset(TEXT_FIELDS)


def series_of(row: Any) -> dict[str, int]:
    """{series: value} of a rollup row, a `values()` dict of one, or a report: the default form's columns and the
    whole numbers of its `extra` (an empty mapping for None: a day nobody reported)."""
    if row is None:
        return {}
    if isinstance(row, Mapping):
        values = {f: int(row.get(f) or 0) for f in INTEGER_FIELDS}
        extra = row.get("extra")
    else:
        values = {f: int(getattr(row, f) or 0) for f in INTEGER_FIELDS}
        extra = getattr(row, "extra", None)
    for key, value in (extra or {}).items():
        if type(value) is int and key not in _COLUMNS:
            values[key] = value
    return values


def text_of(report: Any, series: str) -> str:
    """A report's text indicator of `series`: its column (a series of the default form) or its `extra` value."""
    if series in _TEXT_COLUMNS:
        return getattr(report, series) or ""
    value = (getattr(report, "extra", None) or {}).get(series)
    return value if isinstance(value, str) else ""


def added_series(spec: formspec.FormSpec) -> list[str]:
    """The series of the version's summed indicators kept outside the default form's columns (`extra`)."""
    return [i.series for i in spec.summed if i.series not in _COLUMNS]


def values_in(spec: formspec.FormSpec, series: Mapping[str, int]) -> dict[str, int]:
    """{indicator code: value} of the version's whole-number indicators, from {series: value}."""
    return {i.code: int(series.get(i.series) or 0) for i in spec.integers}


def derived(spec: formspec.FormSpec, series: Mapping[str, int]) -> dict[str, int | float | None]:
    """Every total and rate of the version over {series: value} (a rate is None on a zero denominator)."""
    return spec.derived(values_in(spec, series))


def figure_rows(spec: formspec.FormSpec, *columns: Mapping[str, int]) -> list[tuple[Any, ...]]:
    """(label, value in each column) of every summed indicator of the version, in its order (each column is a
    {series: value}: the day, the period…)."""
    return [(i.label, *(int(column.get(i.series) or 0) for column in columns)) for i in spec.summed]


def totals(spec: formspec.FormSpec) -> list[formspec.Rate]:
    """The version's totals: its rates without a denominator (the first is the dashboards' bar chart)."""
    return [r for r in spec.rates if r.denominator is None]


def ratios(spec: formspec.FormSpec) -> list[formspec.Rate]:
    return [r for r in spec.rates if r.denominator is not None]


def label_of(rate: formspec.Rate) -> str:
    """A rate's label in the active language, or its code when the form gives it none."""
    return rate.label or rate.code


@dataclass(frozen=True)
class Measure:
    """One total or rate of the version as a dashboard shows it: a card, a column, a chart."""

    code: str
    label: str
    percent: bool
    value: int | float | None
    period: int | float | None = None
    target: float | None = None

    @property
    def below_target(self) -> bool:
        return self.target is not None and self.value is not None and self.value < self.target

    @property
    def title(self) -> str:
        """The label, with the target it is held to (DESIGN.md §9's computed targets) when it has one."""
        if self.target is None:
            return self.label
        return _("%(label)s (target ≥ %(value)s%%)") % {"label": self.label, "value": f"{self.target * 100:.0f}"}


def rate_target(spec: formspec.FormSpec, rate: formspec.Rate) -> float | None:
    """The value a computed target (fixtures/targets.json) asks of this rate, when the target measures the same
    series over the same series (a renamed indicator keeps its series, so its target too); else None."""
    if rate.denominator is None:
        return None

    def series(expression: formspec.Expression) -> frozenset[str] | None:
        if " + ".join(expression.names) != " ".join(expression.text.split()):
            return None  # only a plain sum of figures can be a target's measure
        return frozenset(spec.by_code[n].series if n in spec.by_code else n for n in expression.names)

    key = (series(rate.numerator), series(rate.denominator))
    return chart_targets().get(key) if None not in key else None  # type: ignore[arg-type]


def measures(
    spec: formspec.FormSpec, day: Mapping[str, int] | None, period: Mapping[str, int] | None = None
) -> list[Measure]:
    """Every total, then every rate, of the version over the day's {series: value} (and the period's)."""
    today = derived(spec, day or {})
    over = derived(spec, period) if period is not None else {}
    return [
        Measure(
            code=r.code,
            label=label_of(r),
            percent=r.denominator is not None,
            value=today[r.code] if day is not None else None,
            period=over.get(r.code),
            target=rate_target(spec, r),
        )
        for r in [*totals(spec), *ratios(spec)]
    ]


def specs_by_day(days: Iterable[datetime.date]) -> dict[datetime.date, formspec.FormSpec]:
    """The version in force on each day (no query once the process knows the versions up to the last)."""
    return {day: formspec.spec_for_day(day) for day in days}
