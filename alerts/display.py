"""How an alert reads: its subject, its one-line title in the active language, and where it leads in the
portal. Expects alerts read with alerts.selectors.ALERT_JOINS (no query here)."""

from typing import Any

from django.urls import reverse

from alerts.models import Alert
from alerts.rules import SubjectKind, title


def subject(alert: Alert) -> dict[str, Any]:
    """{"kind", "id", "code", "label"}: an assignment (id, task code), a commune (its code) or a report (id,
    its locality's code)."""
    if alert.subject_kind == SubjectKind.ASSIGNMENT and alert.assignment is not None:
        assignment = alert.assignment
        unit = assignment.agency or assignment.commune or assignment.province
        return {
            "kind": SubjectKind.ASSIGNMENT.value,
            "id": assignment.pk,
            "code": assignment.task.code,
            "label": f"{assignment.task.code} · {unit}",
        }
    if alert.subject_kind == SubjectKind.COMMUNE and alert.commune is not None:
        return {
            "kind": SubjectKind.COMMUNE.value,
            "id": alert.commune.pk,
            "code": alert.commune.pk,
            "label": f"{alert.commune.name} ({alert.commune.pk})",
        }
    report = alert.report
    if report is None:  # a subject that no longer exists
        return {"kind": alert.subject_kind, "id": None, "code": "", "label": alert.subject_key}
    place = report.commune or report.province
    return {
        "kind": SubjectKind.REPORT.value,
        "id": report.pk,
        "code": report.locality,
        "label": f"{place.name} ({report.locality})",
    }


def alert_title(alert: Alert) -> str:
    return title(
        rule=alert.rule,
        threshold=alert.threshold,
        subject=subject(alert)["label"],
        day=alert.day,
        since=alert.since,
    )


def alert_url(alert: Alert) -> str:
    """The page that shows the alert's subject: the assignment, the commune's history, the support request."""
    if alert.assignment_id:
        return reverse("tasks:assignment", args=[alert.assignment_id])
    if alert.report_id:
        return reverse("alerts:support_request", args=[alert.report_id])
    if alert.commune_id:
        return reverse("dashboard:commune", args=[alert.commune_id])
    return reverse("alerts:list")
