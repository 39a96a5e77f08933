"""Reading uploaded spreadsheets within bounds, for every reader of the portal (report uploads, the bulk
update of assignments, the task catalogue import). It imports no app, so all of them may use it.

- An XLSX file is a zip archive: before openpyxl opens it, the archive's directory is checked — number of
  members, each member's and the total uncompressed size, and the compression ratio — so a small file that
  would expand to gigabytes (a "zip bomb", e.g. one shared string repeated millions of times) is refused
  before anything is decompressed. The sizes checked are the ones the directory declares; Python's zipfile
  never inflates a member past its declared size (a lying entry ends in a CRC error, refused as unreadable).
- Its XML is parsed by defusedxml (openpyxl uses it when it is installed, and core.checks refuses to start
  without it): a part that declares XML entities (an "XML bomb", where a 13 kB file becomes a 200 MB cell)
  is refused, naming the file, before anything is expanded.
- Rows are streamed (openpyxl's read-only mode), so a reader can stop at its row limit.
- CSV: a cell longer than the csv module's field limit (131,072 characters) is refused naming its row and
  column instead of escaping as csv.Error.
"""

import csv
import io
import zipfile

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# A workbook has a dozen members; a few hundred allows many sheets and images.
MAX_MEMBERS = 1000
# Members smaller than this are never refused for their ratio (tiny XML compresses erratically).
RATIO_MIN_BYTES = 1024 * 1024


class SpreadsheetError(ValueError):
    """The file cannot be read within the bounds; the message names the file, or the row and column."""


class CellTooLong(SpreadsheetError):
    """A CSV cell longer than csv.field_size_limit(); `row` is the record's number (the header is 1) and
    `column` the cell's 0-based position."""

    def __init__(self, message, *, row, column):
        super().__init__(message)
        self.row = row
        self.column = column


def _unreadable(name):
    return SpreadsheetError(_("%(name)s cannot be read as an XLSX workbook.") % {"name": name})


def _entities(name):
    return SpreadsheetError(
        _("%(name)s declares XML entities, as only a crafted file does; it is refused.") % {"name": name}
    )


def entities_refused() -> bool:
    """Does openpyxl parse with defusedxml (which refuses entity declarations)? It does when defusedxml is
    installed, unless OPENPYXL_DEFUSEDXML is set to something but True."""
    import openpyxl

    return openpyxl.DEFUSEDXML is True


def xlsx_archive_check(file, *, name):
    """Refuse an XLSX whose zip directory announces too much: raises SpreadsheetError naming the file."""
    max_total = settings.SPREADSHEET_MAX_UNCOMPRESSED_BYTES
    max_member = settings.SPREADSHEET_MAX_MEMBER_BYTES
    max_ratio = settings.SPREADSHEET_MAX_RATIO
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _unreadable(name) from None
    finally:
        file.seek(0)
    too_big = _("%(name)s would expand to more than %(limit)s when opened; it is refused.")
    if len(members) > MAX_MEMBERS:
        raise SpreadsheetError(
            _("%(name)s holds %(count)s parts; a workbook this portal reads has at most %(limit)s.")
            % {"name": name, "count": len(members), "limit": MAX_MEMBERS}
        )
    total = 0
    for member in members:
        total += member.file_size
        if member.file_size > max_member or total > max_total:
            limit = max_member if member.file_size > max_member else max_total
            raise SpreadsheetError(too_big % {"name": name, "limit": filesizeformat(limit)})
        if member.file_size > RATIO_MIN_BYTES and member.file_size > max_ratio * max(member.compress_size, 1):
            raise SpreadsheetError(
                _("%(name)s is compressed more than %(ratio)s to 1, as only a crafted file is; it is refused.")
                % {"name": name, "ratio": max_ratio}
            )


def xlsx_rows(file, *, name):
    """The rows of the first sheet (tuples of cell values), streamed, after xlsx_archive_check. Any error of
    openpyxl's, at opening or while reading a row, is a SpreadsheetError naming the file."""
    if not entities_refused():  # core.checks stops the server first; never expand a file without it
        raise _unreadable(name)
    xlsx_archive_check(file, name=name)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except Exception as exc:  # openpyxl raises many kinds of errors on a damaged or foreign file
        raise _refusal(exc, name) from None
    return _stream(workbook, sheet, name)


def _refusal(exc, name):
    """The SpreadsheetError for what openpyxl raised: the entities' own message when defusedxml refused a
    declaration (openpyxl wraps it in a ValueError of its own while it opens a workbook)."""
    from defusedxml import DefusedXmlException

    seen = exc
    for _depth in range(10):  # the chain openpyxl makes is short; a cycle must not hold the request
        if seen is None:
            break
        if isinstance(seen, DefusedXmlException):
            return _entities(name)
        seen = seen.__cause__ or seen.__context__
    return _unreadable(name)


def _stream(workbook, sheet, name):
    try:
        yield from sheet.iter_rows(values_only=True)
    except Exception as exc:  # read-only mode parses lazily: a damaged part (or its entities) surfaces here
        raise _refusal(exc, name) from None
    finally:
        workbook.close()


def csv_records(text, *, delimiter=","):
    """The records of a CSV text (lists of cells), streamed. A cell over the csv module's field limit raises
    CellTooLong with its record number and column; the limit is process-wide, so it is not raised here."""
    lines = _RecordLines(io.StringIO(text))
    reader = csv.reader(lines, delimiter=delimiter)
    row = 0
    while True:
        lines.start_record()
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error:
            row += 1
            column = _long_cell_column("".join(lines.record), delimiter, csv.field_size_limit())
            raise CellTooLong(
                _("row %(row)s, column %(column)s: a cell is longer than %(limit)s characters.")
                % {"row": row, "column": column + 1, "limit": f"{csv.field_size_limit():,}"},
                row=row,
                column=column,
            ) from None
        row += 1
        yield record


class _RecordLines:
    """The line iterator the csv reader consumes, keeping the lines of the record being read."""

    def __init__(self, stream):
        self.stream = stream
        self.record = []

    def start_record(self):
        self.record = []

    def __iter__(self):
        return self

    def __next__(self):
        line = next(self.stream)
        self.record.append(line)
        return line


def _long_cell_column(text, delimiter, limit):
    """The 0-based column of the first cell longer than `limit` in one record's text (quotes as the csv
    module reads them: a doubled quote inside a quoted cell is one character)."""
    column, length, quoted, i = 0, 0, False, 0
    while i < len(text):
        char = text[i]
        if quoted:
            if char == '"' and text[i + 1 : i + 2] == '"':
                length, i = length + 1, i + 1
            elif char == '"':
                quoted = False
            else:
                length += 1
        elif char == '"':
            quoted = True
        elif char == delimiter:
            column, length = column + 1, 0
        elif char in "\r\n":
            break
        else:
            length += 1
        if length > limit:
            return column
        i += 1
    return column
