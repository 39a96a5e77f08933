"""Reads of daily reports, always through the caller's scope (DailyReport.objects.visible_to)."""

import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet

from localities.models import Commune, Province
from reports.models import DailyReport, LockException, ReportRevision
from tasks.roles import Scope


def reports_visible(scope: Scope) -> QuerySet:
    """The reports the scope may see (DailyReport.objects.visible_to)."""
    return DailyReport.objects.visible_to(scope)


def report_detail_queryset(scope: Scope) -> QuerySet:
    """Reports with their revisions (and each revision's author and client) in one more query."""
    revisions = ReportRevision.objects.select_related("author", "client").order_by("number")
    return reports_visible(scope).prefetch_related(Prefetch("revisions", queryset=revisions))


def province_day_status(*, scope: Scope, province_id: str, day: datetime.date) -> list[dict[str, Any]]:
    """For the province page: the province itself and each of its communes, with its report of `day` (or
    None) and whether a lock exception exists. Four queries."""
    communes = list(Commune.objects.filter(province_id=province_id).order_by("code").values_list("code", "name"))
    province = Province.objects.filter(code=province_id).values_list("code", "name").first()
    reports = {
        r.locality: r
        for r in reports_visible(scope)
        .filter(province_id=province_id, date=day)
        .only("locality", "date", "late", "receipt", "revision", "received_at", "province_id", "commune_id")
    }
    exceptions = set(
        LockException.objects.filter(date=day, locality__in=[province_id, *[c for c, _n in communes]]).values_list(
            "locality", flat=True
        )
    )
    rows = [(province[0], province[1], True)] if province else []
    rows += [(code, name, False) for code, name in communes]
    return [
        {
            "code": code,
            "name": name,
            "is_province": is_province,
            "report": reports.get(code),
            "exception": code in exceptions,
        }
        for code, name, is_province in rows
    ]
