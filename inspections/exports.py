"""An inspection's report: XLSX (core.exports) and PDF (core.pdf), of what the reader may see."""

from typing import Any

from django.utils.translation import gettext as _

from core.exports import Sheet
from inspections.models import Inspection


def _units(inspection: Inspection) -> str:
    names = [p.name for p in inspection.provinces.all()]
    names += [a.name for a in inspection.agencies.all()]
    names += [c.name for c in inspection.communes.all()]
    return "; ".join(names)


def report_sheets(inspection: Inspection, findings: list[Any]) -> list[Sheet]:
    summary = Sheet(
        _("Inspection"),
        [_("Field"), _("Value")],
        [
            [_("Title"), inspection.title],
            [_("Dates"), f"{inspection.starts_on:%d/%m/%Y} – {inspection.ends_on:%d/%m/%Y}"],
            [_("Inspector"), inspection.inspector.get_full_name() or inspection.inspector.username],
            [_("Units inspected"), _units(inspection)],
            [_("Tasks in scope"), ", ".join(t.code for t in inspection.tasks.all())],
            [_("Findings"), len(findings)],
        ],
    )
    rows = [
        [
            f.visited_on,
            f.unit_code,
            f.unit.name,
            f.get_severity_display(),
            f.text,
            f.recommendation,
            f.deadline,
            f.followup.get_status_display(),
            f.followup.progress,
        ]
        for f in findings
    ]
    detail = Sheet(
        _("Findings"),
        [
            _("Visited on"),
            _("Unit code"),
            _("Unit"),
            _("Severity"),
            _("Finding"),
            _("Recommendation"),
            _("Deadline"),
            _("Follow-up status"),
            _("Progress (%)"),
        ],
        rows,
    )
    return [summary, detail]
