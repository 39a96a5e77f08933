"""The dashboards' numbers recomputed from the raw reports with the ORM, independently of the rollup SQL
and of reports.figures: what the JSON twins (DESIGN.md §6) must show once every rollup has caught up."""

from django.db.models import Count, Q, Sum

from localities.models import Commune, Province
from reports.figures import INTEGER_FIELDS
from reports.models import DailyReport


def _numbers(reports, *, expected):
    sums = reports.aggregate(**{f: Sum(f) for f in INTEGER_FIELDS})
    totals = {f: sums[f] or 0 for f in INTEGER_FIELDS}
    counts = reports.aggregate(received=Count("id"), late=Count("id", filter=Q(late=True)))
    received = totals["received_online"] + totals["received_direct"] + totals["received_postal"]
    resolved = totals["resolved_early"] + totals["resolved_on_time"] + totals["resolved_late"]
    return {
        "totals": totals,
        "rates": {
            "online": totals["received_online"] / received if received else None,
            "fully_online": totals["received_fully_online"] / received if received else None,
            "on_time": (totals["resolved_early"] + totals["resolved_on_time"]) / resolved if resolved else None,
        },
        "completeness": {
            "expected": expected,
            "received": counts["received"],
            "on_time": counts["received"] - counts["late"],
            "late": counts["late"],
            "missing": expected - counts["received"],
            "approved": 0,
        },
    }


def national(day):
    """totals, rates and completeness of the national JSON of `day`, from the reports."""
    expected = Commune.objects.count() + Province.objects.count()
    return _numbers(DailyReport.objects.filter(date=day), expected=expected)


def province(code, day):
    """The same for one province: its communes' reports and its own."""
    expected = Commune.objects.filter(province_id=code).count() + 1
    return _numbers(DailyReport.objects.filter(date=day, province_id=code), expected=expected)


def shown(body):
    """The numbers of one JSON block (national, or one province's)."""
    return {key: body[key] for key in ("totals", "rates", "completeness")}
