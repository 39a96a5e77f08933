"""The bulk XLSX round trip carries every kind of blocker (DESIGN.md §13): one column per kind, each holding the
code a clerk types; an unknown code or two blockers is refused naming the row and the column; what was
applied comes back in the next export in the same column, and uploading that export again changes nothing."""

import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import load_workbook

from tasks.models import Assignment, LocalPlan, StatusUpdate, SubTask, SubTaskUpdate, Vendor
from tasks.services import assignment_update

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
BLOCKER_COLUMNS = ["blocked_by", "blocked_by_province", "blocked_by_vendor", "blocked_by_system"]


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def vendor(db):
    return Vendor.objects.create(code="vnpt-it", name="VNPT-IT")


@pytest.fixture
def hanoi(db):
    """Three of Hà Nội's province-level assignments."""
    return {
        code: Assignment.objects.get(task__code=code, province_id="01", level="province")
        for code in ("T18", "T22", "T62")
    }


def sheet_rows(content):
    rows = list(load_workbook(io.BytesIO(content), read_only=True).worksheets[0].iter_rows(values_only=True))
    header = list(rows[0])
    return header, {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}


def edit(content, edits):
    """The exported workbook with cells changed: {id: {column: value}}."""
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        for column, value in edits.get(row[0].value, {}).items():
            row[header.index(column)].value = value
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile("edited.xlsx", out.getvalue())


def blocked(**cells):
    return {"status": "blocked", "progress": 10, "blocked_reason": "Waiting", **cells}


def by_id(response):
    return {row.assignment.pk: row for row in response.context["plan"].rows if row.assignment}


def test_every_kind_of_blocker_goes_out_and_comes_back(client, province_officer, hanoi, vendor):
    client.force_login(province_officer)
    t18, t22, t62 = hanoi["T18"], hanoi["T22"], hanoi["T62"]
    content = client.get("/tasks/assignments/export.xlsx", {"mine": "true"}).content
    header, _rows = sheet_rows(content)
    assert [c for c in header if c.startswith("blocked_by")] == BLOCKER_COLUMNS
    # As a clerk types them: a province code that the spreadsheet made a number, a vendor and a system in
    # capitals.
    upload = edit(
        content,
        {
            t18.pk: blocked(blocked_by_province=79),
            t22.pk: blocked(blocked_by_vendor="VNPT-IT"),
            t62.pk: blocked(blocked_by_system="VNeID"),
        },
    )
    dry = client.post("/tasks/assignments/bulk/", {"file": upload}, **EN)
    rows = by_id(dry)
    ids = (t18.pk, t22.pk, t62.pk)
    assert {pk: rows[pk].outcome for pk in ids} == dict.fromkeys(ids, "change")
    assert ("blocked_by_province", None, "79") in [(c.field, c.old, c.new) for c in rows[t18.pk].changes]
    applied = client.post("/tasks/assignments/bulk/", {"token": dry.context["token"]}, follow=True, **EN)
    assert "3 assignments updated" in applied.text

    stored = {a.task.code: a.blocker for a in Assignment.objects.filter(pk__in=[t18.pk, t22.pk, t62.pk])}
    assert {code: (b["kind"], b["code"]) for code, b in stored.items()} == {
        "T18": ("province", "79"),
        "T22": ("vendor", "vnpt-it"),
        "T62": ("system", "vneid"),
    }
    assert StatusUpdate.objects.get(assignment=t22).blocked_by_vendor == vendor  # in the history too

    again = client.get("/tasks/assignments/export.xlsx", {"mine": "true"}).content
    _header, rows_out = sheet_rows(again)
    cells = {pk: tuple(rows_out[pk][c] or "" for c in BLOCKER_COLUMNS) for pk in (t18.pk, t22.pk, t62.pk)}
    assert cells == {
        t18.pk: ("", "79", "", ""),
        t22.pk: ("", "", "vnpt-it", ""),
        t62.pk: ("", "", "", "vneid"),
    }
    # The export uploaded untouched changes nothing.
    unchanged = client.post(
        "/tasks/assignments/bulk/", {"file": SimpleUploadedFile("again.xlsx", again)}, **EN
    ).context["plan"]
    assert {r.outcome for r in unchanged.rows} == {"unchanged"}


def test_a_file_without_the_new_columns_keeps_the_blocker(client, province_officer, hanoi, vendor):
    """An export of an earlier version has only `blocked_by`: the other blockers are kept, not cleared."""
    t22 = hanoi["T22"]
    assignment_update(assignment=t22, actor=province_officer, version=1, **blocked(blocked_by_vendor=vendor))
    client.force_login(province_officer)
    content = client.get("/tasks/assignments/export.xlsx", {"mine": "true"}).content
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    for column in reversed(range(1, sheet.max_column + 1)):
        if sheet.cell(1, column).value in BLOCKER_COLUMNS[1:]:
            sheet.delete_cols(column)
    out = io.BytesIO()
    workbook.save(out)
    plan = client.post("/tasks/assignments/bulk/", {"file": SimpleUploadedFile("old.xlsx", out.getvalue())}, **EN)
    assert by_id(plan)[t22.pk].outcome == "unchanged"


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ({"blocked_by_province": "99"}, "blocked_by_province", "unknown province code “99”"),
        ({"blocked_by_vendor": "acme"}, "blocked_by_vendor", "unknown vendor code “acme”"),
        ({"blocked_by_system": "fax"}, "blocked_by_system", "unknown system code “fax”"),
        ({"blocked_by": "XYZ"}, "blocked_by", "unknown agency code “XYZ”"),
        ({"blocked_by": "BCA", "blocked_by_system": "vneid"}, "blocked_by_system", "one blocker only"),
        ({"blocked_by_province": "01"}, "blocked_by_province", "cannot be blocked by itself"),
    ],
)
def test_bad_blockers_are_refused_naming_the_row_and_the_column(
    client, province_officer, hanoi, vendor, cells, column, message
):
    client.force_login(province_officer)
    t22 = hanoi["T22"]
    content = client.get("/tasks/assignments/export.xlsx", {"mine": "true"}).content
    response = client.post("/tasks/assignments/bulk/", {"file": edit(content, {t22.pk: blocked(**cells)})}, **EN)
    row = by_id(response)[t22.pk]
    assert row.outcome == "invalid"
    assert any(e.startswith(f"{column}: ") and message in e for e in row.errors), row.errors
    _header, exported = sheet_rows(content)
    number = 2 + list(exported).index(t22.pk)
    assert row.row == number  # the sheet's row, as the page shows it
    assert f"{column}: " in response.text
    assert not StatusUpdate.objects.filter(assignment=t22).exists()


def test_subtasks_carry_every_kind_of_blocker_too(client, province_officer, hanoi, vendor):
    plan = LocalPlan.objects.create(
        province_id="01", number="98/KH-UBND", issued_on=timezone.localdate(), title="Plan", created_by=province_officer
    )
    subtask = SubTask.objects.create(
        plan=plan,
        parent=hanoi["T18"],
        title="Data",
        department="Sở KH&CN",
        weight=Decimal("1"),
        deadline=timezone.localdate(),
    )
    client.force_login(province_officer)
    content = client.get("/tasks/subtasks/export.xlsx", {"mine": "true"}).content
    dry = client.post(
        "/tasks/subtasks/bulk/", {"file": edit(content, {subtask.pk: blocked(blocked_by_vendor="vnpt-it")})}, **EN
    )
    assert by_id(dry)[subtask.pk].outcome == "change"
    assert client.post("/tasks/subtasks/bulk/", {"token": dry.context["token"]}, **EN).status_code == 302
    subtask.refresh_from_db()
    assert subtask.blocker["kind"] == "vendor"
    assert SubTaskUpdate.objects.get(subtask=subtask).blocked_by_vendor == vendor
    _header, rows = sheet_rows(client.get("/tasks/subtasks/export.xlsx", {"mine": "true"}).content)
    assert rows[subtask.pk]["blocked_by_vendor"] == "vnpt-it"
