"""The province's approval of its communes' reports and its own (DESIGN.md §11): approve a day's reports one
by one or all those without an open warning, withdraw an approval with a reason. An approved report is
corrected only after the withdrawal (reports.services.daily_report_correct checks it under the report's row
lock, which the approval takes too). Every step is a row of ReportApproval, kept: the report's approval
history and the audit trail's (reports.trail)."""

import datetime
from collections import Counter
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dates import DATE_MESSAGE, INVALID_DATE, parse_date_or_none
from core.text import echo
from reports import validation
from reports.figures import TEXT_MAX
from reports.models import DailyReport, QualityWarning, ReportApproval
from reports.outbox import request_rollups
from tasks.roles import Role, Scope

APPROVED = "approved"
OPEN_WARNINGS = "open_warnings"
NOT_RECEIVED = "not_received"
ALREADY_APPROVED = "already_approved"
OUTSIDE_SCOPE = "outside_scope"
RESULTS = [APPROVED, OPEN_WARNINGS, NOT_RECEIVED, ALREADY_APPROVED, OUTSIDE_SCOPE]
LOCALITIES_MAX = 5000


class NotApproved(Exception):
    """A withdrawal of a report that has no approval in force."""


def _field_error(field: str, code: str, message: str) -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


def may_approve(scope: Scope, *, province_id: str | None = None) -> bool:
    """A province officer for its province's reports (its communes' and its own), or the national admin; never
    an API key. Without `province_id`: may the scope approve anything at all?"""
    if scope.is_api_client:
        return False
    if scope.is_admin:
        return True
    return scope.role == Role.PROVINCE_OFFICER and (province_id is None or province_id == scope.province_id)


def parse_day(raw: Any) -> datetime.date:
    """A report day (YYYY-MM-DD, from the first report day to today), or a ValidationError naming `date`."""
    day = parse_date_or_none(raw, bounded=False) if isinstance(raw, str) else None
    if day is None:
        raise _field_error("date", INVALID_DATE, str(DATE_MESSAGE))
    error = validation.report_day_error(day, today=timezone.localdate())
    if error is not None:
        raise _field_error("date", *error)
    return day


def _parse_localities(raw: Any) -> dict[str, tuple[str, str | None, int | None]]:
    if not isinstance(raw, list) or not raw or not all(isinstance(code, str) for code in raw):
        raise _field_error("localities", "invalid", _("Send a list of locality codes."))
    if len(raw) > LOCALITIES_MAX:
        raise _field_error(
            "localities", "too_many", _("At most %(max)s localities at once.") % {"max": f"{LOCALITIES_MAX:,}"}
        )
    found = validation.lookup_localities(list(dict.fromkeys(raw)))
    unknown = [code for code in raw if code not in found]
    if unknown:
        raise _field_error(
            "localities",
            validation.UNKNOWN_LOCALITY,
            _("Unknown locality codes: %(codes)s.") % {"codes": echo(", ".join(unknown[:10]))},
        )
    return found


def reports_approve(*, user: Any, scope: Scope, data: Any) -> dict[str, Any]:
    """Approve the reports of `data["date"]` of `data["localities"]`: one result per locality, in the order
    sent (approved, open_warnings, not_received, already_approved, outside_scope). Raises PermissionDenied
    (the caller approves nothing anywhere) or ValidationError (naming the field)."""
    if not may_approve(scope):
        raise PermissionDenied(_("Only a province's officers approve its reports."))
    if not isinstance(data, dict):
        raise _field_error("non_field_errors", "invalid", _('Send {"date": …, "localities": […]}.'))
    unknown = sorted(set(data) - {"date", "localities"})
    if unknown:
        raise _field_error(echo(unknown[0]), "unknown_field", _("Unknown field."))
    day = parse_day(data.get("date"))
    found = _parse_localities(data.get("localities"))
    codes = list(dict.fromkeys(data["localities"]))
    mine = [code for code in codes if may_approve(scope, province_id=found[code][0])]
    now = timezone.now()
    results: dict[str, dict[str, Any]] = {}
    with transaction.atomic():
        # Row locks in code order: two approvals (or an approval and a correction) of one report serialise, and
        # two officers approving overlapping lists cannot deadlock.
        reports = {
            r.locality: r
            for r in DailyReport.objects.select_for_update()
            .filter(locality__in=mine, date=day)
            .order_by("locality")
            .only("pk", "locality", "province_id", "date", "revision")
        }
        ids = [r.pk for r in reports.values()]
        approved = set(ReportApproval.objects.active().filter(report_id__in=ids).values_list("report_id", flat=True))
        warnings = dict(
            QualityWarning.objects.filter(report_id__in=ids, state=QualityWarning.State.OPEN)
            .values("report_id")
            .annotate(n=Count("pk"))
            .values_list("report_id", "n")
        )
        new = []
        for code in codes:
            report = reports.get(code)
            if code not in mine:
                results[code] = {"locality": code, "status": OUTSIDE_SCOPE}
            elif report is None:
                results[code] = {"locality": code, "status": NOT_RECEIVED}
            elif report.pk in approved:
                results[code] = {"locality": code, "status": ALREADY_APPROVED}
            elif warnings.get(report.pk):
                results[code] = {"locality": code, "status": OPEN_WARNINGS, "open_warnings": warnings[report.pk]}
            else:
                results[code] = {"locality": code, "status": APPROVED}
                new.append(
                    ReportApproval(
                        report_id=report.pk,
                        locality=code,
                        province_id=report.province_id,
                        date=day,
                        revision=report.revision,
                        approved_by=user,
                        approved_at=now,
                    )
                )
        ReportApproval.objects.bulk_create(new)
        # The coverage lines count approvals from the rollups (dashboards): rebuild the days they changed.
        request_rollups({(a.province_id, day) for a in new})
    ordered = [results[code] for code in codes]
    counts = Counter(r["status"] for r in ordered)
    return {"date": day.isoformat(), "results": ordered, "summary": {s: counts.get(s, 0) for s in RESULTS}}


def report_approval_withdraw(*, user: Any, scope: Scope, data: Any) -> ReportApproval:
    """Withdraw the approval in force of one report, with a reason. Raises PermissionDenied, ValidationError
    (naming the field), DailyReport.DoesNotExist or NotApproved."""
    if not may_approve(scope):
        raise PermissionDenied(_("Only a province's officers approve its reports."))
    if not isinstance(data, dict):
        raise _field_error("non_field_errors", "invalid", _('Send {"date": …, "locality": …, "reason": …}.'))
    unknown = sorted(set(data) - {"date", "locality", "reason"})
    if unknown:
        raise _field_error(echo(unknown[0]), "unknown_field", _("Unknown field."))
    day = parse_day(data.get("date"))
    locality = data.get("locality")
    if not isinstance(locality, str) or not locality:
        raise _field_error("locality", "required", _("Name the locality."))
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise _field_error("reason", "required", _("Say why the approval is withdrawn."))
    if len(reason) > TEXT_MAX:
        raise _field_error("reason", "too_long", _("At most %(max)s characters.") % {"max": TEXT_MAX})
    found = validation.lookup_localities([locality])
    if locality not in found:
        raise _field_error("locality", validation.UNKNOWN_LOCALITY, _("Unknown locality code."))
    if not may_approve(scope, province_id=found[locality][0]):
        raise PermissionDenied(_("You may not withdraw approvals of this locality."))
    now = timezone.now()
    with transaction.atomic():
        report = DailyReport.objects.select_for_update().only("pk").get(locality=locality, date=day)
        approval = ReportApproval.objects.active().filter(report=report).first()
        if approval is None:
            raise NotApproved
        approval.withdrawn_by, approval.withdrawn_at, approval.reason = user, now, reason.strip()
        approval.save(update_fields=["withdrawn_by", "withdrawn_at", "reason"])
        request_rollups([(approval.province_id, day)])
    return approval


def approval_day(*, scope: Scope, province_id: str, day: datetime.date) -> list[dict[str, Any]]:
    """The approval page of a province's day: each of its localities (the province first, then its communes)
    with its report (or none), its open warnings and its approval. Four queries."""
    from localities.models import Commune, Province

    province = Province.objects.filter(code=province_id).values_list("code", "name").first()
    if province is None:
        return []
    rows = [{"code": province[0], "name": province[1]}]
    rows += [
        {"code": code, "name": name}
        for code, name in Commune.objects.filter(province_id=province_id).order_by("code").values_list("code", "name")
    ]
    reports = {
        r["locality"]: r
        for r in DailyReport.objects.visible_to(scope)
        .filter(province_id=province_id, date=day)
        .values("pk", "locality", "revision", "late", "received_at")
    }
    warnings = dict(
        QualityWarning.objects.filter(province_id=province_id, date=day, state=QualityWarning.State.OPEN)
        .values("report_id")
        .annotate(n=Count("pk"))
        .values_list("report_id", "n")
    )
    approvals = {
        a.report_id: a
        for a in ReportApproval.objects.active().filter(province_id=province_id, date=day).select_related("approved_by")
    }
    for row in rows:
        report = reports.get(row["code"])
        row["report"] = report
        row["open_warnings"] = warnings.get(report["pk"], 0) if report else 0
        row["approval"] = approvals.get(report["pk"]) if report else None
    return rows


def approved_count(*, day: datetime.date, province_id: str | None = None) -> int:
    """Reports of `day` with an approval in force (the coverage lines' "· N approved")."""
    approvals = ReportApproval.objects.active().filter(date=day)
    if province_id:
        approvals = approvals.filter(province_id=province_id)
    return approvals.count()
