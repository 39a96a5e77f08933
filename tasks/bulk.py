"""Bulk update from an exported XLSX: a dry run that says, row by row, what would change and what is refused
(stale, invalid, not yours), then an apply of the accepted rows in one transaction
(tasks.services.items_bulk_update), one history row each. The same round trip serves assignments and the
sub-tasks of local plans (`kind`: "assignments" or "subtasks"), through the same workflow service.

The dry run's accepted rows travel to the apply step signed (django.core.signing) for the same user, so the
apply writes exactly what the user reviewed; the service re-checks versions and rules when it writes.
"""

import dataclasses
import re

from django.core import signing
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dates import DateError, parse_date
from core.spreadsheets import SpreadsheetError, cell_text, rows_with_content, xlsx_rows
from core.text import echo
from tasks.models import Agency
from tasks.scoping import scope_for_user
from tasks.selectors import FieldChange, assignment_list, assignment_state, subtask_list
from tasks.services import ASSIGNMENTS, SUBTASKS, validate_update

# What each kind's round trip reads and which workflow it writes through.
KINDS = {"assignments": (assignment_list, ASSIGNMENTS), "subtasks": (subtask_list, SUBTASKS)}

REQUIRED_COLUMNS = ["id", "version", "status", "progress"]
OPTIONAL_COLUMNS = ["completed_on", "blocked_by", "blocked_reason", "note", "evidence_url"]
MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024
SIGNING_SALT = "tasks.bulk-update"
PLAN_MAX_AGE = 60 * 60  # seconds between the dry run and the apply


class BulkFileError(ValueError):
    """The file as a whole cannot be used (type, header, size)."""


@dataclasses.dataclass
class BulkRow:
    row: int
    outcome: str  # change | unchanged | stale | invalid | forbidden
    assignment: object = None
    changes: list = dataclasses.field(default_factory=list)
    errors: list = dataclasses.field(default_factory=list)  # "field: message"
    values: dict = dataclasses.field(default_factory=dict)
    file_version: int | None = None

    @property
    def refused(self):
        return self.outcome in {"stale", "invalid", "forbidden"}


@dataclasses.dataclass
class BulkPlan:
    rows: list

    def count(self, outcome):
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def to_apply(self):
        return [r for r in self.rows if r.outcome == "change"]


def _read(upload):
    """[(row number, {column: cell})] of the upload's first sheet; streamed, so reading stops at MAX_ROWS."""
    if not (upload.name or "").lower().endswith(".xlsx"):
        raise BulkFileError(_("Upload the XLSX file exported from this portal (.xlsx)."))
    if upload.size > MAX_BYTES:
        raise BulkFileError(_("The file is larger than %(max)s MB.") % {"max": MAX_BYTES // 1048576})
    try:
        lines = xlsx_rows(upload, name=upload.name)
        try:
            header = [cell_text(h) for h in next(lines)]
        except StopIteration:
            raise BulkFileError(_("The file is empty.")) from None
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise BulkFileError(_("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})
        rows = []
        for number, line in rows_with_content(lines):
            rows.append((number, {h: (line[i] if i < len(line) else None) for i, h in enumerate(header) if h}))
            if len(rows) > MAX_ROWS:
                raise BulkFileError(_("At most %(max)s rows per upload.") % {"max": MAX_ROWS})
    except SpreadsheetError as exc:
        raise BulkFileError(str(exc)) from None
    return rows


def _date(value):
    return None if value in (None, "") else parse_date(value if not isinstance(value, str) else cell_text(value))


# ASCII digits only: str.isdigit() is also true of "¹", and lstrip("-") lets "--5" through; int() refuses both.
_INT = re.compile(r"-?[0-9]{1,19}")


def _int(value):
    text = cell_text(value)
    return int(text) if _INT.fullmatch(text) else None


# Ids are bigints: one outside their range names no assignment (and would overflow the query).
_ID_MAX = 2**63 - 1


def _assignment_id(value):
    number = _int(value)
    return number if number is not None and 0 < number <= _ID_MAX else None


def bulk_plan(*, actor, upload, kind="assignments"):
    """Read the file and check every row against the current assignments (or sub-tasks). Writes nothing."""
    listing, workflow = KINDS[kind]
    rows = _read(upload)
    scope = scope_for_user(actor)
    today = timezone.localdate()
    ids = {i for i in (_assignment_id(raw.get("id")) for _, raw in rows) if i is not None}
    assignments = listing(scope=scope, today=today).in_bulk(ids)
    agencies = {a.code.upper(): a for a in Agency.objects.all()}
    plan = BulkPlan(rows=[])
    for number, raw in rows:
        plan.rows.append(_plan_row(number, raw, assignments, agencies, today, workflow))
    return plan


def _plan_row(number, raw, assignments, agencies, today, workflow=ASSIGNMENTS):
    assignment = assignments.get(_assignment_id(raw.get("id")))
    if assignment is None:
        return BulkRow(number, "forbidden", errors=[_("id: no assignment you may see has this id.")])
    if not assignment.may_update:
        return BulkRow(number, "forbidden", assignment, errors=[_("You may not update this assignment.")])

    errors = []
    version = _int(raw.get("version"))
    if version is None:
        errors.append(_("version: a whole number is required; keep the exported value."))
    status = cell_text(raw.get("status"))
    progress = _int(raw.get("progress"))
    if progress is None:
        errors.append(_("progress: a whole number from 0 to 100 is required."))
    try:
        completed_on = _date(raw.get("completed_on"))
    except DateError as exc:
        errors.append(f"completed_on: {exc}")
        completed_on = None
    blocked_code = cell_text(raw.get("blocked_by")).upper()
    blocked_by = agencies.get(blocked_code) if blocked_code else None
    if blocked_code and blocked_by is None:
        errors.append(_("blocked_by: unknown agency code “%(code)s”.") % {"code": echo(blocked_code)})
    values = {
        "status": status,
        "progress": progress,
        "completed_on": completed_on,
        "blocked_by": blocked_by,
        "blocked_reason": cell_text(raw.get("blocked_reason")),
        "note": cell_text(raw.get("note")),
        "evidence_url": cell_text(raw.get("evidence_url")),
    }
    if errors:
        return BulkRow(number, "invalid", assignment, errors=errors, file_version=version)

    current = assignment_state(assignment)
    proposed = {**values, "blocked_by": blocked_code or None}
    # Shown on the preview page: a text of the file no longer than an answer may echo it (core.text).
    changes = [
        FieldChange(f, current[f], echo(proposed[f]) if isinstance(proposed[f], str) else proposed[f])
        for f in current
        if current[f] != proposed[f]
    ]
    if not changes and not values["note"] and not values["evidence_url"]:
        return BulkRow(number, "unchanged", assignment, file_version=version)
    if version != assignment.version:
        return BulkRow(
            number,
            "stale",
            assignment,
            changes=changes,
            errors=[
                _(
                    "version: the file has version %(file)s but the assignment is now at version %(current)s — "
                    "someone changed it since the export. Export again and redo this row."
                )
                % {"file": version, "current": assignment.version}
            ],
            file_version=version,
        )
    try:
        validate_update(current=assignment, today=today, workflow=workflow, **values)
    except ValidationError as exc:
        messages = []
        for field, items in exc.error_dict.items():
            for item in items:
                message = item.message % item.params if item.params else item.message
                messages.append(str(message) if field == NON_FIELD_ERRORS else f"{field}: {message}")
        return BulkRow(number, "invalid", assignment, changes=changes, errors=messages, file_version=version)
    return BulkRow(number, "change", assignment, changes=changes, values=values, file_version=version)


def _salt(kind):
    return SIGNING_SALT if kind == "assignments" else f"{SIGNING_SALT}.{kind}"


def sign_plan(plan, *, actor, kind="assignments"):
    """The accepted rows, signed for this user, for the apply step."""
    rows = [
        {
            "row": r.row,
            "assignment_id": r.assignment.pk,
            "version": r.file_version,
            **{k: v for k, v in r.values.items() if k not in {"blocked_by", "completed_on"}},
            "completed_on": r.values["completed_on"].isoformat() if r.values["completed_on"] else None,
            "blocked_by": r.values["blocked_by"].code if r.values["blocked_by"] else None,
        }
        for r in plan.to_apply
    ]
    return signing.dumps({"user": actor.pk, "rows": rows}, salt=_salt(kind), compress=True)


def unsign_plan(token, *, actor, kind="assignments"):
    """The rows signed by sign_plan() for this user and kind; BadSignature (incl. expired) when tampered, too
    old, or signed for the other kind."""
    data = signing.loads(token, salt=_salt(kind), max_age=PLAN_MAX_AGE)
    if data.get("user") != actor.pk:
        raise signing.BadSignature("signed for another user")
    agencies = {a.code: a for a in Agency.objects.filter(code__in={r["blocked_by"] for r in data["rows"]} - {None})}
    rows = []
    for row in data["rows"]:
        rows.append(
            {
                **row,
                "completed_on": parse_date(row["completed_on"]) if row["completed_on"] else None,
                "blocked_by": agencies.get(row["blocked_by"]) if row["blocked_by"] else None,
            }
        )
    return rows
