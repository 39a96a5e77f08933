"""core.spreadsheets: what an uploaded workbook may expand to, and CSV cells over the csv module's limit."""

import csv
import io
import zipfile

import pytest
from django.utils import translation
from openpyxl import Workbook

from core.spreadsheets import CellTooLong, SpreadsheetError, csv_records, xlsx_archive_check, xlsx_rows
from tests.conftest import inflated_xlsx


@pytest.fixture(autouse=True)
def _english():
    """The messages are read in English here (the catalogue translates them into Vietnamese, the default)."""
    with translation.override("en"):
        yield


def workbook_bytes(rows=(("code", "title_vi"), ("T01", "Nhiệm vụ"))):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_an_ordinary_workbook_is_read():
    assert list(xlsx_rows(io.BytesIO(workbook_bytes()), name="tasks.xlsx")) == [
        ("code", "title_vi"),
        ("T01", "Nhiệm vụ"),
    ]


def test_a_highly_compressed_part_is_refused_before_it_is_inflated():
    with pytest.raises(SpreadsheetError, match=r"bomb\.xlsx is compressed more than 250 to 1"):
        xlsx_archive_check(io.BytesIO(inflated_xlsx(workbook_bytes())), name="bomb.xlsx")


def test_what_a_workbook_expands_to_is_capped_in_total_and_per_part(settings):
    settings.SPREADSHEET_MAX_RATIO = 10**6  # only the sizes are judged here
    settings.SPREADSHEET_MAX_UNCOMPRESSED_BYTES = 8 * 1024 * 1024
    settings.SPREADSHEET_MAX_MEMBER_BYTES = 2 * 1024 * 1024
    with pytest.raises(SpreadsheetError, match=r"big\.xlsx would expand to more than 2[.,]0\xa0MB"):
        xlsx_archive_check(io.BytesIO(inflated_xlsx(workbook_bytes())), name="big.xlsx")
    settings.SPREADSHEET_MAX_MEMBER_BYTES = 8 * 1024 * 1024
    settings.SPREADSHEET_MAX_UNCOMPRESSED_BYTES = 3 * 1024 * 1024
    with pytest.raises(SpreadsheetError, match=r"big\.xlsx would expand to more than 3[.,]0\xa0MB"):
        xlsx_archive_check(io.BytesIO(inflated_xlsx(workbook_bytes())), name="big.xlsx")


def test_an_archive_of_too_many_parts_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for i in range(1001):
            archive.writestr(f"xl/part{i}.xml", "<x/>")
    with pytest.raises(SpreadsheetError, match=r"many\.xlsx holds 1001 parts"):
        xlsx_archive_check(out, name="many.xlsx")


def test_a_file_that_is_not_a_workbook_names_itself():
    with pytest.raises(SpreadsheetError, match=r"notes\.xlsx cannot be read as an XLSX workbook"):
        list(xlsx_rows(io.BytesIO(b"PK\x03\x04 not really"), name="notes.xlsx"))


def test_a_csv_cell_over_the_field_limit_names_its_row_and_column():
    limit = csv.field_size_limit()
    text = 'a,b,c\n1,2,3\n4,"x ""quoted"", and long ' + "y" * limit + '",6\n7,8,9\n'
    records = csv_records(text)
    assert next(records) == ["a", "b", "c"]
    assert next(records) == ["1", "2", "3"]
    with pytest.raises(CellTooLong) as error:
        next(records)
    assert (error.value.row, error.value.column) == (3, 1)
    assert "row 3, column 2" in str(error.value)


# --- the rows every reader shares ---------------------------------------------------------------------------


def test_cells_read_as_trimmed_text():
    from core.spreadsheets import cell_text

    assert [cell_text(v) for v in (None, " T01 ", 3.0, 2.5, 0, "")] == ["", "T01", "3", "2.5", "0", ""]


def test_blank_rows_are_skipped_keeping_the_numbers_until_too_many(settings):
    from core.spreadsheets import TooManyBlankRows, rows_with_content

    settings.SPREADSHEET_MAX_BLANK_ROWS = 2
    rows = [("a", 1), (None, " "), ("b", None, "past the header"), ("", None)]
    assert list(rows_with_content(rows)) == [(2, ["a", 1]), (4, ["b", None, "past the header"])]
    assert list(rows_with_content([(None, None, "x")], width=2)) == []
    with pytest.raises(TooManyBlankRows, match="more than 2 empty rows"):
        list(rows_with_content([(None,), ("",), (None,), ("late",)]))


def test_an_import_table_names_its_cells_and_keeps_its_checksum(tmp_path):
    from core.spreadsheets import read_table

    path = tmp_path / "t.xlsx"
    data = workbook_bytes([("code", " title_vi ", None), ("T01", "Nhiệm vụ", "ignored"), (None, None), ("T02",)])
    path.write_bytes(data)
    table = read_table(path)
    assert table.header == ["code", "title_vi", ""]
    assert table.rows == [(2, {"code": "T01", "title_vi": "Nhiệm vụ"}), (4, {"code": "T02", "title_vi": None})]
    assert len(table.checksum) == 64
    with pytest.raises(SpreadsheetError, match=r"unsupported file type \.txt"):
        read_table(io.BytesIO(b"x"), filename="t.txt")
    with pytest.raises(SpreadsheetError, match="the file is empty"):
        read_table(io.BytesIO(b""), filename="t.csv")
