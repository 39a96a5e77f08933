"""What the early-warning app's own rules are about: an assignment, a commune, a report (alerts.specs.SubjectKind).
Each reads only the relations it names in `joins`, which the lists select (alerts.selectors.alert_joins)."""

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from alerts.models import Alert
from alerts.specs import SubjectKind


def _gone(alert: Alert) -> dict[str, Any]:
    """A subject that no longer exists."""
    return {"kind": alert.subject_kind, "id": None, "code": "", "label": alert.subject_key}


class AssignmentSubject(SubjectKind):
    code = "assignment"
    label = _("assignment")
    joins = ("assignment__task", "assignment__agency", "assignment__province", "assignment__commune")

    def describe(self, alert: Alert) -> dict[str, Any]:
        """Its id, its task's code, and "task · responsible unit"."""
        assignment = alert.assignment
        if assignment is None:
            return _gone(alert)
        unit = assignment.agency or assignment.commune or assignment.province
        return {
            "kind": self.code,
            "id": assignment.pk,
            "code": assignment.task.code,
            "label": f"{assignment.task.code} · {unit}",
        }

    def url(self, alert: Alert) -> str:
        if alert.assignment_id is None:
            return reverse("alerts:list")
        return reverse("tasks:assignment", args=[alert.assignment_id])


class CommuneSubject(SubjectKind):
    code = "commune"
    label = _("commune")
    joins = ("commune",)

    def describe(self, alert: Alert) -> dict[str, Any]:
        """Its code (as id and code) and "name (code)"."""
        commune = alert.commune
        if commune is None:
            return _gone(alert)
        return {"kind": self.code, "id": commune.pk, "code": commune.pk, "label": f"{commune.name} ({commune.pk})"}

    def url(self, alert: Alert) -> str:
        if alert.commune_id is None:
            return reverse("alerts:list")
        return reverse("dashboard:commune", args=[alert.commune_id])


class ReportSubject(SubjectKind):
    code = "report"
    label = _("report")
    joins = ("report__commune", "report__province")

    def describe(self, alert: Alert) -> dict[str, Any]:
        """Its id, its locality's code, and "place (code)"."""
        report = alert.report
        if report is None:
            return _gone(alert)
        place = report.commune or report.province
        return {
            "kind": self.code,
            "id": report.pk,
            "code": report.locality,
            "label": f"{place.name} ({report.locality})",
        }

    def url(self, alert: Alert) -> str:
        """The support request the report made."""
        if alert.report_id is None:
            return reverse("alerts:list")
        return reverse("alerts:support_request", args=[alert.report_id])


ASSIGNMENT = AssignmentSubject()
COMMUNE = CommuneSubject()
REPORT = ReportSubject()
