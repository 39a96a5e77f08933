"""Reading uploaded spreadsheets within bounds, for every reader of the portal (report uploads, the bulk
update of assignments, the task catalogue and contacts imports). It imports no app, so all of them may use it.

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
- Blank rows are skipped, but only so many (SPREADSHEET_MAX_BLANK_ROWS): a sheet formatted down to its
  millionth row would otherwise be read to its end (`rows_with_content`).
- `read_table` reads a whole import file (CSV or XLSX, the header first) into named cells, with its checksum.
"""

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from django.conf import settings
from django.core.files import File
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

    def __init__(self, message: str, *, row: int, column: int) -> None:
        super().__init__(message)
        self.row = row
        self.column = column


class TooManyBlankRows(SpreadsheetError):
    """More blank rows than SPREADSHEET_MAX_BLANK_ROWS; `limit` is that setting."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            _("The file has more than %(limit)s empty rows; delete them and upload it again.") % {"limit": f"{limit:,}"}
        )
        self.limit = limit


def cell_text(value: Any) -> str:
    """A cell as trimmed text (whole floats from XLSX without their ".0"; an empty cell is "")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def is_blank(cells: Iterable[Any]) -> bool:
    return all(cell_text(cell) == "" for cell in cells)


def rows_with_content(
    rows: Iterable[Sequence[Any]], *, start: int = 2, width: int | None = None
) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cells) of the rows that hold something, numbered from `start` (the header is row 1), cut to
    `width` cells when given (cells past the header's are not read). Blank rows are skipped; one more than
    SPREADSHEET_MAX_BLANK_ROWS raises TooManyBlankRows, so a reader never walks a million formatted rows."""
    blank = 0
    for number, row in enumerate(rows, start=start):
        cells = list(row)[:width] if width is not None else list(row)
        if is_blank(cells):
            blank += 1
            if blank > settings.SPREADSHEET_MAX_BLANK_ROWS:
                raise TooManyBlankRows(settings.SPREADSHEET_MAX_BLANK_ROWS)
            continue
        yield number, cells


def _unreadable(name: str) -> SpreadsheetError:
    return SpreadsheetError(_("%(name)s cannot be read as an XLSX workbook.") % {"name": name})


def _entities(name: str) -> SpreadsheetError:
    return SpreadsheetError(
        _("%(name)s declares XML entities, as only a crafted file does; it is refused.") % {"name": name}
    )


def entities_refused() -> bool:
    """Does openpyxl parse with defusedxml (which refuses entity declarations)? It does when defusedxml is
    installed, unless OPENPYXL_DEFUSEDXML is set to something but True."""
    import openpyxl

    return openpyxl.DEFUSEDXML is True


def xlsx_archive_check(file: "IO[bytes] | File", *, name: str) -> None:
    """Refuse an XLSX whose zip directory announces too much: raises SpreadsheetError naming the file."""
    max_total = settings.SPREADSHEET_MAX_UNCOMPRESSED_BYTES
    max_member = settings.SPREADSHEET_MAX_MEMBER_BYTES
    max_ratio = settings.SPREADSHEET_MAX_RATIO
    try:
        file.seek(0)
        with zipfile.ZipFile(cast(IO[bytes], file)) as archive:  # an upload (Django's File) reads as one
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


def xlsx_rows(file: "IO[bytes] | File", *, name: str) -> Iterator[tuple[Any, ...]]:
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


def _refusal(exc: BaseException, name: str) -> SpreadsheetError:
    """The SpreadsheetError for what openpyxl raised: the entities' own message when defusedxml refused a
    declaration (openpyxl wraps it in a ValueError of its own while it opens a workbook)."""
    from defusedxml import DefusedXmlException

    seen: BaseException | None = exc
    for _depth in range(10):  # the chain openpyxl makes is short; a cycle must not hold the request
        if seen is None:
            break
        if isinstance(seen, DefusedXmlException):
            return _entities(name)
        seen = seen.__cause__ or seen.__context__
    return _unreadable(name)


def _stream(workbook: Any, sheet: Any, name: str) -> Iterator[tuple[Any, ...]]:
    try:
        yield from sheet.iter_rows(values_only=True)
    except Exception as exc:  # read-only mode parses lazily: a damaged part (or its entities) surfaces here
        raise _refusal(exc, name) from None
    finally:
        workbook.close()


def csv_records(text: str, *, delimiter: str = ",") -> Iterator[list[str]]:
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

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.record: list[str] = []

    def start_record(self) -> None:
        self.record = []

    def __iter__(self) -> "_RecordLines":
        return self

    def __next__(self) -> str:
        line = next(self.stream)
        self.record.append(line)
        return line


def _long_cell_column(text: str, delimiter: str, limit: int) -> int:
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


# --- import files --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """An import file: its header (trimmed), its rows with content as (row number, {column: cell}) and the
    SHA-256 of its bytes (recorded with the import)."""

    header: list[str]
    rows: list[tuple[int, dict[str, Any]]]
    checksum: str


def read_table(path_or_file: "str | Path | IO[bytes]", *, filename: str | None = None) -> Table:
    """Read an import file, CSV (UTF-8) or XLSX by its name, the header first. Raises SpreadsheetError naming
    the file, or the row and the column. Its own messages are English, like the importers' row errors, which
    name the columns by their English names."""
    if isinstance(path_or_file, (str, Path)):
        filename = str(path_or_file)
        data = Path(path_or_file).read_bytes()
    else:
        data = path_or_file.read()
    name = Path(filename or "").name
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        lines: Iterator[Sequence[Any]] = xlsx_rows(io.BytesIO(data), name=name)
    elif suffix == ".csv":
        lines = _csv_lines(data)
    else:
        raise SpreadsheetError(f"{filename}: unsupported file type {suffix or '(none)'}; use .csv or .xlsx")
    first: Sequence[Any] | None = None
    try:
        first = next(lines, None)
        if first is None:
            raise SpreadsheetError("the file is empty")
        header = [cell_text(cell) for cell in first]
        rows = [
            (number, {h: (cells[i] if i < len(cells) else None) for i, h in enumerate(header) if h})
            for number, cells in rows_with_content(lines)
        ]
    except CellTooLong as exc:
        header = [cell_text(cell) for cell in first] if exc.row > 1 and first is not None else []
        column = header[exc.column] if exc.column < len(header) else f"#{exc.column + 1}"
        raise SpreadsheetError(
            f"row {exc.row}, column {column}: the cell is longer than {csv.field_size_limit():,} characters"
        ) from None
    except TooManyBlankRows as exc:
        raise SpreadsheetError(
            f"the file has more than {exc.limit:,} empty rows; delete them and import it again"
        ) from None
    return Table(header, rows, hashlib.sha256(data).hexdigest())


def _csv_lines(data: bytes) -> Iterator[Sequence[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpreadsheetError("the CSV file is not UTF-8 encoded") from None
    return csv_records(text)


def read_workbook(path_or_file: "str | Path | IO[bytes]", *, filename: str | None = None) -> dict[str, Table]:
    """Every sheet of an XLSX import file as a Table ({sheet title: Table}; the same checksum, the file's), each
    sheet's first row its header. Raises SpreadsheetError naming the file, or the sheet, the row and the column."""
    if isinstance(path_or_file, (str, Path)):
        filename = str(path_or_file)
        data = Path(path_or_file).read_bytes()
    else:
        data = path_or_file.read()
    name = Path(filename or "").name
    if Path(name).suffix.lower() != ".xlsx":
        raise SpreadsheetError(f"{filename}: unsupported file type {Path(name).suffix or '(none)'}; use .xlsx")
    if not entities_refused():
        raise _unreadable(name)
    file = io.BytesIO(data)
    xlsx_archive_check(file, name=name)
    from openpyxl import load_workbook

    checksum = hashlib.sha256(data).hexdigest()
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of errors on a damaged or foreign file
        raise _refusal(exc, name) from None
    tables = {}
    try:
        for sheet in workbook.worksheets:
            lines = _stream_rows(sheet, name)
            first = next(lines, None)
            header = [cell_text(cell) for cell in first] if first is not None else []
            try:
                rows = [
                    (number, {h: (cells[i] if i < len(cells) else None) for i, h in enumerate(header) if h})
                    for number, cells in rows_with_content(lines, width=len(header))
                ]
            except TooManyBlankRows as exc:
                raise SpreadsheetError(
                    f"sheet {sheet.title}: more than {exc.limit:,} empty rows; delete them and import it again"
                ) from None
            tables[str(sheet.title).strip()] = Table(header, rows, checksum)
    finally:
        workbook.close()
    return tables


def _stream_rows(sheet: Any, name: str) -> Iterator[tuple[Any, ...]]:
    try:
        yield from sheet.iter_rows(values_only=True)
    except Exception as exc:  # read-only mode parses lazily: a damaged part (or its entities) surfaces here
        raise _refusal(exc, name) from None
