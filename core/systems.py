"""The closed list of the systems the plan's work depends on: a daily report names those that were down
(reports.figures.OUTAGE_SYSTEMS), and a workflow item may be blocked by one (tasks.models.WorkflowState). One list
for both, here at the bottom so that every app may read it."""

from django.utils.translation import gettext_lazy as _

SYSTEMS = [
    ("national_portal", _("National Public Service Portal")),
    ("provincial_procedure_system", _("provincial administrative-procedure system")),
    ("vneid", _("VNeID")),
    ("population_db", _("national population database")),
    ("document_management", _("document management system")),
    ("network", _("network")),
    ("other", _("other")),
]
SYSTEM_CODES = [code for code, _label in SYSTEMS]
