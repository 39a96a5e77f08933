"""Builders shared by the report tests."""

import datetime

from django.utils import timezone

from reports.figures import INTEGER_FIELDS

BASE_FIGURES = {
    "received_online": 120,
    "received_direct": 35,
    "received_postal": 2,
    "received_fully_online": 98,
    "resolved_early": 40,
    "resolved_on_time": 90,
    "resolved_late": 3,
    "returned": 2,
    "pending_within_deadline": 210,
    "pending_overdue": 1,
    "online_payments": 64,
    "digitized_dossiers": 150,
    "e_results_issued": 110,
    "staff_assigned": 12,
    "staff_present": 11,
    "staff_with_digital_signature": 10,
    "documents_issued": 25,
    "documents_e_signed": 24,
    "outage_minutes": 15,
}
assert list(BASE_FIGURES) == INTEGER_FIELDS


def days_ago(n):
    return timezone.localdate() - datetime.timedelta(days=n)


def payload(locality="00004", day=None, **overrides):
    """A valid report of `locality` for `day` (default: yesterday, local time)."""
    day = day or days_ago(1)
    data = {
        "locality": locality,
        "date": day.isoformat() if isinstance(day, datetime.date) else day,
        **BASE_FIGURES,
        "outage_systems": ["vneid"],
        "difficulties": "VNeID sign-in failed for a while.",
        "proposals": "",
        "support_needed": False,
    }
    data.update(overrides)
    return data
