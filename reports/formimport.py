"""Importing a version of a report form (DESIGN.md §11, `manage.py import_form FILE`): an XLSX workbook with the
sheets `form`, `indicators`, `rules` and `rates` (README, "Report forms"). `plan_form_import` works out, writing
nothing, what the version would change — indicators added, renamed (a new code continuing an earlier series),
dropped and kept; rules and rates added, changed and removed — or every error by sheet, row and column, in
English and Vietnamese. `apply_form_import` writes the version and its rows in one transaction, or nothing.

A version takes effect on a day after today and after the last day that has reports, so no stored report
changes its form, and the processes that cache the versions (reports.formspec) learn of it before its first day.
`form_template_sheets` writes a version as such a workbook (the template: `manage.py form_template`).
"""

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core.exports import Sheet
from core.spreadsheets import SpreadsheetError, Table, read_workbook
from reports import formspec
from reports.models import DailyReport, FormIndicator, FormRate, FormRule, FormVersion, ReportForm

SHEETS = ("form", "indicators", "rules", "rates")
FORM_COLUMNS = ["code", "title_vi", "title_en", "status", "effective_from"]
INDICATOR_COLUMNS = [
    "code",
    "series",
    "label_vi",
    "label_en",
    "help_vi",
    "help_en",
    "type",
    "unit",
    "minimum",
    "maximum",
    "required",
    "aggregation",
    "section",
    "choices",
]
RULE_COLUMNS = ["code", "kind", "left", "op", "right", "field", "severity", "message_vi", "message_en"]
RATE_COLUMNS = ["code", "numerator", "denominator", "label_vi", "label_en"]
COLUMNS = {"form": FORM_COLUMNS, "indicators": INDICATOR_COLUMNS, "rules": RULE_COLUMNS, "rates": RATE_COLUMNS}
REQUIRED_COLUMNS = {
    "form": ["code"],
    "indicators": ["code", "type"],
    "rules": ["code", "kind", "left", "right"],
    "rates": ["code", "numerator"],
}


@dataclass
class FormError:
    """One error of a form file: the sheet, the row (the header is 1; 0 for the sheet or the form as a whole),
    the column, and what is wrong (English / Vietnamese)."""

    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = (
            f"sheet {self.sheet}"
            + (f", row {self.row}" if self.row else "")
            + (f", column {self.column}" if self.column else "")
        )
        return f"{where}: {self.message}"


@dataclass
class FormPlan:
    """What importing the file would do, or why it may not be imported."""

    spec: formspec.FormSpec | None = None
    previous: formspec.FormSpec | None = None
    errors: list[FormError] = field(default_factory=list)
    checksum: str = ""
    changes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and self.spec is not None


def _date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def last_report_day() -> datetime.date | None:
    return DailyReport.objects.aggregate(last=Max("date"))["last"]


def _versions_of(code: str) -> list[FormVersion]:
    return list(FormVersion.objects.filter(form__code=code).order_by("effective_from"))


def plan_form_import(
    path: "str | Path",
    *,
    effective_from: datetime.date | None = None,
    today: datetime.date | None = None,
) -> FormPlan:
    """Read and check a form file; write nothing."""
    plan = FormPlan()
    try:
        tables = read_workbook(path)
    except SpreadsheetError as exc:
        plan.errors.append(FormError(Path(str(path)).name, 0, "", str(exc)))
        return plan
    plan.checksum = next(iter(tables.values())).checksum if tables else ""
    data: dict[str, Any] = {}
    for sheet in SHEETS:
        table = tables.get(sheet)
        if table is None:
            plan.errors.append(FormError(sheet, 0, "", f"the workbook has no sheet {sheet} / thiếu trang {sheet}"))
            continue
        _check_columns(plan, sheet, table)
        data[sheet] = [{**cells, "_row": number} for number, cells in table.rows]
    for sheet in tables.keys() - set(SHEETS):
        plan.errors.append(FormError(sheet, 0, "", f"unknown sheet {sheet[:31]!r} / trang không xác định"))
    if plan.errors:
        return plan
    heads = data["form"]
    if len(heads) != 1:
        plan.errors.append(
            FormError("form", 0, "", "the sheet form has one row under its header / trang form có đúng một dòng")
        )
        return plan
    head = dict(heads[0])
    code = formspec._text(head.get("code")) or formspec.DAILY
    if code != formspec.DAILY:
        plan.errors.append(
            FormError(
                "form",
                2,
                "code",
                f"{code[:40]!r}: the portal's daily report is the form {formspec.DAILY} / biểu mẫu báo cáo ngày có mã"
                f" {formspec.DAILY}",
            )
        )
        return plan
    cell_date = head.get("effective_from")
    if effective_from is not None:
        head["effective_from"] = effective_from
    elif cell_date in (None, ""):
        plan.errors.append(
            FormError(
                "form",
                2,
                "effective_from",
                "say when the version takes effect (or --effective-from) / ghi ngày hiệu lực",
            )
        )
        return plan
    versions = _versions_of(code)
    known_series = {i.series for v in versions for i in v.spec().indicators}
    known_series |= {i.series for i in formspec.default_spec().indicators}
    head["version"] = (max((v.number for v in versions), default=0) or 0) + 1
    try:
        spec = formspec.build_spec(
            {"form": head, "indicators": data["indicators"], "rules": data["rules"], "rates": data["rates"]},
            known_series=known_series,
        )
    except formspec.FormDefinitionError as exc:
        plan.errors = [FormError(*error) for error in exc.errors]
        return plan
    previous = versions[-1].spec() if versions else formspec.default_spec()
    _check_dates(plan, spec, versions, today=today or timezone.localdate())
    _check_series(plan, spec, previous)
    if plan.errors:
        return plan
    plan.spec, plan.previous = spec, previous
    plan.changes = describe_changes(previous, spec)
    return plan


def _check_columns(plan: FormPlan, sheet: str, table: Table) -> None:
    allowed = set(COLUMNS[sheet])
    for column in table.header:
        if column and column not in allowed:
            plan.errors.append(
                FormError(
                    sheet, 1, column[:40], f"unknown column; use: {', '.join(COLUMNS[sheet])} / cột không xác định"
                )
            )
    for column in REQUIRED_COLUMNS[sheet]:
        if column not in table.header:
            plan.errors.append(FormError(sheet, 1, column, "missing column / thiếu cột"))


def _check_dates(plan: FormPlan, spec: formspec.FormSpec, versions: list[FormVersion], *, today: datetime.date) -> None:
    day = spec.effective_from
    last = last_report_day()
    if day <= today:
        plan.errors.append(
            FormError(
                "form",
                2,
                "effective_from",
                f"{day.isoformat()} is not after today ({today.isoformat()}): a version takes effect on a later day"
                f" / ngày hiệu lực phải sau hôm nay ({today.isoformat()})",
            )
        )
    if last is not None and day <= last:
        plan.errors.append(
            FormError(
                "form",
                2,
                "effective_from",
                f"reports exist up to {last.isoformat()}: a new version must take effect after that day, so no stored"
                f" report changes its form / đã có báo cáo đến ngày {last.isoformat()}: phiên bản mới phải có hiệu lực"
                " sau ngày đó",
            )
        )
    if versions and day <= versions[-1].effective_from:
        plan.errors.append(
            FormError(
                "form",
                2,
                "effective_from",
                f"version {versions[-1].number} takes effect on {versions[-1].effective_from.isoformat()}: a new"
                f" version takes effect after it / phiên bản mới phải có hiệu lực sau ngày"
                f" {versions[-1].effective_from.isoformat()}",
            )
        )


def _check_series(plan: FormPlan, spec: formspec.FormSpec, previous: formspec.FormSpec) -> None:
    """A series keeps its type: a renamed indicator continues the numbers of the one it replaces."""
    earlier = {i.series: i for i in formspec.default_spec().indicators} | previous.by_series
    for indicator in spec.indicators:
        before = earlier.get(indicator.series)
        if before is not None and before.type != indicator.type:
            plan.errors.append(
                FormError(
                    "indicators",
                    indicator.order + 2,
                    "type",
                    f"series {indicator.series} is {before.type}; a series keeps its type / chuỗi {indicator.series}"
                    f" giữ kiểu {before.type}",
                )
            )


def describe_changes(previous: formspec.FormSpec, spec: formspec.FormSpec) -> list[str]:
    """Lines saying what the version changes from the one before it."""
    lines = []
    before = previous.by_series
    for indicator in spec.indicators:
        old = before.get(indicator.series)
        if old is None:
            lines.append(f"indicator added: {indicator.code}")
        elif old.code != indicator.code:
            lines.append(f"indicator renamed: {old.code} → {indicator.code} (series {indicator.series} continues)")
        elif old.as_dict() != indicator.as_dict():
            lines.append(f"indicator changed: {indicator.code}")
    kept = {i.series for i in spec.indicators}
    lines += [f"indicator dropped: {i.code} (its series ends)" for i in previous.indicators if i.series not in kept]
    old_rules = {(r.code, r.field, r.left.text): r for r in previous.rules}
    new_rules = {(r.code, r.field, r.left.text): r for r in spec.rules}
    lines += [f"rule added: {k[0]} ({r.left.text} …)" for k, r in new_rules.items() if k not in old_rules]
    lines += [f"rule removed: {k[0]} ({r.left.text} …)" for k, r in old_rules.items() if k not in new_rules]
    lines += [
        f"rule changed: {k[0]} ({r.left.text} …)"
        for k, r in new_rules.items()
        if k in old_rules and old_rules[k].as_dict() != r.as_dict()
    ]
    old_rates = {r.code: r for r in previous.rates}
    new_rates = {r.code: r for r in spec.rates}
    lines += [f"rate added: {code}" for code in new_rates if code not in old_rates]
    lines += [f"rate removed: {code}" for code in old_rates if code not in new_rates]
    lines += [
        f"rate changed: {code}"
        for code, rate in new_rates.items()
        if code in old_rates and old_rates[code].as_dict() != rate.as_dict()
    ]
    return lines


class StaleFormPlan(Exception):
    """Between the plan and its application, reports arrived for the version's first day or another version
    was imported: nothing was written."""


def apply_form_import(plan: FormPlan, *, user: str, file: str) -> FormVersion:
    """Write the planned version with its indicators, rules and rates in one transaction (all or nothing).
    Raises StaleFormPlan when the dates no longer allow it."""
    spec = plan.spec
    if spec is None or plan.errors:
        raise ValueError("a plan with errors is never applied")
    with transaction.atomic():
        form, _created = ReportForm.objects.select_for_update().get_or_create(
            code=spec.code, defaults={"title_vi": spec.title_vi, "title_en": spec.title_en, "status": spec.status}
        )
        check = FormPlan()
        _check_dates(check, spec, _versions_of(spec.code), today=timezone.localdate())
        if check.errors:
            raise StaleFormPlan("; ".join(str(e) for e in check.errors))
        form.title_vi, form.title_en, form.status = spec.title_vi, spec.title_en, spec.status
        form.save(update_fields=["title_vi", "title_en", "status"])
        version = FormVersion.objects.create(
            form=form,
            number=spec.number,
            status=spec.status,
            title_vi=spec.title_vi,
            title_en=spec.title_en,
            effective_from=spec.effective_from,
            imported_at=timezone.now(),
            imported_by=user[:150],
            source_file=Path(file).name[:255],
            checksum=plan.checksum,
        )
        FormIndicator.objects.bulk_create(
            FormIndicator(
                version=version,
                order=order,
                code=i.code,
                series=i.series,
                label_vi=i.label_vi,
                label_en=i.label_en,
                help_vi=i.help_vi,
                help_en=i.help_en,
                type=i.type,
                unit=i.unit,
                minimum=i.minimum,
                maximum=i.maximum,
                required=i.required,
                aggregation=i.aggregation,
                section=i.section,
                choices=[{"code": c.code, "label_vi": c.label_vi, "label_en": c.label_en} for c in i.choices],
            )
            for order, i in enumerate(spec.indicators)
        )
        FormRule.objects.bulk_create(
            FormRule(version=version, order=order, **{k: v for k, v in r.as_dict().items()})
            for order, r in enumerate(spec.rules)
        )
        FormRate.objects.bulk_create(
            FormRate(version=version, order=order, **{**r.as_dict(), "denominator": r.as_dict()["denominator"] or ""})
            for order, r in enumerate(spec.rates)
        )
        transaction.on_commit(formspec.forget)
    formspec.forget()  # this process at once (inside an outer transaction too); the others at their next day
    return version


def form_template_sheets(spec: formspec.FormSpec) -> list[Sheet]:
    """A version as the workbook import_form reads (the template of a new version: edit, then import)."""
    head = spec.as_dict()
    return [
        Sheet("form", FORM_COLUMNS, [[spec.code, spec.title_vi, spec.title_en, spec.status, ""]]),
        Sheet(
            "indicators",
            INDICATOR_COLUMNS,
            [
                [
                    *(i[c] for c in INDICATOR_COLUMNS[:-1]),
                    "; ".join(f"{c['code']}={c['label_vi']}|{c['label_en']}" for c in i["choices"]),
                ]
                for i in head["indicators"]
            ],
        ),
        Sheet("rules", RULE_COLUMNS, [[r[c] for c in RULE_COLUMNS] for r in head["rules"]]),
        Sheet("rates", RATE_COLUMNS, [[r[c] or "" for c in RATE_COLUMNS] for r in head["rates"]]),
    ]
