"""Import the task catalogue from a spreadsheet (CSV or XLSX): parse, validate every row, plan the changes,
and apply them in one transaction — or nothing.

Column layout (first row is the header; names are exact, order is free):

| column | required | value |
|---|---|---|
| code | yes | stable key, e.g. T01 (letters, digits, `.`, `-`, `_`; at most 20) |
| title_vi | yes | Vietnamese title |
| title_en | no | English title (falls back to the Vietnamese one) |
| group | yes | group number 1–8 |
| phase | yes | phase code (`urgent`, `breakthrough`, …) |
| level | yes | `central`, `all_ministries`, `province` or `commune`: who carries it out |
| lead_agency | yes | agency code (e.g. `BCA`) |
| coordinating_agencies | no | agency codes separated by `;` |
| deadline | no | YYYY-MM-DD; empty means the phase's deadline |
| expected_product | no | text |
| description | no | text |
| is_official | no | true/false (default true) |

Assignments follow the level: one per lead and coordinating agency (central); the same plus one per ministry
and ministry-level agency (all_ministries); one per province; or one per commune. Re-importing the same file
changes nothing.
"""

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils import translation

from core.dates import DATE_MESSAGE, DateError, parse_date
from core.imports import ImportPlan, RowError
from core.spreadsheets import cell_text, read_table
from localities.models import Commune, Province
from tasks.models import (
    ALL_MINISTRIES_KINDS,
    Agency,
    Assignment,
    CatalogueImport,
    Level,
    Phase,
    StatusUpdate,
    Task,
    TaskGroup,
    TaskLevel,
)

COLUMNS = [
    "code",
    "title_vi",
    "title_en",
    "group",
    "phase",
    "level",
    "lead_agency",
    "coordinating_agencies",
    "deadline",
    "expected_product",
    "description",
    "is_official",
]
REQUIRED = ["code", "title_vi", "group", "phase", "level", "lead_agency"]
CODE_RE = re.compile(r"^[A-Za-z0-9._-]{1,20}$")
TRUE_WORDS = {"true", "1", "yes", "x", "có", "co"}
FALSE_WORDS = {"false", "0", "no", "không", "khong"}
# Fields of Task compared on re-import (coordinating agencies compared separately).
TASK_FIELDS = [
    "title_vi",
    "title_en",
    "description",
    "group_id",
    "phase_id",
    "deadline",
    "level",
    "lead_agency_id",
    "expected_product",
    "is_official",
]


@dataclass
class RowPlan:
    row: int
    code: str
    action: str  # create | update | unchanged
    changes: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    coordinating: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        detail = f" ({', '.join(self.changes)})" if self.changes else ""
        return f"row {self.row} {self.code}: {self.action}{detail}"


def _date(value: Any) -> datetime.date:
    return parse_date(value if not isinstance(value, str) else cell_text(value))


def plan_import(path_or_file: "str | Path | IO[bytes]", *, filename: str | None = None) -> ImportPlan[RowPlan]:
    """Validate the whole file and work out what an apply would do. Writes nothing. Raises
    core.spreadsheets.SpreadsheetError when the file itself cannot be read."""
    table = read_table(path_or_file, filename=filename)
    plan: ImportPlan[RowPlan] = ImportPlan(checksum=table.checksum)
    header, rows = table.header, table.rows
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h and h not in COLUMNS]
    if missing:
        plan.errors.extend(RowError(1, c, "required column is missing") for c in missing)
    if unknown:
        plan.errors.extend(RowError(1, c, f"unknown column (expected: {', '.join(COLUMNS)})") for c in unknown)
    if plan.errors:
        return plan
    if not rows:
        plan.errors.append(RowError(2, "code", "the file has no task rows"))
        return plan

    groups = {g.number: g for g in TaskGroup.objects.all()}
    phases = {p.code: p for p in Phase.objects.all()}
    agencies = {a.code.upper(): a for a in Agency.objects.all()}
    existing = {t.code: t for t in Task.objects.prefetch_related("coordinating_agencies")}
    seen: dict[str, int] = {}

    for number, raw in rows:
        errors: list[RowError] = []

        def err(column: str, message: str, errors: list[RowError] = errors, number: int = number) -> None:
            errors.append(RowError(number, column, message))

        values = {c: cell_text(raw.get(c)) for c in COLUMNS}
        for column in REQUIRED:
            if not values[column]:
                err(column, "is required")
        code = values["code"]
        if code and not CODE_RE.match(code):
            err("code", f"{code!r} must be 1–20 letters, digits, '.', '-' or '_'")
        elif code in seen:
            err("code", f"duplicate code {code} (first on row {seen[code]})")
        elif code:
            seen[code] = number
        for column, limit in (("title_vi", 500), ("title_en", 500)):
            if len(values[column]) > limit:
                err(column, f"is longer than {limit} characters")

        group: TaskGroup | None = None
        if values["group"]:
            try:
                group = groups[int(values["group"])]
            except (ValueError, KeyError):
                err("group", f"unknown group {values['group']!r} (expected one of {sorted(groups)})")
        phase = phases.get(values["phase"]) if values["phase"] else None
        if values["phase"] and phase is None:
            err("phase", f"unknown phase {values['phase']!r} (expected one of {sorted(phases)})")
        if values["level"] and values["level"] not in TaskLevel.values:
            err("level", f"unknown level {values['level']!r} (expected one of {', '.join(TaskLevel.values)})")
        lead = agencies.get(values["lead_agency"].upper()) if values["lead_agency"] else None
        if values["lead_agency"] and lead is None:
            err("lead_agency", f"unknown agency {values['lead_agency']!r}")
        coordinating: list[Agency] = []
        for item in filter(None, (c.strip() for c in values["coordinating_agencies"].split(";"))):
            agency = agencies.get(item.upper())
            if agency is None:
                err("coordinating_agencies", f"unknown agency {item!r}")
            elif agency != lead and agency not in coordinating:
                coordinating.append(agency)
        deadline: datetime.date | None = None
        if raw.get("deadline") not in (None, ""):
            try:
                deadline = _date(raw["deadline"])
            except DateError:
                # The import's messages are English, like the column names (DATE_MESSAGE in English).
                with translation.override("en"):
                    err("deadline", f"{values['deadline']!r}: {DATE_MESSAGE}")
        elif phase is not None:
            deadline = phase.deadline
        official_word = values["is_official"].lower() or "true"  # absent or empty: official
        if official_word in TRUE_WORDS:
            is_official = True
        elif official_word in FALSE_WORDS:
            is_official = False
        else:
            err("is_official", f"{values['is_official']!r} is not true or false")
            is_official = None

        if errors:
            plan.errors.extend(errors)
            continue
        # A row without errors names a known group, phase and lead agency (each is required above).
        assert group is not None and phase is not None and lead is not None
        new = {
            "title_vi": values["title_vi"],
            "title_en": values["title_en"] or values["title_vi"],
            "description": values["description"],
            "group_id": group.pk,
            "phase_id": phase.pk,
            "deadline": deadline,
            "level": values["level"],
            "lead_agency_id": lead.pk,
            "expected_product": values["expected_product"],
            "is_official": is_official,
        }
        coordinating_ids = sorted(a.pk for a in coordinating)
        task = existing.get(code)
        if task is None:
            plan.rows.append(RowPlan(number, code, "create", values=new, coordinating=coordinating_ids))
            continue
        changes = [f for f in TASK_FIELDS if getattr(task, f) != new[f]]
        if sorted(a.pk for a in task.coordinating_agencies.all()) != coordinating_ids:
            changes.append("coordinating_agencies")
        if "level" in changes and Assignment.objects.filter(task=task, version__gt=1).exists():
            plan.errors.append(
                RowError(number, "level", f"cannot change the level of {code}: its assignments already have history")
            )
            continue
        action = "update" if changes else "unchanged"
        plan.rows.append(RowPlan(number, code, action, [c.removesuffix("_id") for c in changes], new, coordinating_ids))
    return plan


@transaction.atomic
def apply_import(plan: ImportPlan[RowPlan], *, actor_name: str, filename: str) -> CatalogueImport:
    """Write a validated plan in one transaction; assignments are created to match each task's level."""
    if not plan.ok:
        raise ValueError("cannot apply a plan with errors")
    tasks_by_code = {t.code: t for t in Task.objects.select_for_update().filter(code__in=[r.code for r in plan.rows])}
    for row in plan.rows:
        if row.action == "unchanged":
            continue
        task = tasks_by_code.get(row.code)
        if task is None:
            task = Task.objects.create(code=row.code, **row.values)
            tasks_by_code[row.code] = task
        else:
            for name, value in row.values.items():
                setattr(task, name, value)
            task.save()
        task.coordinating_agencies.set(row.coordinating)
        sync_assignments(task, coordinating_ids=row.coordinating)
    return CatalogueImport.objects.create(
        imported_by=actor_name,
        filename=Path(filename).name,
        checksum=plan.checksum,
        created=plan.count("create"),
        updated=plan.count("update"),
        unchanged=plan.count("unchanged"),
    )


def sync_assignments(task: Task, *, coordinating_ids: list[int] | None = None) -> int:
    """Make the task's assignments match its level and units. Untouched assignments of units no longer
    responsible are removed; those with history are kept, since history is never deleted."""
    if coordinating_ids is None:
        coordinating_ids = list(task.coordinating_agencies.values_list("pk", flat=True))
    current = Assignment.objects.filter(task=task)
    if task.level in (TaskLevel.CENTRAL, TaskLevel.ALL_MINISTRIES):
        # Every ministry's part of an all_ministries task is a central assignment like the lead's.
        wanted = {task.lead_agency_id, *coordinating_ids}
        if task.level == TaskLevel.ALL_MINISTRIES:
            wanted.update(Agency.objects.filter(kind__in=ALL_MINISTRIES_KINDS).values_list("pk", flat=True))
        have = set(current.filter(level=Level.CENTRAL).values_list("agency_id", flat=True))
        new = [Assignment(task=task, level=Level.CENTRAL, agency_id=a) for a in sorted(wanted - have)]
        stale = current.exclude(level=Level.CENTRAL, agency_id__in=wanted)
    elif task.level == Level.PROVINCE:
        have = set(current.filter(level=Level.PROVINCE).values_list("province_id", flat=True))
        new = [
            Assignment(task=task, level=Level.PROVINCE, province_id=code)
            for code in Province.objects.exclude(pk__in=have).values_list("pk", flat=True)
        ]
        stale = current.exclude(level=Level.PROVINCE)
    else:
        have = set(current.filter(level=Level.COMMUNE).values_list("commune_id", flat=True))
        new = [
            Assignment(task=task, level=Level.COMMUNE, commune_id=code, province_id=province)
            for code, province in Commune.objects.exclude(pk__in=have).values_list("pk", "province_id")
        ]
        stale = current.exclude(level=Level.COMMUNE)
    Assignment.objects.bulk_create(new, batch_size=2000)
    with_history = StatusUpdate.objects.filter(assignment__in=stale).values("assignment_id")
    stale.exclude(pk__in=with_history).delete()
    return len(new)
