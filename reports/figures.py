"""The figures of one daily report of the default form (DESIGN.md §5), read from the default form's fixture
(reports/fixtures/default_form.json, through reports.formspec): each integer figure's name, label, largest
value and the figure it may not exceed, the choices, the text fields, and the rates. No figure is named here:
the fixture names them. The model's columns (checked against it at import) and its database constraint, the
validator, the browser form, the upload columns, the rollups, the exports and the OpenAPI schema of the
default form are built from it; a later version of the form (reports.formspec) adds its own indicators."""

import functools
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q
from django.utils.functional import Promise, lazy

from reports import formspec

INTEGER_MAX = formspec.INTEGER_MAX
TEXT_MAX = formspec.TEXT_MAX

DEFAULT = formspec.default_spec()


def _label(indicator: Any) -> Promise:
    """The indicator's label in the language active when it is shown."""
    return lazy(lambda: indicator.label, str)()


@dataclass(frozen=True)
class Figure:
    """An integer figure of the day (0 to `maximum`); `at_most` names the figure it may not exceed."""

    name: str
    label: Promise | str
    maximum: int = INTEGER_MAX
    at_most: str | None = None


# (smaller, larger): the first may not exceed the second — the default form's `≤` rules between two figures.
LESS_OR_EQUAL = [
    (rule.left.text, rule.right.text)
    for rule in DEFAULT.rules
    if rule.kind == formspec.COMPARE
    and rule.op == "<="
    and rule.severity == formspec.ERROR
    and rule.left.names == (rule.left.text,)
    and rule.right.names == (rule.right.text,)
]
_AT_MOST = dict(LESS_OR_EQUAL)

# Integers >= 0, each for that day; stocks (pending) at the end of the day. The order is the API's.
FIGURES = [
    Figure(i.code, _label(i), maximum=i.maximum if i.maximum is not None else INTEGER_MAX, at_most=_AT_MOST.get(i.code))
    for i in DEFAULT.integers
]
INTEGER_FIGURES = [(f.name, f.label) for f in FIGURES]  # (field name, label)
INTEGER_FIELDS = [f.name for f in FIGURES]
FIGURE_LABELS = dict(INTEGER_FIGURES)
FIGURE_MAX = {f.name: f.maximum for f in FIGURES}
# The largest bound below INTEGER_MAX among the figures: the minutes of a day (the outage figure).
OUTAGE_MINUTES_MAX = min(FIGURE_MAX.values())


def figure_relations() -> Q:
    """The database's own check of the default form: every `at_most` relation, and every maximum below
    INTEGER_MAX (reports.models.DailyReport's constraint, for the reports of the default form; the validator
    says the same with codes and messages)."""
    checks = [Q(**{f"{small}__lte": F(large)}) for small, large in LESS_OR_EQUAL]
    checks += [Q(**{f"{f.name}__lte": f.maximum}) for f in FIGURES if f.maximum < INTEGER_MAX]
    return functools.reduce(operator.and_, checks)


_CHOICES = next(i for i in DEFAULT.indicators if i.type == formspec.CHOICES)
CHOICES_FIELD = _CHOICES.code
OUTAGE_SYSTEMS = [(c.code, _label(c)) for c in _CHOICES.choices]
OUTAGE_SYSTEM_CODES = [code for code, _label in OUTAGE_SYSTEMS]

TEXT_FIELDS = [i.code for i in DEFAULT.indicators if i.type == formspec.TEXT]
YES_NO_FIELDS = [i.code for i in DEFAULT.indicators if i.type == formspec.YES_NO]
ALL_FIELDS = ["locality", "date", *(i.code for i in DEFAULT.indicators)]

_RATES = {rate.code: rate for rate in DEFAULT.rates}
# The totals (rates without a denominator) and the ratios of the default form, in the fixture's order.
TOTAL_NAMES = tuple(r.code for r in DEFAULT.rates if r.denominator is None)
RATE_NAMES = tuple(r.code for r in DEFAULT.rates if r.denominator is not None)
RECEIVED = _RATES[TOTAL_NAMES[0]].numerator.names
RESOLVED = _RATES[TOTAL_NAMES[1]].numerator.names


def received_total(values: Mapping[str, int]) -> int:
    """Dossiers received: online + at the desk + by post (DESIGN.md §5)."""
    return sum(values[name] for name in RECEIVED)


def resolved_total(values: Mapping[str, int]) -> int:
    """Dossiers resolved: early + on time + late."""
    return sum(values[name] for name in RESOLVED)


def ratio(numerator: int | float, denominator: int | float) -> float | None:
    return None if not denominator else numerator / denominator


def rates(values: Mapping[str, int]) -> dict[str, Any]:
    """Totals and rates of a report or a rollup (a mapping with the integer figures), from the default form's
    rate expressions; a rate is None on a zero denominator."""
    return DEFAULT.derived(values)


def rate_block(values: Mapping[str, int]) -> dict[str, float | None]:
    """The three rates of the dashboards' JSON (`online`, `fully_online`, `on_time`)."""
    derived = rates(values)
    return {name: derived[name] for name in RATE_NAMES}
