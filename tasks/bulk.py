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
from core.systems import SYSTEM_CODES
from core.text import echo
from localities.models import Province
from tasks.models import BLOCKER_FIELDS, Agency, Vendor, blocker_codes
from tasks.scoping import scope_for_user
from tasks.selectors import FieldChange, assignment_list, assignment_state, subtask_list
from tasks.services import ASSIGNMENTS, SUBTASKS, validate_update

# What each kind's round trip reads and which workflow it writes through.
KINDS = {"assignments": (assignment_list, ASSIGNMENTS), "subtasks": (subtask_list, SUBTASKS)}

REQUIRED_COLUMNS = ["id", "version", "status", "progress"]
OPTIONAL_COLUMNS = ["completed_on", *BLOCKER_FIELDS, "blocked_reason", "note", "evidence_url"]
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
    blockers = Blockers.load()
    plan = BulkPlan(rows=[])
    for number, raw in rows:
        plan.rows.append(_plan_row(number, raw, assignments, blockers, today, workflow))
    return plan


@dataclasses.dataclass
class Blockers:
    """Every party a row may name as its blocker, by the code a clerk types (read once per upload): agencies and
    vendors whatever the case, provinces also without their leading zero (a spreadsheet turns "01" into 1),
    systems by their code (core.systems)."""

    agencies: dict
    provinces: dict
    vendors: dict

    @classmethod
    def load(cls):
        return cls(
            agencies={a.code.upper(): a for a in Agency.objects.all()},
            provinces={p.code: p for p in Province.objects.all()},
            vendors={v.code.lower(): v for v in Vendor.objects.all()},
        )

    def read(self, raw, current, errors):
        """{field: value} of the row's blocker columns, for validate_update(); an unknown code is an error
        naming its column. A column the file does not have keeps the item's current blocker of that kind."""
        values = {}
        kept = blocker_codes(current)
        for field, kind in BLOCKER_FIELDS.items():
            code = cell_text(raw[field]) if field in raw else (kept[field] or "")
            value = self.find(kind, code) if code else None
            if code and value is None:
                errors.append(
                    _("%(column)s: unknown %(kind)s code “%(code)s”.")
                    % {"column": field, "kind": KIND_NAMES[kind](), "code": echo(code)}
                )
            values[field] = value if kind != "system" else (value or "")
        return values

    def find(self, kind, code):
        if kind == "agency":
            return self.agencies.get(code.upper())
        if kind == "province":
            return self.provinces.get(code.zfill(2) if code.isascii() and code.isdigit() else code)
        if kind == "vendor":
            return self.vendors.get(code.lower())
        return code.lower() if code.lower() in SYSTEM_CODES else None


# The kind of each blocker column, as an error message names it.
KIND_NAMES = {
    "agency": lambda: _("agency"),
    "province": lambda: _("province"),
    "vendor": lambda: _("vendor"),
    "system": lambda: _("system"),
}


def blocker_code(value):
    """The code of a blocker value (a model row, a system code, or nothing) as the signed plan carries it."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else getattr(value, "code", None) or value.pk


def _plan_row(number, raw, assignments, blockers, today, workflow=ASSIGNMENTS):
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
    blocker = blockers.read(raw, assignment, errors)
    values = {
        "status": status,
        "progress": progress,
        "completed_on": completed_on,
        **blocker,
        "blocked_reason": cell_text(raw.get("blocked_reason")),
        "note": cell_text(raw.get("note")),
        "evidence_url": cell_text(raw.get("evidence_url")),
    }
    if errors:
        return BulkRow(number, "invalid", assignment, errors=errors, file_version=version)

    current = assignment_state(assignment)
    proposed = {**values, **{field: blocker_code(value) for field, value in blocker.items()}}
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
            **{k: v for k, v in r.values.items() if k not in {*BLOCKER_FIELDS, "completed_on"}},
            "completed_on": r.values["completed_on"].isoformat() if r.values["completed_on"] else None,
            **{field: blocker_code(r.values[field]) for field in BLOCKER_FIELDS},
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
    named = {field: {r.get(field) for r in data["rows"]} - {None} for field in BLOCKER_FIELDS}
    parties = {
        "blocked_by": {a.code: a for a in Agency.objects.filter(code__in=named["blocked_by"])},
        "blocked_by_province": Province.objects.in_bulk(named["blocked_by_province"]),
        "blocked_by_vendor": {v.code: v for v in Vendor.objects.filter(code__in=named["blocked_by_vendor"])},
    }
    rows = []
    for row in data["rows"]:
        rows.append(
            {
                **row,
                "completed_on": parse_date(row["completed_on"]) if row["completed_on"] else None,
                **{field: found.get(row.get(field)) for field, found in parties.items()},
                "blocked_by_system": row.get("blocked_by_system") or "",
            }
        )
    return rows
