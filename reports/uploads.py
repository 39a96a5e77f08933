"""CSV and XLSX uploads of daily reports: a header row with the API's field names, then one report per row.
Cells become a payload with validation.payload_from_text, so the rules and messages are the API's."""

import csv
import io

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exports import csv_bytes
from core.spreadsheets import CellTooLong, SpreadsheetError, csv_records, rows_with_content, xlsx_rows
from reports import formspec
from reports.completeness import lock_date
from reports.figures import ALL_FIELDS
from reports.validation import payload_from_text

KEYS = ["locality", "date"]
COLUMNS = ALL_FIELDS  # the default form's columns (a version in force since adds, renames or drops some: columns())


def columns() -> list[str]:
    """The template's columns: the fields of the form version in force today."""
    return [*KEYS, *formspec.spec_for_day(timezone.localdate()).codes]


def _accepted_columns() -> tuple[list[str], list[str]]:
    """(the columns a file may have, those it must have): the fields of every version in force on a day that
    may still be sent (from the lock window's first day to today), and the required figures they share."""
    today = timezone.localdate()
    specs = formspec.specs_between(min(lock_date(today), today), today)
    allowed = list(dict.fromkeys([*KEYS, *(code for spec in specs for code in spec.codes)]))
    required = [
        i.code
        for i in specs[-1].integers
        if i.required and all(i.code in spec.by_code and spec.by_code[i.code].required for spec in specs)
    ]
    return allowed, [*KEYS, *required]


class UploadError(ValueError):
    """The file as a whole cannot be read (wrong type, encoding, header); nothing is submitted."""


def read_upload(uploaded):
    """[(row number, payload)] of a CSV or XLSX upload; empty rows are skipped. Raises UploadError.

    Bounded: the file's size (REPORT_UPLOAD_MAX_BYTES), what an XLSX expands to (core.spreadsheets), the
    number of reports (reading stops past REPORT_BATCH_MAX) and of empty rows skipped."""
    name = uploaded.name or ""
    if uploaded.size > settings.REPORT_UPLOAD_MAX_BYTES:
        raise UploadError(
            _("%(name)s is %(size)s; a file of reports may have at most %(limit)s.")
            % {
                "name": name,
                "size": filesizeformat(uploaded.size),
                "limit": filesizeformat(settings.REPORT_UPLOAD_MAX_BYTES),
            }
        )
    header = []
    try:
        if name.lower().endswith(".csv"):
            rows = _csv_rows(uploaded)
        elif name.lower().endswith(".xlsx"):
            rows = xlsx_rows(uploaded, name=name)
        else:
            raise UploadError(_("Upload a .csv or .xlsx file."))
        try:
            header = next(rows)
        except StopIteration:
            raise UploadError(_("The file is empty.")) from None
        header = _header(header)
        return _reports(rows, header)
    except CellTooLong as exc:
        column = header[exc.column] if exc.row > 1 and exc.column < len(header) else exc.column + 1
        raise UploadError(
            _("row %(row)s, column %(column)s: a cell is longer than %(limit)s characters.")
            % {"row": exc.row, "column": column, "limit": f"{csv.field_size_limit():,}"}
        ) from None
    except SpreadsheetError as exc:
        raise UploadError(str(exc)) from None


def _header(cells):
    header = [str(cell).strip().lower() if cell is not None else "" for cell in cells]
    while header and header[-1] == "":
        header.pop()
    allowed, required = _accepted_columns()
    unknown = [c for c in header if c not in allowed]
    if unknown:
        raise UploadError(
            _("Unknown column(s): %(columns)s. Use the columns of the template.") % {"columns": ", ".join(unknown)}
        )
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise UploadError(_("Column(s) given twice: %(columns)s.") % {"columns": ", ".join(duplicated)})
    missing = [c for c in required if c not in header]
    if missing:
        raise UploadError(_("Missing column(s): %(columns)s.") % {"columns": ", ".join(missing)})
    return header


def _reports(rows, header):
    result = []
    for number, cells in rows_with_content(rows, width=len(header)):
        result.append((number, payload_from_text(dict(zip(header, cells, strict=False)))))
        if len(result) > settings.REPORT_BATCH_MAX:  # stop reading: the rest of the file is not needed
            raise UploadError(_("A file carries at most %(limit)s reports.") % {"limit": settings.REPORT_BATCH_MAX})
    return result


def _csv_rows(uploaded):
    try:
        text = uploaded.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadError(_("The CSV file must be encoded in UTF-8.")) from None
    first_line = text.split("\n", 1)[0]
    # Spreadsheets set to Vietnamese write ";" between columns (the comma is the decimal mark).
    delimiter = max(",;\t", key=first_line.count)
    return csv_records(text, delimiter=delimiter)


def template_csv(example=None):
    """The template, through the one CSV writer (core.exports: its BOM makes Excel open it as UTF-8, and the
    example's texts, a clerk's own, are neutralised as in every export)."""
    names = columns()
    rows = [[_cell(example.get(c)) for c in names]] if example else []
    return csv_bytes(names, rows).decode("utf-8")


def template_xlsx(example=None):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "reports"
    names = columns()
    sheet.append(names)
    if example:
        sheet.append([_cell(example.get(c)) for c in names])
    # Codes and dates as text, so that 00004 keeps its zeros.
    for column in ("A", "B"):
        for cell in sheet[column]:
            cell.number_format = "@"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _cell(value):
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
