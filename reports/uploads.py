"""CSV and XLSX uploads of daily reports: a header row with the API's field names, then one report per row.
Cells become a payload with validation.payload_from_text, so the rules and messages are the API's."""

import csv
import io

from django.conf import settings
from django.utils.translation import gettext as _

from reports.figures import ALL_FIELDS, INTEGER_FIELDS
from reports.validation import payload_from_text

COLUMNS = ALL_FIELDS
REQUIRED_COLUMNS = ["locality", "date", *INTEGER_FIELDS]


class UploadError(ValueError):
    """The file as a whole cannot be read (wrong type, encoding, header); nothing is submitted."""


def read_upload(uploaded):
    """[(row number, payload)] of a CSV or XLSX upload; empty rows are skipped. Raises UploadError."""
    name = (uploaded.name or "").lower()
    if name.endswith(".csv"):
        rows = _csv_rows(uploaded)
    elif name.endswith(".xlsx"):
        rows = _xlsx_rows(uploaded)
    else:
        raise UploadError(_("Upload a .csv or .xlsx file."))
    try:
        header = next(rows)
    except StopIteration:
        raise UploadError(_("The file is empty.")) from None
    header = [str(cell).strip().lower() if cell is not None else "" for cell in header]
    while header and header[-1] == "":
        header.pop()
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise UploadError(
            _("Unknown column(s): %(columns)s. Use the columns of the template.") % {"columns": ", ".join(unknown)}
        )
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise UploadError(_("Column(s) given twice: %(columns)s.") % {"columns": ", ".join(duplicated)})
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise UploadError(_("Missing column(s): %(columns)s.") % {"columns": ", ".join(missing)})
    result = []
    for number, cells in enumerate(rows, start=2):
        cells = list(cells)[: len(header)]
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells):
            continue
        result.append((number, payload_from_text(dict(zip(header, cells, strict=False)))))
        if len(result) > settings.REPORT_BATCH_MAX:
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
    return iter(csv.reader(io.StringIO(text), delimiter=delimiter))


def _xlsx_rows(uploaded):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(uploaded, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except Exception:  # openpyxl raises many kinds of errors on a damaged or foreign file
        raise UploadError(_("This file cannot be read as an XLSX workbook.")) from None
    return sheet.iter_rows(values_only=True)


def template_csv(example=None):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    if example:
        writer.writerow([_cell(example.get(c)) for c in COLUMNS])
    return "\ufeff" + buffer.getvalue()  # the BOM makes Excel open it as UTF-8


def template_xlsx(example=None):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "reports"
    sheet.append(COLUMNS)
    if example:
        sheet.append([_cell(example.get(c)) for c in COLUMNS])
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
