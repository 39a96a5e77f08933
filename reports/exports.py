"""XLSX exports (openpyxl, write-only), shared by the dashboards."""

import datetime
import io

from django.http import HttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cell_value(value):
    """What openpyxl can store: translated text as str, aware datetimes as local naive ones."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    if value is None or isinstance(value, (int, float, str, datetime.date)):
        return value
    return str(value)


def xlsx_response(filename, sheets):
    """sheets: [(title, header, rows[, note])]; the note (e.g. the coverage line) goes above the header."""
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, header, rows, *note in sheets:
        sheet = workbook.create_sheet(title=str(title)[:31])
        if note and note[0]:
            sheet.append([str(note[0])])
        header_cells = []
        for value in header:
            cell = WriteOnlyCell(sheet, value=cell_value(value))
            cell.font = bold
            header_cells.append(cell)
        sheet.append(header_cells)
        for row in rows:
            sheet.append([cell_value(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
