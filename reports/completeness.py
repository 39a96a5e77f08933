"""Reporting completeness and timeliness (DESIGN.md §5, §6) in one place: when a day's report is due, who
was expected to report for a day, who did, on time or late, and who is missing.

Each province expects one report from each of its communes plus its own (the province's own report), so
the nation expects 3,321 + 34 = 3,355. The same rule serves the raw-report count of the completeness API
(`report_completeness`), the rollups' SQL (`expected_sql`, dashboards.rollups) and every page that shows a
completeness line (`Completeness`).
"""

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from localities.models import Commune, Province
from reports.models import DailyReport, ReportApproval
from tasks.roles import Scope


def due_at(day: datetime.date) -> datetime.datetime:
    """A report for `day` is on time until REPORT_DUE_HOUR (local time) of the next day."""
    return datetime.datetime.combine(
        day + datetime.timedelta(days=1),
        datetime.time(settings.REPORT_DUE_HOUR),
        tzinfo=timezone.get_default_timezone(),
    )


def is_late(day: datetime.date, received_at: datetime.datetime) -> bool:
    return received_at > due_at(day)


def lock_date(today: datetime.date) -> datetime.date:
    """Reports for days before this date are locked (older than REPORT_LOCK_DAYS)."""
    return today - datetime.timedelta(days=settings.REPORT_LOCK_DAYS)


def expected_for_province(communes: int) -> int:
    """Reports a province expects for a day: one per commune, plus its own."""
    return communes + 1


def expected_sql(communes: str) -> str:
    """expected_for_province() in SQL, over an expression counting the province's communes."""
    return f"({communes}) + 1"


@dataclass(frozen=True)
class Completeness:
    expected: int = 0
    received: int = 0
    late: int = 0
    # Reports with the province's approval in force (DESIGN.md §11).
    approved: int = 0

    @property
    def on_time(self) -> int:
        return self.received - self.late

    @property
    def missing(self) -> int:
        return self.expected - self.received

    @property
    def share(self) -> float | None:
        return self.received / self.expected if self.expected else None

    def as_dict(self) -> dict[str, int]:
        """The `completeness` object of the API: expected, received, on_time, late, missing."""
        return {
            "expected": self.expected,
            "received": self.received,
            "on_time": self.on_time,
            "late": self.late,
            "missing": self.missing,
            "approved": self.approved,
        }

    @classmethod
    def of_rollup(cls, row: Any, *, expected_default: int = 0) -> "Completeness":
        """From a province/day or nation/day rollup (its localities_* columns); nobody expected reported
        when there is no row yet."""
        if row is None:
            return cls(expected=expected_default)
        return cls(
            expected=row.localities_expected,
            received=row.localities_received,
            late=row.localities_late,
            approved=row.localities_approved,
        )


def _localities_in_scope(scope: Scope, province_id: str | None = None) -> tuple[QuerySet, QuerySet, bool]:
    """(provinces, communes, whether the provinces' own reports are in scope) as querysets."""
    if scope.reads_all:
        provinces, communes, own = Province.objects.all(), Commune.objects.all(), True
    elif scope.is_province:
        provinces = Province.objects.filter(code=scope.province_id)
        communes = Commune.objects.filter(province_id=scope.province_id)
        own = True
    elif scope.is_commune:
        provinces = Province.objects.filter(code=scope.commune_province_id)
        communes = Commune.objects.filter(code=scope.commune_id)
        own = False
    else:
        provinces, communes, own = Province.objects.none(), Commune.objects.none(), False
    if province_id:
        provinces = provinces.filter(code=province_id)
        communes = communes.filter(province_id=province_id)
    return provinces, communes, own


def report_completeness(*, scope: Scope, day: datetime.date, province_id: str | None = None) -> dict[str, Any]:
    """Who reported for `day`, by province: expected, received, on time, late, missing, the missing communes
    and whether the province itself reported; and the totals over the provinces shown. Three queries
    whatever the scope.

    Only what the scope may see is counted: a province officer sees its province, a commune clerk its own
    commune (expected 1), steering, inspectors and the admin the whole country.
    """
    provinces, communes, own = _localities_in_scope(scope, province_id)
    blocks: dict[str, dict[str, Any]] = {}
    counts: dict[str, dict[str, int]] = {}
    for code, name in provinces.order_by("code").values_list("code", "name"):
        blocks[code] = {"province": code, "name": name, "province_reported": False if own else None}
        counts[code] = {"expected": 1 if own else 0, "received": 0, "late": 0, "approved": 0}
        blocks[code]["missing_communes"] = []
    commune_rows = list(communes.order_by("code").values_list("code", "name", "province_id"))
    reports = (
        DailyReport.objects.visible_to(scope)
        .filter(date=day)
        .annotate(approved=Exists(ReportApproval.objects.active().filter(report=OuterRef("pk"))))
    )
    if province_id:
        reports = reports.filter(Q(province_id=province_id))
    received = set()
    rows = reports.values_list("locality", "province_id", "commune_id", "late", "approved")
    for locality, province, commune, late, approved in rows:
        if province not in counts:
            continue
        received.add(locality)
        counts[province]["received"] += 1
        counts[province]["late"] += bool(late)
        counts[province]["approved"] += bool(approved)
        if commune is None:
            blocks[province]["province_reported"] = True
    for code, name, province in commune_rows:
        if province not in counts:
            continue
        counts[province]["expected"] += 1
        if code not in received:
            blocks[province]["missing_communes"].append({"code": code, "name": name})
    total = Completeness()
    result = []
    for code, block in blocks.items():
        completeness = Completeness(**counts[code])
        total = Completeness(
            total.expected + completeness.expected,
            total.received + completeness.received,
            total.late + completeness.late,
            total.approved + completeness.approved,
        )
        result.append({**block, **completeness.as_dict()})
    return {
        "date": day.isoformat(),
        "due_at": timezone.localtime(due_at(day)).isoformat(),
        "as_of": timezone.localtime().isoformat(),
        "totals": total.as_dict(),
        "provinces": [_ordered(item) for item in result],
    }


def _ordered(block: dict[str, Any]) -> dict[str, Any]:
    keys = ["province", "name", "expected", "received", "on_time", "late", "missing", "approved", "province_reported"]
    return {**{k: block[k] for k in keys}, "missing_communes": block["missing_communes"]}
