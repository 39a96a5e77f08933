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
