"""The figures of one daily report (DESIGN.md §5), in one table: each figure's name, label, largest value and
the figure it may not exceed. The model's fields (checked against it at import) and its database constraint,
the validator, the browser form, the upload columns, the rollups, the exports and the OpenAPI schema are all
built from it."""

import functools
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.systems import SYSTEM_CODES, SYSTEMS

INTEGER_MAX = 1_000_000
TEXT_MAX = 2000


@dataclass(frozen=True)
class Figure:
    """An integer figure of the day (0 to `maximum`); `at_most` names the figure it may not exceed."""

    name: str
    label: Promise | str
    maximum: int = INTEGER_MAX
    at_most: str | None = None


# Integers >= 0, each for that day; pending_* are the stock at the end of the day. The order is the API's.
FIGURES = [
    Figure("received_online", _("received online")),
    Figure("received_direct", _("received at the desk")),
    Figure("received_postal", _("received by post")),
    Figure("received_fully_online", _("received fully online"), at_most="received_online"),
    Figure("resolved_early", _("resolved early")),
    Figure("resolved_on_time", _("resolved on time")),
    Figure("resolved_late", _("resolved late")),
    Figure("returned", _("returned")),
    Figure("pending_within_deadline", _("pending within deadline")),
    Figure("pending_overdue", _("pending overdue")),
    Figure("online_payments", _("online payments")),
    Figure("digitized_dossiers", _("digitised dossiers")),
    Figure("e_results_issued", _("electronic results issued")),
    Figure("staff_assigned", _("staff assigned")),
    Figure("staff_present", _("staff present"), at_most="staff_assigned"),
    Figure("staff_with_digital_signature", _("staff with a digital signature"), at_most="staff_assigned"),
    Figure("documents_issued", _("documents issued")),
    Figure("documents_e_signed", _("documents e-signed"), at_most="documents_issued"),
    Figure("outage_minutes", _("outage minutes"), maximum=24 * 60),  # minutes in a day
]
INTEGER_FIGURES = [(f.name, f.label) for f in FIGURES]  # (field name, label)
INTEGER_FIELDS = [f.name for f in FIGURES]
FIGURE_LABELS = dict(INTEGER_FIGURES)
FIGURE_MAX = {f.name: f.maximum for f in FIGURES}
OUTAGE_MINUTES_MAX = FIGURE_MAX["outage_minutes"]
# (smaller, larger): the first may not exceed the second.
LESS_OR_EQUAL = [(f.name, f.at_most) for f in FIGURES if f.at_most]


def figure_relations() -> Q:
    """The database's own check of the table: every `at_most` relation, and every maximum below INTEGER_MAX
    (reports.models.DailyReport's constraint; the validator says the same with codes and messages)."""
    checks = [Q(**{f"{small}__lte": F(large)}) for small, large in LESS_OR_EQUAL]
    checks += [Q(**{f"{f.name}__lte": f.maximum}) for f in FIGURES if f.maximum < INTEGER_MAX]
    return functools.reduce(operator.and_, checks)


# The systems a report may name as down: the one closed list of core.systems (blockers name them too).
OUTAGE_SYSTEMS = SYSTEMS
OUTAGE_SYSTEM_CODES = SYSTEM_CODES

TEXT_FIELDS = ["difficulties", "proposals"]
ALL_FIELDS = ["locality", "date", *INTEGER_FIELDS, "outage_systems", *TEXT_FIELDS, "support_needed"]


RECEIVED = ("received_online", "received_direct", "received_postal")
RESOLVED = ("resolved_early", "resolved_on_time", "resolved_late")
RATE_NAMES = ("online", "fully_online", "on_time")


def received_total(values: Mapping[str, int]) -> int:
    """Dossiers received: online + at the desk + by post (DESIGN.md §5)."""
    return sum(values[name] for name in RECEIVED)


def resolved_total(values: Mapping[str, int]) -> int:
    """Dossiers resolved: early + on time + late."""
    return sum(values[name] for name in RESOLVED)


def ratio(numerator: int | float, denominator: int | float) -> float | None:
    return None if not denominator else numerator / denominator


def rates(values: Mapping[str, int]) -> dict[str, Any]:
    """Totals and rates of a report or a rollup (a mapping with the integer figures); a rate is None on a
    zero denominator."""
    received, resolved = received_total(values), resolved_total(values)
    return {
        "received_total": received,
        "resolved_total": resolved,
        "online": ratio(values["received_online"], received),
        "fully_online": ratio(values["received_fully_online"], received),
        "on_time": ratio(values["resolved_early"] + values["resolved_on_time"], resolved),
    }


def rate_block(values: Mapping[str, int]) -> dict[str, float | None]:
    """The three rates of the dashboards' JSON (`online`, `fully_online`, `on_time`)."""
    derived = rates(values)
    return {name: derived[name] for name in RATE_NAMES}
