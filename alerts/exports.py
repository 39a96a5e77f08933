"""Exports of the blocker register and the alert list, written by core.exports (which neutralises text a
spreadsheet would run as a formula: a blocked reason is typed by a person)."""

import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.display import alert_title, subject
from core.exports import Sheet, csv_response, xlsx_response
from tasks.models import Assignment


def blocker_row(a: Assignment, *, today: datetime.date) -> dict[str, Any]:
    """One line of the register: who blocks whom, since when, days waiting."""
    since = timezone.localtime(a.blocked_since).date() if getattr(a, "blocked_since", None) else None
    unit = a.agency or a.commune or a.province
    return {
        "assignment": a,
        "task": a.task.code,
        "unit": unit,
        "unit_code": a.agency.code if a.agency_id else (a.commune_id or a.province_id),
        "province": a.province_id or "",
        "blocking": a.blocked_by,  # the agency, when an agency blocks
        "blocker": a.blocker,  # {"kind", "code", "name"}: an agency, a province, a vendor or a system
        "reason": a.blocked_reason,
        "since": since,
        "days": (today - since).days if since else None,
    }


def _stamp() -> str:
    return timezone.localtime().strftime("%Y%m%d-%H%M")


def blockers_export(rows: QuerySet, *, today: datetime.date, fmt: str) -> HttpResponse | StreamingHttpResponse:
    header = [
        "assignment",
        "task",
        "unit_code",
        "unit_name",
        "province",
        "blocking_agency",
        "blocked_reason",
        "since",
        "days_waiting",
        "blocker_kind",
        "blocker_code",
    ]
    lines = (
        [
            r["assignment"].pk,
            r["task"],
            r["unit_code"],
            r["unit"].name,
            r["province"],
            r["blocking"].code if r["blocking"] else "",
            r["reason"],
            r["since"],
            r["days"],
            r["blocker"]["kind"],
            r["blocker"]["code"],
        ]
        for r in (blocker_row(a, today=today) for a in rows.iterator(chunk_size=2000))
    )
    name = f"plan02-blockers-{_stamp()}.{fmt}"
    if fmt == "xlsx":
        return xlsx_response(name, [Sheet(_("Blocker register"), header, lines)])
    return csv_response(name, header, lines, streaming=True)


def alerts_export(alerts: QuerySet, *, fmt: str) -> HttpResponse | StreamingHttpResponse:
    header = [
        "id",
        "rule",
        "threshold",
        "kind",
        "subject",
        "title",
        "province",
        "agency",
        "since",
        "raised_at",
        "closed_at",
    ]
    lines = (
        [
            a.pk,
            a.rule,
            a.threshold,
            a.subject_kind,
            subject(a)["label"],
            alert_title(a),
            a.province_id or "",
            a.agency.code if a.agency_id else "",
            a.since,
            a.raised_at,
            a.closed_at,
        ]
        for a in alerts
    )
    name = f"plan02-alerts-{_stamp()}.{fmt}"
    if fmt == "xlsx":
        return xlsx_response(name, [Sheet(_("Alerts"), header, lines)])
    return csv_response(name, header, lines, streaming=True)
