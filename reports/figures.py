"""The figures of one daily report (DESIGN.md §5), in one place: models, validation, rollups, exports and
the OpenAPI schema are all built from these lists."""

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

# (field name, label) — integers >= 0, each for that day; pending_* are the stock at the end of the day.
INTEGER_FIGURES = [
    ("received_online", _("received online")),
    ("received_direct", _("received at the desk")),
    ("received_postal", _("received by post")),
    ("received_fully_online", _("received fully online")),
    ("resolved_early", _("resolved early")),
    ("resolved_on_time", _("resolved on time")),
    ("resolved_late", _("resolved late")),
    ("returned", _("returned")),
    ("pending_within_deadline", _("pending within deadline")),
    ("pending_overdue", _("pending overdue")),
    ("online_payments", _("online payments")),
    ("digitized_dossiers", _("digitised dossiers")),
    ("e_results_issued", _("electronic results issued")),
    ("staff_assigned", _("staff assigned")),
    ("staff_present", _("staff present")),
    ("staff_with_digital_signature", _("staff with a digital signature")),
    ("documents_issued", _("documents issued")),
    ("documents_e_signed", _("documents e-signed")),
    ("outage_minutes", _("outage minutes")),
]
INTEGER_FIELDS = [name for name, _label in INTEGER_FIGURES]
FIGURE_LABELS = dict(INTEGER_FIGURES)

INTEGER_MAX = 1_000_000
OUTAGE_MINUTES_MAX = 1440
TEXT_MAX = 2000

# (smaller, larger): the first may not exceed the second.
LESS_OR_EQUAL = [
    ("received_fully_online", "received_online"),
    ("staff_present", "staff_assigned"),
    ("staff_with_digital_signature", "staff_assigned"),
    ("documents_e_signed", "documents_issued"),
]

OUTAGE_SYSTEMS = [
    ("national_portal", _("National Public Service Portal")),
    ("provincial_procedure_system", _("provincial administrative-procedure system")),
    ("vneid", _("VNeID")),
    ("population_db", _("national population database")),
    ("document_management", _("document management system")),
    ("network", _("network")),
    ("other", _("other")),
]
OUTAGE_SYSTEM_CODES = [code for code, _label in OUTAGE_SYSTEMS]

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
