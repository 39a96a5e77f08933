import csv
import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import Workbook

from tasks.catalogue import COLUMNS, plan_import
from tasks.models import Assignment, CatalogueImport, Level, Task
from tests.conftest import DEMO_CATALOGUE

GOOD_ROW = {
    "code": "X01",
    "title_vi": "Nhiệm vụ thử",
    "title_en": "Test task",
    "group": "3",
    "phase": "breakthrough",
    "level": "province",
    "lead_agency": "BCA",
    "coordinating_agencies": "BTC;VPCP",
    "deadline": "2025-11-30",
    "expected_product": "Báo cáo",
    "description": "",
    "is_official": "true",
}


def write_csv(path, rows, columns=COLUMNS):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def snapshot():
    return (Task.objects.count(), Assignment.objects.count(), CatalogueImport.objects.count())


@pytest.mark.django_db
def test_demo_catalogue_has_67_unofficial_tasks_at_all_three_levels():
    assert Task.objects.count() == 67
    assert not Task.objects.filter(is_official=True).exists()
    assert set(Task.objects.values_list("group__number", flat=True)) == set(range(1, 9))
    assert set(Task.objects.values_list("phase__code", flat=True)) == {"urgent", "breakthrough"}
    commune_tasks = Task.objects.filter(level=Level.COMMUNE)
    assert commune_tasks.count() >= 3
    for task in commune_tasks:
        assert task.assignments.count() == 3321
    for task in Task.objects.filter(level=Level.PROVINCE):
        assert task.assignments.count() == 34
    t01 = Task.objects.get(code="T01")
    assert set(t01.assignments.values_list("agency__code", flat=True)) == {"BCA", "BKHCN", "VPCP"}


@pytest.mark.django_db
def test_reimporting_the_same_file_changes_nothing(capsys):
    before = snapshot()
    call_command("import_tasks", str(DEMO_CATALOGUE), apply=True)
    assert "0 to create, 0 to update, 67 unchanged" in capsys.readouterr().out
    assert snapshot()[:2] == before[:2]


@pytest.mark.django_db
def test_dry_run_is_the_default_and_writes_nothing(tmp_path, capsys):
    path = write_csv(tmp_path / "new.csv", [GOOD_ROW])
    before = snapshot()
    call_command("import_tasks", str(path))
    out = capsys.readouterr().out
    assert "row 2 X01: create" in out and "Dry run" in out
    assert snapshot() == before


@pytest.mark.django_db
def test_apply_creates_task_and_province_assignments(tmp_path):
    path = write_csv(tmp_path / "new.csv", [GOOD_ROW])
    call_command("import_tasks", str(path), apply=True)
    task = Task.objects.get(code="X01")
    assert task.is_official and task.deadline == datetime.date(2025, 11, 30)
    assert sorted(task.coordinating_agencies.values_list("code", flat=True)) == ["BTC", "VPCP"]
    assert task.assignments.filter(level=Level.PROVINCE).count() == 34


@pytest.mark.django_db
def test_update_by_code_reports_the_changed_fields(tmp_path):
    row = {
        **GOOD_ROW,
        "code": "T02",
        "level": "central",
        "lead_agency": "BTC",
        "coordinating_agencies": "VPTW;VPCP",
        "title_vi": "Công bố mã đơn vị hành chính (sửa)",
        "group": "1",
        "phase": "urgent",
        "deadline": "2025-06-25",
    }
    plan = plan_import(write_csv(tmp_path / "upd.csv", [row]))
    assert plan.ok
    assert plan.rows[0].action == "update"
    assert "title_vi" in plan.rows[0].changes


@pytest.mark.django_db
def test_empty_deadline_takes_the_phase_deadline(tmp_path):
    plan = plan_import(write_csv(tmp_path / "d.csv", [{**GOOD_ROW, "deadline": ""}]))
    assert plan.rows[0].values["deadline"] == datetime.date(2025, 12, 31)


@pytest.mark.django_db
def test_xlsx_file_is_imported_like_csv(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(COLUMNS)
    sheet.append([GOOD_ROW[c] if c != "deadline" else datetime.datetime(2025, 11, 30) for c in COLUMNS])
    path = tmp_path / "catalogue.xlsx"
    workbook.save(path)
    call_command("import_tasks", str(path), apply=True)
    assert Task.objects.get(code="X01").deadline == datetime.date(2025, 11, 30)


BAD_CASES = [
    # (rows after a good first row, expected error); the good row is row 2, so the first bad row is row 3.
    ([{**GOOD_ROW, "lead_agency": "NOPE"}], "row 3, column lead_agency: unknown agency 'NOPE'"),
    ([{**GOOD_ROW, "coordinating_agencies": "BTC;XYZ"}], "row 3, column coordinating_agencies: unknown agency 'XYZ'"),
    (
        [{**GOOD_ROW, "deadline": "2025-13-01"}],
        "row 3, column deadline: '2025-13-01': Must be a date written YYYY-MM-DD.",
    ),
    ([GOOD_ROW, {**GOOD_ROW, "title_vi": "khác"}], "row 4, column code: duplicate code X01 (first on row 3)"),
    ([{**GOOD_ROW, "phase": "later"}], "row 3, column phase: unknown phase 'later'"),
    ([{**GOOD_ROW, "level": "district"}], "row 3, column level: unknown level 'district'"),
    ([{**GOOD_ROW, "group": "9"}], "row 3, column group: unknown group '9'"),
    ([{**GOOD_ROW, "title_vi": ""}], "row 3, column title_vi: is required"),
    ([{**GOOD_ROW, "is_official": "perhaps"}], "row 3, column is_official: 'perhaps' is not true or false"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("rows", "expected"), BAD_CASES)
def test_bad_row_gives_row_and_column_error_and_writes_nothing(tmp_path, capsys, rows, expected):
    # The good first row must not be written either: the import is all or nothing.
    path = write_csv(tmp_path / "bad.csv", [{**GOOD_ROW, "code": "OK1"}, *rows])
    before = snapshot()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_tasks", str(path), apply=True)
    assert expected in capsys.readouterr().err
    assert snapshot() == before


@pytest.mark.django_db
def test_missing_column_is_named_and_nothing_is_written(tmp_path, capsys):
    path = write_csv(tmp_path / "bad.csv", [GOOD_ROW], [c for c in COLUMNS if c != "lead_agency"])
    before = snapshot()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_tasks", str(path), apply=True)
    assert "row 1, column lead_agency: required column is missing" in capsys.readouterr().err
    assert snapshot() == before


@pytest.mark.django_db
def test_unknown_column_is_refused(tmp_path, capsys):
    path = write_csv(tmp_path / "typo.csv", [{**GOOD_ROW, "deadine": "2025-01-01"}], [*COLUMNS, "deadine"])
    with pytest.raises(CommandError):
        call_command("import_tasks", str(path), apply=True)
    assert "row 1, column deadine: unknown column" in capsys.readouterr().err


@pytest.mark.django_db
def test_unsupported_file_type_is_refused(tmp_path):
    path = tmp_path / "catalogue.ods"
    path.write_bytes(b"not a spreadsheet we read")
    with pytest.raises(CommandError, match=r"unsupported file type \.ods"):
        call_command("import_tasks", str(path))


@pytest.mark.django_db
def test_level_of_a_task_with_history_cannot_change(tmp_path, agency_officer):
    from django.utils import timezone

    from tasks.models import StatusUpdate

    assignment = Assignment.objects.get(task__code="T01", agency__code="BCA")
    Assignment.objects.filter(pk=assignment.pk).update(version=2, status="in_progress", progress=10)
    StatusUpdate.objects.create(
        assignment=assignment,
        actor=agency_officer,
        created_at=timezone.now(),
        old_status="not_started",
        new_status="in_progress",
        old_progress=0,
        new_progress=10,
        version=2,
    )
    task = Task.objects.get(code="T01")
    row = {**GOOD_ROW, "code": "T01", "level": "province", "title_vi": task.title_vi}
    plan = plan_import(write_csv(tmp_path / "lvl.csv", [row]))
    assert [str(e) for e in plan.errors] == [
        "row 2, column level: cannot change the level of T01: its assignments already have history"
    ]


def test_csv_must_be_utf8(tmp_path):
    from core.spreadsheets import SpreadsheetError

    path = tmp_path / "latin.csv"
    path.write_bytes(io.StringIO("code,title_vi\nT1,Nhiệm vụ\n").getvalue().encode("utf-16"))
    with pytest.raises(SpreadsheetError, match="UTF-8"):
        plan_import(path)


def test_a_csv_cell_over_the_field_limit_names_its_row_and_column(tmp_path):
    from core.spreadsheets import SpreadsheetError

    rows = [GOOD_ROW, {**GOOD_ROW, "code": "X02", "description": "x" * (csv.field_size_limit() + 1)}]
    with pytest.raises(SpreadsheetError, match="row 3, column description: the cell is longer than 131,072"):
        plan_import(write_csv(tmp_path / "long.csv", rows))


def test_an_xlsx_bomb_is_refused_naming_the_file(tmp_path):
    from openpyxl import Workbook

    from core.spreadsheets import SpreadsheetError
    from tests.conftest import inflated_xlsx

    workbook = Workbook()
    workbook.active.append(COLUMNS)
    out = io.BytesIO()
    workbook.save(out)
    path = tmp_path / "catalogue.xlsx"
    path.write_bytes(inflated_xlsx(out.getvalue()))
    with (
        translation.override("en"),
        pytest.raises(SpreadsheetError, match=r"catalogue\.xlsx is compressed more than 250 to 1"),
    ):
        plan_import(path)


@pytest.mark.django_db
def test_blank_rows_are_skipped_up_to_the_limit_and_rows_keep_their_numbers(tmp_path, settings):
    settings.SPREADSHEET_MAX_BLANK_ROWS = 2
    blank = dict.fromkeys(COLUMNS, "")
    plan = plan_import(write_csv(tmp_path / "gaps.csv", [blank, blank, {**GOOD_ROW, "code": "X01"}]))
    assert plan.ok and [(r.row, r.code, r.action) for r in plan.rows] == [(4, "X01", "create")]
    bad = plan_import(write_csv(tmp_path / "bad.csv", [blank, {**GOOD_ROW, "group": "9"}]))
    assert [str(e).split(":")[0] for e in bad.errors] == ["row 3, column group"]


@pytest.mark.django_db
def test_more_blank_rows_than_the_limit_refuse_the_file(tmp_path, settings):
    from core.spreadsheets import SpreadsheetError

    settings.SPREADSHEET_MAX_BLANK_ROWS = 2
    blank = dict.fromkeys(COLUMNS, "")
    path = write_csv(tmp_path / "formatted.csv", [GOOD_ROW, blank, blank, blank, {**GOOD_ROW, "code": "X02"}])
    with pytest.raises(SpreadsheetError, match="more than 2 empty rows"):
        plan_import(path)
    with pytest.raises(CommandError, match="more than 2 empty rows"):
        call_command("import_tasks", str(path))
    assert not Task.objects.filter(code__in=["X01", "X02"]).exists()
