"""The reporting regime's alert rules (DESIGN.md §11), one spec each (alerts.specs):

| rule | subject | threshold | day | who is told |
|---|---|---|---|---|
| unapproved_3d | province | 3 | its first day still not approved | the province's officers |
| unexplained_warning_2d | report (its warnings) | 0 / 2 | the report's day | its commune's clerks (open ≥ 2 days) / |
|   |   |   |   | the province's officers (open ≥ 4 days) |

A province is held to approval from the day of its first approval on: a portal whose provinces have not
started approving raises nothing. Each rule reads its rows in one query (two for unapproved_3d), replayed from
the approvals' and warnings' own times when the evaluation is of a past moment.
"""

import datetime
from collections.abc import Iterator
from typing import Any

from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alerts.models import Alert
from alerts.specs import AlertRule, Audience, Condition, Evaluation, SubjectKind
from reports.models import DailyReport, QualityWarning, ReportApproval

UNAPPROVED_DAYS = 3
# How far back an unapproved day is still looked for (days before the 3 days' grace).
UNAPPROVED_WINDOW = 14
UNEXPLAINED_DAYS = 2
# Open this many more days: the province is told too.
UNEXPLAINED_ESCALATION = 2


def _day(value: datetime.date) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


class ProvinceSubject(SubjectKind):
    code = "province"
    label = _("province")
    joins = ("province",)

    def describe(self, alert: Alert) -> dict[str, Any]:
        province = alert.province
        if province is None:
            return {"kind": alert.subject_kind, "id": None, "code": "", "label": alert.subject_key}
        return {"kind": self.code, "id": province.pk, "code": province.pk, "label": f"{province.name} ({province.pk})"}

    def url(self, alert: Alert) -> str:
        """The province's approval page of the day."""
        return f"{reverse('reports:approvals')}?province={alert.province_id}&date={alert.day.isoformat()}"


class ReportWarningsSubject(SubjectKind):
    code = "warnings"
    label = _("unusual figures of a report")
    joins = ("report__commune", "report__province")

    def describe(self, alert: Alert) -> dict[str, Any]:
        report = alert.report
        if report is None:
            return {"kind": alert.subject_kind, "id": None, "code": "", "label": alert.subject_key}
        place = report.commune or report.province
        return {
            "kind": self.code,
            "id": report.pk,
            "code": report.locality,
            "label": f"{place.name} ({report.locality})",
        }

    def url(self, alert: Alert) -> str:
        """The report's page, where the clerk explains."""
        if alert.report is None:
            return reverse("reports:quality")
        return reverse("reports:detail", args=[alert.report.locality, alert.report.date.isoformat()])


PROVINCE = ProvinceSubject()
REPORT_WARNINGS = ReportWarningsSubject()


def _approved_at(before: datetime.datetime | None, prefix: str = "") -> Q:
    """Approvals in force at `before` (now when None)."""
    if before is None:
        return Q(**{f"{prefix}withdrawn_at__isnull": True})
    return Q(**{f"{prefix}approved_at__lt": before}) & (
        Q(**{f"{prefix}withdrawn_at__isnull": True}) | Q(**{f"{prefix}withdrawn_at__gte": before})
    )


class UnapprovedDay(AlertRule):
    """A province's day whose reports are not all approved 3 days later."""

    code = "unapproved_3d"
    label = _("reports not approved after 3 days")
    subject = PROVINCE
    audiences = (Audience("users", "province"),)

    def detect(self, evaluation: Evaluation) -> Iterator[Condition]:
        before = evaluation.before
        last = evaluation.today - datetime.timedelta(days=UNAPPROVED_DAYS)
        first = last - datetime.timedelta(days=UNAPPROVED_WINDOW)
        approvals = (
            ReportApproval.objects.all() if before is None else ReportApproval.objects.filter(approved_at__lt=before)
        )
        started = dict(approvals.values("province_id").annotate(first=Min("date")).values_list("province_id", "first"))
        if not started:
            return
        reports = DailyReport.objects.filter(date__range=(first, last), province_id__in=list(started))
        if before is not None:
            reports = reports.filter(received_at__lt=before)
        days = (
            reports.values("province_id", "date")
            .annotate(
                received=Count("pk", distinct=True),
                approved=Count("approvals", filter=_approved_at(before, "approvals__"), distinct=True),
            )
            .filter(received__gt=0)
            .order_by("province_id", "date")
        )
        oldest: dict[str, datetime.date] = {}
        for row in days:
            if row["approved"] < row["received"] and row["date"] >= started[row["province_id"]]:
                oldest.setdefault(row["province_id"], row["date"])
        for province_id, day in oldest.items():
            yield Condition(
                self.code,
                f"province:{province_id}",
                UNAPPROVED_DAYS,
                day,
                kind=self.subject.code,
                since=day,
                province_id=province_id,
            )

    def title(self, *, threshold: int, subject: str, day: datetime.date, since: datetime.date) -> str:
        return gettext("Reports of %(day)s still not approved after %(days)s days: %(subject)s") % {
            "day": _day(day),
            "days": UNAPPROVED_DAYS,
            "subject": subject,
        }


class UnexplainedWarning(AlertRule):
    """A report with an unusual figure neither explained nor corrected for 2 days: its clerks; 2 days more,
    the province's officers."""

    code = "unexplained_warning_2d"
    label = _("unusual figure not explained")
    subject = REPORT_WARNINGS
    audiences = (Audience("users", "commune"),)
    escalation = (Audience("users", "province"),)

    def detect(self, evaluation: Evaluation) -> Iterator[Condition]:
        before = evaluation.before
        warnings = QualityWarning.objects.all()
        if before is None:
            warnings = warnings.filter(state=QualityWarning.State.OPEN)
        else:
            warnings = warnings.filter(
                Q(created_at__lt=before),
                Q(explained_at__isnull=True) | Q(explained_at__gte=before),
                Q(closed_at__isnull=True) | Q(closed_at__gte=before),
            )
        rows = warnings.values("report_id", "date", "province_id", "commune_id").annotate(since=Min("created_at"))
        for row in rows:
            since = row["since"].date()
            waited = (evaluation.today - since).days
            for threshold, days in (
                (0, UNEXPLAINED_DAYS),
                (UNEXPLAINED_ESCALATION, UNEXPLAINED_DAYS + UNEXPLAINED_ESCALATION),
            ):
                if waited >= days:
                    yield Condition(
                        self.code,
                        f"report:{row['report_id']}",
                        threshold,
                        row["date"],
                        kind=self.subject.code,
                        since=since,
                        report_id=row["report_id"],
                        commune_id=row["commune_id"],
                        province_id=row["province_id"],
                    )

    def title(self, *, threshold: int, subject: str, day: datetime.date, since: datetime.date) -> str:
        return gettext(
            "An unusual figure of the report of %(day)s waits for an explanation since %(since)s: %(subject)s"
        ) % {
            "day": _day(day),
            "since": _day(since),
            "subject": subject,
        }


RULES: tuple[AlertRule, ...] = (UnapprovedDay(), UnexplainedWarning())
