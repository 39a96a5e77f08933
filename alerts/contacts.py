"""Read and check a contacts file (CSV or XLSX, read as `import_tasks` reads the catalogue): every row
validated, every error named by row and column (core.imports), and the changes planned.
alerts.services.contacts.contacts_import writes a plan without errors in one transaction; a file with any
error writes nothing.

| column | required | value |
|---|---|---|
| unit_kind | yes | `agency`, `province` or `commune` |
| unit_code | yes | the agency's code (`BCA`), the province's 2 digits (`01`), the commune's 5 digits (`00004`) |
| role | yes | `head` (the accountable head: one per unit) or `focal_point` |
| name | yes | the person's name |
| email | yes | an e-mail address |
| title, phone | no | text |
| language | no | `vi` (default) or `en`: the language of their e-mail |

A unit's head in the file replaces the unit's head (the same row is updated with the new person); a focal
point is matched by its unit and e-mail address. Contacts missing from the file are kept (delete them in
the admin). Re-importing the same file changes nothing.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from alerts.models import Contact, Language
from core.imports import ImportPlan, RowError
from core.spreadsheets import cell_text, read_table
from localities.models import Commune, Province
from tasks.models import Agency

COLUMNS = ["unit_kind", "unit_code", "role", "name", "title", "email", "phone", "language"]
REQUIRED = ["unit_kind", "unit_code", "role", "name", "email"]
KINDS = ("agency", "province", "commune")
CODE_DIGITS = {"province": 2, "commune": 5}
PHONE_RE = re.compile(r"^[0-9+() .\-]{0,40}$")
VALUE_FIELDS = ["role", "name", "title", "email", "phone", "language"]


@dataclass
class ContactRow:
    row: int
    unit_label: str
    action: str  # create | update | unchanged
    unit: dict[str, Any] = field(default_factory=dict)  # {"agency_id": 3} | {"province_id": "01"} | …
    values: dict[str, Any] = field(default_factory=dict)
    contact_id: int | None = None
    changes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        detail = f" ({', '.join(self.changes)})" if self.changes else ""
        who = f"{self.values.get('role')} {self.values.get('email')}"
        return f"row {self.row} {self.unit_label} {who}: {self.action}{detail}"


ContactPlan = ImportPlan[ContactRow]


def plan_contacts(path_or_file: Any, *, filename: str | None = None) -> ContactPlan:
    """Validate the whole file and work out what applying it would do. Writes nothing. Raises
    core.spreadsheets.SpreadsheetError when the file itself cannot be read."""
    table = read_table(path_or_file, filename=filename)
    plan = ContactPlan(checksum=table.checksum)
    header, rows = table.header, table.rows
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h and h not in COLUMNS]
    plan.errors += [RowError(1, c, "required column is missing") for c in missing]
    plan.errors += [RowError(1, c, f"unknown column (expected: {', '.join(COLUMNS)})") for c in unknown]
    if plan.errors:
        return plan
    if not rows:
        plan.errors.append(RowError(2, "unit_code", "the file has no contact rows"))
        return plan

    agencies = {code.upper(): pk for pk, code in Agency.objects.values_list("pk", "code")}
    provinces = set(Province.objects.values_list("code", flat=True))
    communes = set(Commune.objects.values_list("code", flat=True))
    existing: defaultdict[tuple[str, Any], list[Contact]] = defaultdict(list)
    for contact in Contact.objects.all():
        existing[(contact.unit_kind, contact.agency_id or contact.province_id or contact.commune_id)].append(contact)
    heads_in_file: dict[tuple[str, Any], int] = {}
    emails_in_file: dict[tuple[str, Any, str], int] = {}

    for number, raw in rows:
        errors: list[RowError] = []

        def err(column: str, message: str, errors: list[RowError] = errors, number: int = number) -> None:
            errors.append(RowError(number, column, message))

        values = {c: cell_text(raw.get(c)) for c in COLUMNS}
        for column in REQUIRED:
            if not values[column]:
                err(column, "is required")
        kind, code = values["unit_kind"].lower(), values["unit_code"]
        unit_key: tuple[str, Any] | None = None
        if kind and kind not in KINDS:
            err("unit_kind", f"unknown kind {values['unit_kind']!r} (expected one of {', '.join(KINDS)})")
        elif kind == "agency" and code:
            if code.upper() not in agencies:
                err("unit_code", f"unknown agency {code!r}")
            else:
                unit_key = ("agency", agencies[code.upper()])
        elif kind in CODE_DIGITS and code:
            digits = CODE_DIGITS[kind]
            if not (code.isdigit() and len(code) == digits):
                err("unit_code", f"{code!r}: a {kind} code is written with {digits} digits, e.g. {'0' * (digits - 1)}1")
            elif code not in (provinces if kind == "province" else communes):
                err("unit_code", f"unknown {kind} {code!r}")
            else:
                unit_key = (kind, code)
        role = values["role"].lower()
        unit_roles = [Contact.Role.HEAD, Contact.Role.FOCAL_POINT]
        if role == Contact.Role.VENDOR:
            err("role", "a system's vendor is not a unit's contact: add it in the admin (Contacts, role vendor)")
        elif role and role not in unit_roles:
            err("role", f"unknown role {values['role']!r} (expected one of {', '.join(unit_roles)})")
        email = values["email"].lower()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                err("email", f"{values['email']!r} is not a valid e-mail address")
        language = values["language"].lower() or Language.VI
        if language not in Language.values:
            err("language", f"unknown language {values['language']!r} (expected vi or en)")
        for column, limit in (("name", 200), ("title", 200)):
            if len(values[column]) > limit:
                err(column, f"is longer than {limit} characters")
        if not PHONE_RE.match(values["phone"]):
            err("phone", f"{values['phone']!r}: digits, spaces and + ( ) . - only, at most 40")
        if unit_key is not None and role == Contact.Role.HEAD:
            if unit_key in heads_in_file:
                err("role", f"duplicated head: this unit's head is already on row {heads_in_file[unit_key]}")
            else:
                heads_in_file[unit_key] = number
        if unit_key is not None and email:
            if (*unit_key, email) in emails_in_file:
                err(
                    "email",
                    f"{email} is listed twice for this unit (first on row {emails_in_file[(*unit_key, email)]})",
                )
            else:
                emails_in_file[(*unit_key, email)] = number
        if errors or unit_key is None:
            plan.errors.extend(errors)
            continue

        new = {
            "role": role,
            "name": values["name"],
            "title": values["title"],
            "email": email,
            "phone": values["phone"],
            "language": language,
        }
        unit = {f"{unit_key[0]}_id": unit_key[1]}
        label = f"{unit_key[0]} {code.upper() if kind == 'agency' else code}"
        current = existing[unit_key]
        by_email = next((c for c in current if c.email.lower() == email), None)
        head = next((c for c in current if c.role == Contact.Role.HEAD), None)
        if role == Contact.Role.HEAD:
            match = head
            if by_email is not None and by_email != head:
                plan.errors.append(
                    RowError(number, "email", f"{email} is a focal point of this unit: remove that contact first")
                )
                continue
        else:
            match = by_email
            if match is not None and match.role == Contact.Role.HEAD:
                plan.errors.append(
                    RowError(
                        number,
                        "role",
                        f"{email} is this unit's head: name another head first (in the admin or another file)",
                    )
                )
                continue
        if match is None:
            plan.rows.append(ContactRow(number, label, "create", unit=unit, values=new))
            continue
        changes = [f for f in VALUE_FIELDS if getattr(match, f) != new[f]]
        plan.rows.append(
            ContactRow(
                number, label, "update" if changes else "unchanged", unit, new, contact_id=match.pk, changes=changes
            )
        )
    return plan
