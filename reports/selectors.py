"""Reads of daily reports, always through the caller's scope (DailyReport.objects.visible_to)."""

import datetime
from typing import Any

from django.db import connection
from django.db.models import IntegerField, Prefetch, QuerySet
from django.db.models.expressions import RawSQL

from localities.models import Commune, Province
from reports import formspec
from reports.figures import INTEGER_FIELDS
from reports.models import DailyReport, LockException, ReportRevision
from tasks.roles import Scope


def reports_visible(scope: Scope) -> QuerySet:
    """The reports the scope may see (DailyReport.objects.visible_to)."""
    return DailyReport.objects.visible_to(scope)


def report_detail_queryset(scope: Scope) -> QuerySet:
    """Reports with their revisions (and each revision's author and client) in one more query."""
    revisions = ReportRevision.objects.select_related("author", "client").order_by("number")
    return reports_visible(scope).prefetch_related(Prefetch("revisions", queryset=revisions))


def stored_expression(spec: formspec.FormSpec, expression: formspec.Expression) -> RawSQL:
    """An expression of the form version `spec` (a rate's numerator, say) over a stored report, as SQL: each
    indicator read from its series' storage — a column of the default form's series, or the report's `extra`
    value of a later version's own (0 when the report has none: a report of another version). For aggregates
    over reports of several versions (Sum(stored_expression(...))). Only code constants reach the SQL: the
    indicator codes and series are checked identifiers (reports.formspec)."""
    columns = frozenset(INTEGER_FIELDS)
    quote = connection.ops.quote_name

    def column(code: str) -> str:
        indicator = spec.by_code.get(code)
        if indicator is None:
            return "0"
        if indicator.series in columns:
            return quote(indicator.series)
        if connection.vendor == "postgresql":
            # integer, as the columns are (figures ≤ 1,000,000): PostgreSQL sums integers to a bigint, not a numeric
            return f"COALESCE(({quote('extra')}->>'{indicator.series}')::integer, 0)"
        return f"COALESCE(json_extract({quote('extra')}, '$.{indicator.series}'), 0)"

    return RawSQL(expression.sql(column), [], output_field=IntegerField())  # noqa: S611 — code constants only


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
