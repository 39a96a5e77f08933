"""The one writer of every CSV and XLSX the portal sends (assignments, daily reports, dashboards, alerts,
meetings).

Text that a spreadsheet would run as a formula is neutralised here, once for every export: a clerk can type
`=HYPERLINK("http://evil", "open")` as a blocked reason or a difficulty, and the steering member who opens
the export must see that text, not a live link. A cell is risky when it starts with `=`, `+`, `-`, `@`, a
tab or a carriage return (OWASP's list).
- XLSX: the cell is written as a string (openpyxl would otherwise store `=…` as a formula) with Excel's
  quote prefix, so it shows and stays text, and reads back unchanged (the bulk update re-reads exports).
- CSV: every field is quoted, and a risky start gets a leading apostrophe, the convention spreadsheets
  understand as "this is text" — at the start of the value and after every separator a spreadsheet may split
  on (`,`, `;`, tab, a line break): Vietnamese spreadsheets split CSV on ";", so `x;=HYPERLINK(…)` would
  otherwise become a cell that starts a formula.

A foundation module: it imports no app, so every app may use it.
"""

import csv
import datetime
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple, TypeVar

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A formula's start right after a character a spreadsheet may split a CSV line on.
_FORMULA_AFTER_SEPARATOR = re.compile(r"(?<=[,;\t\r\n])(?=[=+\-@])")
BOM = "\ufeff"  # Excel then reads the Vietnamese names as UTF-8
_Response = TypeVar("_Response", HttpResponse, StreamingHttpResponse)


class Sheet(NamedTuple):
    """One sheet: its title, the header row, the data rows, and notes written above the header (the coverage
    line, the demo-catalogue label). `notes_above=False` puts them below the data instead, for sheets that
    are read back by machines, whose first row must be the header."""

    title: str
    header: Sequence[Any]
    rows: Iterable[Sequence[Any]]
    notes: Sequence[Any] = ()
    notes_above: bool = True


def is_risky(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def cell_value(value: Any) -> Any:
    """What openpyxl and csv can store: translated text as str, aware datetimes as local naive ones."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    if value is None or isinstance(value, (bool, int, float, str, datetime.date)):
        return value
    return str(value)


def csv_text(value: Any) -> Any:
    """A CSV cell: neutralised text (at its start and after every separator), '' for None."""
    value = cell_value(value)
    if value is None:
        return ""
    if isinstance(value, str):
        value = _FORMULA_AFTER_SEPARATOR.sub("'", value)
        if is_risky(value):
            return "'" + value
    return value


def _xlsx_row(sheet: Any, values: Sequence[Any], *, bold: bool = False) -> list[Any]:
    cells = []
    for raw in values:
        value = cell_value(raw)
        if bold or is_risky(value):
            cell = WriteOnlyCell(sheet, value=value)
            if is_risky(value):
                cell.data_type = "s"  # never a formula
                cell.quotePrefix = True
            if bold:
                cell.font = Font(bold=True)
            cells.append(cell)
        else:
            cells.append(value)
    return cells


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    workbook = Workbook(write_only=True)
    for spec in sheets:
        sheet = workbook.create_sheet(title=str(spec.title)[:31])
        notes = [[str(note)] for note in spec.notes if note]
        if spec.notes_above:
            for note in notes:
                sheet.append(_xlsx_row(sheet, note))
        sheet.append(_xlsx_row(sheet, spec.header, bold=True))
        for row in spec.rows:
            sheet.append(_xlsx_row(sheet, row))
        if not spec.notes_above:
            for note in notes:
                sheet.append(_xlsx_row(sheet, note))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _attachment(response: _Response, filename: str) -> _Response:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def xlsx_response(filename: str, sheets: Iterable[Sheet]) -> HttpResponse:
    return _attachment(HttpResponse(xlsx_bytes(sheets), content_type=XLSX), filename)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[Any], rows: Iterable[Sequence[Any]], *, notes: Sequence[Any] = ()) -> Iterator[str]:
    """The lines of a CSV file (BOM first, then the header; `notes` after the data, so the header stays the
    first row a machine reads)."""
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
    yield BOM + writer.writerow([csv_text(v) for v in header])
    for row in rows:
        yield writer.writerow([csv_text(v) for v in row])
    for note in notes:
        if note:
            yield writer.writerow([csv_text(str(note))])


def csv_bytes(header: Sequence[Any], rows: Iterable[Sequence[Any]], *, notes: Sequence[Any] = ()) -> bytes:
    return "".join(csv_lines(header, rows, notes=notes)).encode("utf-8")


def csv_response(
    filename: str,
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    notes: Sequence[Any] = (),
    streaming: bool = False,
) -> HttpResponse | StreamingHttpResponse:
    """A CSV download; `streaming` for long lists (rows are read from an iterator as they are sent)."""
    if streaming:
        return _attachment(StreamingHttpResponse(csv_lines(header, rows, notes=notes), content_type=CSV), filename)
    return _attachment(HttpResponse(csv_bytes(header, rows, notes=notes), content_type=CSV), filename)
