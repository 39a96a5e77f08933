"""Read and check a contacts file (CSV or XLSX, read as `import_tasks` reads the catalogue): every row
validated, every error named by row and column (core.imports), and the changes planned.
alerts.services.contacts.contacts_import writes a plan without errors in one transaction; a file with any
error writes nothing.

| column | required | value |
|---|---|---|
| unit_kind | yes, but for role `vendor` | `agency`, `province`, `commune` or `vendor` (tasks.Vendor) |
| unit_code | yes, but for role `vendor` | the agency's code (`BCA`), the province's 2 digits (`01`), the commune's 5 |
|   |   | digits (`00004`), the vendor's code (`vnpt-it`) |
| role | yes | `head` (the accountable head: one per unit), `focal_point`, or `vendor` (a system's owner or vendor) |
| system | for role `vendor` | the system it answers for (core.systems: `vneid`, `national_portal`, …) |
| name | yes | the person's name |
| email | yes | an e-mail address |
| title, phone | no | text |
| language | no | `vi` (default) or `en`: the language of their e-mail |

A system's vendor (role `vendor`, support.services tells it of escalated incidents) is national — unit_kind and
unit_code empty — or of one province's deployment (unit_kind `province`); `system` is given for it only. A
unit's head in the file replaces the unit's head (the same row is updated with the new person); a focal point,
and a system's vendor, is matched by its unit (for a vendor: its system and province) and e-mail address.
Contacts missing from the file are kept (delete them in the admin). Re-importing the same file changes nothing.
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
from core.systems import SYSTEM_CODES
from localities.models import Commune, Province
from tasks.models import Agency, Vendor

COLUMNS = ["unit_kind", "unit_code", "role", "system", "name", "title", "email", "phone", "language"]
# The columns a file must have (`system` may be left out by a file without system vendors); a unit is required
# on each row but a system vendor's.
REQUIRED = ["unit_kind", "unit_code", "role", "name", "email"]
REQUIRED_VALUES = ["role", "name", "email"]
KINDS = ("agency", "province", "commune", "vendor")
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
    vendors = {code.lower(): pk for pk, code in Vendor.objects.values_list("pk", "code")}
    provinces = set(Province.objects.values_list("code", flat=True))
    communes = set(Commune.objects.values_list("code", flat=True))
    existing: defaultdict[tuple[Any, ...], list[Contact]] = defaultdict(list)
    # A province's addresses, whatever the role: the database keeps one per province (contact_province_email_uniq).
    province_emails: dict[tuple[str, str], Contact] = {}
    for contact in Contact.objects.all():
        existing[_unit_key_of(contact)].append(contact)
        if contact.province_id:
            province_emails[(contact.province_id, contact.email.lower())] = contact
    heads_in_file: dict[tuple[Any, ...], int] = {}
    emails_in_file: dict[tuple[Any, ...], int] = {}
    province_rows: dict[tuple[str, str], tuple[Any, int]] = {}

    for number, raw in rows:
        errors: list[RowError] = []

        def err(column: str, message: str, errors: list[RowError] = errors, number: int = number) -> None:
            errors.append(RowError(number, column, message))

        values = {c: cell_text(raw.get(c)) for c in COLUMNS}
        for column in REQUIRED_VALUES:
            if not values[column]:
                err(column, "is required")
        kind, code = values["unit_kind"].lower(), values["unit_code"]
        role = values["role"].lower()
        roles = [Contact.Role.HEAD, Contact.Role.FOCAL_POINT, Contact.Role.VENDOR]
        if role and role not in roles:
            err("role", f"unknown role {values['role']!r} (expected one of {', '.join(roles)})")
        unit_key: tuple[Any, ...] | None = None
        if role == Contact.Role.VENDOR:
            unit_key = _system_unit(values, kind, code, provinces, err)
        else:
            if values["system"]:
                err("system", "is given for role vendor only (a system's owner or vendor)")
            for column in ("unit_kind", "unit_code"):
                if not values[column]:
                    err(column, "is required")
            unit_key = _unit(kind, code, agencies, vendors, provinces, communes, err) if kind and code else None
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
        province = _province_of(unit_key) if unit_key is not None else None
        if province and email:
            # One address per province, whatever the role (a system's vendor of the province included).
            other = province_emails.get((province, email))
            if other is not None and _unit_key_of(other) != unit_key:
                err("email", f"{email} is already a contact of province {province} ({other.get_role_display()})")
            first = province_rows.setdefault((province, email), (unit_key, number))
            if first[0] != unit_key:
                err("email", f"{email} is already a contact of province {province} on row {first[1]}")
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
        if unit_key[0] == "system":
            unit = {"system": unit_key[1], "province_id": unit_key[2]}
            label = f"system {unit_key[1]}" + (f" in {unit_key[2]}" if unit_key[2] else " (national)")
        else:
            unit = {f"{unit_key[0]}_id": unit_key[1]}
            label = f"{unit_key[0]} {code.upper() if kind == 'agency' else code.lower() if kind == 'vendor' else code}"
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


def _unit_key_of(contact: Contact) -> tuple[Any, ...]:
    """The key a contact is matched under: (kind, id or code), or for a system's vendor ("system", system,
    province or None)."""
    if contact.role == Contact.Role.VENDOR:
        return ("system", contact.system, contact.province_id)
    if contact.vendor_id:
        return ("vendor", contact.vendor_id)
    return (contact.unit_kind, contact.agency_id or contact.province_id or contact.commune_id)


def _province_of(unit_key: tuple[Any, ...]) -> str | None:
    """The province a contact's unit key names (a province, or a province's system vendor)."""
    if unit_key[0] == "province":
        return str(unit_key[1])
    if unit_key[0] == "system":
        return unit_key[2]
    return None


def _province(code: str, provinces: set[str], err: Any) -> str | None:
    if not (code.isascii() and code.isdigit() and len(code) == CODE_DIGITS["province"]):
        err("unit_code", f"{code!r}: a province code is written with 2 digits, e.g. 01")
        return None
    if code not in provinces:
        err("unit_code", f"unknown province {code!r}")
        return None
    return code


def _unit(
    kind: str, code: str, agencies: dict, vendors: dict, provinces: set[str], communes: set[str], err: Any
) -> tuple[Any, ...] | None:
    """The unit a head or a focal point belongs to, or None (with the error named)."""
    if kind not in KINDS:
        err("unit_kind", f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
        return None
    if kind == "agency":
        if code.upper() not in agencies:
            err("unit_code", f"unknown agency {code!r}")
            return None
        return ("agency", agencies[code.upper()])
    if kind == "vendor":
        if code.lower() not in vendors:
            err("unit_code", f"unknown vendor {code!r} (vendors are added in the admin)")
            return None
        return ("vendor", vendors[code.lower()])
    if kind == "province":
        province = _province(code, provinces, err)
        return ("province", province) if province else None
    if not (code.isascii() and code.isdigit() and len(code) == CODE_DIGITS["commune"]):
        err("unit_code", f"{code!r}: a commune code is written with 5 digits, e.g. 00001")
        return None
    if code not in communes:
        err("unit_code", f"unknown commune {code!r}")
        return None
    return ("commune", code)


def _system_unit(values: dict[str, str], kind: str, code: str, provinces: set[str], err: Any) -> tuple[Any, ...] | None:
    """A system's vendor: ("system", system, province or None), or None (with the error named)."""
    system = values["system"].lower()
    if not system:
        err("system", f"is required for role vendor (one of {', '.join(SYSTEM_CODES)})")
    elif system not in SYSTEM_CODES:
        err("system", f"unknown system {values['system']!r} (expected one of {', '.join(SYSTEM_CODES)})")
    province = None
    if kind and kind != "province":
        err("unit_kind", "a system's vendor is national (unit_kind empty) or of one province (unit_kind province)")
        return None
    if kind == "province":
        if not code:
            err("unit_code", "is required")
            return None
        province = _province(code, provinces, err)
        if province is None:
            return None
    elif code:
        err("unit_kind", "is required with a unit_code (province, for a province's vendor)")
        return None
    if not system or system not in SYSTEM_CODES:
        return None
    return ("system", system, province)
