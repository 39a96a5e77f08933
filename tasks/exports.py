"""Export of a filtered assignment list as XLSX or CSV, written by the project's export writer
(core.exports: text that a spreadsheet would run as a formula is neutralised). The XLSX is also the
bulk-update template: its first sheet goes back in through tasks.bulk with edited `status`, `progress`, …
columns (`id` and `version` untouched).
"""

from django.utils import timezone
from django.utils.translation import gettext as _

from core.exports import Sheet, csv_bytes, xlsx_bytes
from core.systems import SYSTEM_CODES
from tasks.models import BLOCKER_FIELDS
from tasks.selectors import demo_notes

# One column per kind of blocker (tasks.models.BLOCKER_FIELDS), each holding the blocker's code: at most one is
# filled in, when the status is blocked.
BLOCKER_COLUMNS = list(BLOCKER_FIELDS)

# Machine-readable headers (never translated: the bulk upload reads them back).
COLUMNS = [
    "id",
    "version",
    "task",
    "task_title",
    "level",
    "unit_code",
    "unit_name",
    "province",
    "deadline",
    "display_status",
    "status",
    "progress",
    "completed_on",
    "blocked_by",
    "blocked_by_province",
    "blocked_by_vendor",
    "blocked_by_system",
    "blocked_reason",
    "updated_at",
    "updated_by",
    "note",
    "evidence_url",
    "task_official",
]
EDITABLE = [
    "status",
    "progress",
    "completed_on",
    *BLOCKER_COLUMNS,
    "blocked_reason",
    "note",
    "evidence_url",
]


def blocker_cells(item):
    """The blocker columns of one item: the code of what it waits on in its kind's column, the others empty."""
    blocker = item.blocker
    return [blocker["code"] if blocker and blocker["kind"] == kind else "" for kind in BLOCKER_FIELDS.values()]


def _row(a, today):
    unit = a.agency or a.commune or a.province
    unit_code = a.agency.code if a.agency_id else (a.commune_id or a.province_id)
    updated_at = timezone.localtime(a.updated_at).replace(tzinfo=None, microsecond=0) if a.updated_at else None
    return [
        a.pk,
        a.version,
        a.task.code,
        a.task.title,
        a.level,
        unit_code,
        unit.name,
        a.province_id or "",
        a.task.deadline,
        a.get_display_status(today),
        a.status,
        a.progress,
        a.completed_on,
        *blocker_cells(a),
        a.blocked_reason,
        updated_at,
        a.updated_by.username if a.updated_by_id else "",
        "",  # note: empty; filled in only to add a note with a bulk update
        "",
        "true" if a.task.is_official else "false",  # false: a task of the demo catalogue
    ]


def help_rows():
    notes = [[note] for note in demo_notes()]
    return [
        *notes,
        [_("Bulk update: edit the columns below on the first sheet, keep id and version, upload the file.")],
        ["status", _("not_started, in_progress, blocked or completed")],
        ["progress", _("0 to 100; 100 when completed")],
        ["completed_on", _("date the work was completed (when status is completed), not in the future")],
        ["blocked_by", _("code of the blocking agency (when status is blocked)")],
        ["blocked_by_province", _("or: code of the blocking province, e.g. 01 (when status is blocked)")],
        ["blocked_by_vendor", _("or: code of the blocking vendor (when status is blocked)")],
        [
            "blocked_by_system",
            _("or: code of the blocking system, one of: %(codes)s (when status is blocked)")
            % {"codes": ", ".join(SYSTEM_CODES)},
        ],
        ["blocked_reason", _("why the work is blocked (when status is blocked)")],
        ["note", _("optional note; required to reopen or correct a completed assignment")],
        ["evidence_url", _("optional link to the evidence (http:// or https://)")],
        ["task_official", _("false for a task of the demo catalogue (not the official list of Plan 02)")],
        [
            "version",
            _("do not edit: a row whose assignment changed since the export is refused, so nobody's change is lost"),
        ],
    ]


def export_xlsx(assignments, *, today):
    rows = (_row(assignment, today) for assignment in assignments.iterator(chunk_size=2000))
    # The first sheet's first row stays the header: the bulk update reads it back.
    return xlsx_bytes([Sheet("assignments", COLUMNS, rows), Sheet("help", help_rows()[0], help_rows()[1:])])


def export_csv(assignments, *, today):
    rows = (_row(assignment, today) for assignment in assignments.iterator(chunk_size=2000))
    return csv_bytes(COLUMNS, rows, notes=demo_notes())


# --- sub-tasks of local plans (the same round trip as assignments: tasks.bulk with kind "subtasks") ---------------

SUBTASK_COLUMNS = [
    "id",
    "version",
    "task",
    "plan",
    "title",
    "owner",
    "deadline",
    "weight",
    "display_status",
    "status",
    "progress",
    "completed_on",
    "blocked_by",
    "blocked_by_province",
    "blocked_by_vendor",
    "blocked_by_system",
    "blocked_reason",
    "updated_at",
    "updated_by",
    "note",
    "evidence_url",
]


def _subtask_row(s, today):
    updated_at = timezone.localtime(s.updated_at).replace(tzinfo=None, microsecond=0) if s.updated_at else None
    return [
        s.pk,
        s.version,
        s.parent.task.code,
        s.plan.number,
        s.title,
        s.commune_id or s.department,
        s.deadline,
        float(s.weight),
        s.get_display_status(today),
        s.status,
        s.progress,
        s.completed_on,
        *blocker_cells(s),
        s.blocked_reason,
        updated_at,
        s.updated_by.username if s.updated_by_id else "",
        "",
        "",
    ]


def export_subtasks_xlsx(subtasks, *, today):
    rows = (_subtask_row(s, today) for s in subtasks.iterator(chunk_size=2000))
    help_sheet = help_rows()
    return xlsx_bytes([Sheet("subtasks", SUBTASK_COLUMNS, rows), Sheet("help", help_sheet[0], help_sheet[1:])])
