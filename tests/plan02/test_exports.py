"""The one export writer (core.exports) neutralises text a spreadsheet would run as a formula — tried as
an attack: a clerk plants formulas in the texts they control, and steering downloads every export."""

import csv
import io
import re
import zipfile

import pytest
from openpyxl import load_workbook

from core.exports import Sheet, csv_bytes, xlsx_bytes
from tasks.models import Agency, Assignment, AssignmentStatus
from tests.reports.helpers import days_ago, payload

ATTACKS = ['=HYPERLINK("http://evil.example/x","open")', "+1+1", "-2+3", "@SUM(A1:A2)", "\tcmd", "\r=1"]


def _xlsx_cells(content):
    workbook = load_workbook(io.BytesIO(content))
    return [[cell for cell in row] for sheet in workbook.worksheets for row in sheet.iter_rows()]


def test_xlsx_keeps_formula_like_text_as_text():
    content = xlsx_bytes([Sheet("s", ["text", "n"], [[value, 1] for value in ATTACKS])])
    sheet_xml = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml  # not one formula in the file
    cells = _xlsx_cells(content)
    # Read back unchanged (the bulk update relies on it); XML itself stores a carriage return as a line feed.
    assert [row[0].value for row in cells[1:]] == [value.replace("\r", "\n") for value in ATTACKS]
    assert all(row[0].data_type == "s" and row[0].quotePrefix for row in cells[1:])
    assert cells[1][1].value == 1 and cells[1][1].data_type == "n"  # numbers stay numbers


def test_csv_prefixes_formula_like_text_with_an_apostrophe():
    rows = list(csv.reader(io.StringIO(csv_bytes(["text"], [[v] for v in [*ATTACKS, "plain", -5]]).decode()[1:])))
    neutralised = [*("'" + v for v in ATTACKS[:-1]), "'\r'=1"]  # the line break is a separator too
    assert [r[0] for r in rows[1:]] == [*neutralised, "plain", "-5"]


# A formula after a separator: Vietnamese spreadsheets split CSV on ";" (the upload reader says so).
SEPARATED = 'x;=HYPERLINK("http://evil.example/x","open");y'


def test_csv_neutralises_a_formula_after_any_separator_and_quotes_every_field():
    values = [SEPARATED, "a,+1+1", "a\t-2+3", "b\n@SUM(A1)", "5; 7", 12, None]
    text = csv_bytes(["text", "n"], [[v, 1] for v in values]).decode()[1:]
    rows = list(csv.reader(io.StringIO(text)))
    assert [r[0] for r in rows[1:]] == [
        'x;\'=HYPERLINK("http://evil.example/x","open");y',
        "a,'+1+1",
        "a\t'-2+3",
        "b\n'@SUM(A1)",
        "5; 7",
        "12",
        "",
    ]
    assert_every_field_quoted_and_inert(text)


def assert_every_field_quoted_and_inert(text):
    """Every field of every record is quoted, and no piece a spreadsheet could cut the file into (at `,`,
    `;`, a tab or a line break, quotes ignored, as a spreadsheet set to another separator reads it) starts a
    formula, with or without the quote it may keep."""
    assert re.fullmatch(r'(?:"(?:[^"]|"")*"(?:,|\r\n))*', text), text[:500]
    for piece in re.split(r"[,;\t\r\n]", text):
        assert not piece.lstrip('"').startswith(("=", "+", "-", "@")), piece


@pytest.fixture
def planted(commune_clerk, client):
    """Phường Ba Đình's clerk blocks its T30 assignment with a formula as the reason and sends a report whose
    difficulties and proposals are formulas."""
    from tasks.services import assignment_update

    assignment = Assignment.objects.select_related("task").get(task__code="T30", commune_id="00004")
    assignment_update(
        assignment=assignment,
        actor=commune_clerk,
        version=assignment.version,
        status=AssignmentStatus.BLOCKED,
        progress=10,
        blocked_by=Agency.objects.get(code="BTC"),
        blocked_reason=ATTACKS[0],
        note=ATTACKS[3],
    )
    client.force_login(commune_clerk)
    body = payload(day=days_ago(1), difficulties=ATTACKS[0], proposals=ATTACKS[1])
    assert client.post("/api/v1/reports/daily/", body, content_type="application/json").status_code == 201
    client.logout()
    return assignment


@pytest.mark.django_db
def test_steering_downloads_planted_formulas_as_text(planted, client, steering):
    client.force_login(steering)
    xlsx = client.get("/tasks/assignments/export.xlsx", {"commune": "00004", "task": "T30"})
    assert xlsx.status_code == 200
    assert "<f>" not in zipfile.ZipFile(io.BytesIO(xlsx.content)).read("xl/worksheets/sheet1.xml").decode()
    values = [cell.value for row in _xlsx_cells(xlsx.content) for cell in row]
    assert ATTACKS[0] in values

    exported = client.get("/tasks/assignments/export.csv", {"commune": "00004", "task": "T30"}).content.decode()
    assert "'" + ATTACKS[0].replace('"', '""') in exported

    reports = client.get("/reports/", {"format": "csv", "commune": "00004"})
    text = b"".join(reports.streaming_content).decode()
    row = next(r for r in csv.DictReader(io.StringIO(text[1:])) if r["locality"] == "00004")
    assert row["difficulties"] == "'" + ATTACKS[0]
    assert row["proposals"] == "'" + ATTACKS[1]
    assert reports["Content-Disposition"].startswith("attachment")


@pytest.mark.django_db
def test_a_planted_formula_survives_the_bulk_update_round_trip(planted, client, commune_clerk):
    """The export is also the bulk-update template: the neutralised text reads back as it was written, so an
    untouched row stays untouched."""
    client.force_login(commune_clerk)
    content = client.get("/tasks/assignments/export.xlsx", {"mine": "true", "task": "T30"}).content
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("back.xlsx", content)
    response = client.post("/tasks/assignments/bulk/", {"file": upload})
    assert response.status_code == 200
    plan = response.context["plan"]
    assert [row.outcome for row in plan.rows] == ["unchanged"]


@pytest.fixture
def planted_after_separators(commune_clerk, client):
    """The clerk of Phường Ba Đình blocks T30 with a formula after a ";" as the reason and as the note (the
    audit trail shows the note), and sends a report whose proposals carry one."""
    from tasks.services import assignment_update

    assignment = Assignment.objects.select_related("task").get(task__code="T30", commune_id="00004")
    assignment_update(
        assignment=assignment,
        actor=commune_clerk,
        version=assignment.version,
        status=AssignmentStatus.BLOCKED,
        progress=10,
        blocked_by=Agency.objects.get(code="BTC"),
        blocked_reason=SEPARATED,
        note=SEPARATED,
    )
    client.force_login(commune_clerk)
    body = payload(day=days_ago(1), difficulties="VNeID", proposals=SEPARATED)
    assert client.post("/api/v1/reports/daily/", body, content_type="application/json").status_code == 201
    client.logout()
    return assignment


def _downloaded(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode()[1:]  # without the BOM


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "path", "params"),
    [
        ("steering", "/reports/", {"format": "csv", "commune": "00004"}),
        ("steering", "/alerts/blockers/", {"export": "csv"}),
        ("inspector", "/audit/", {"export": "csv"}),
        ("steering", "/tasks/assignments/export.csv", {"commune": "00004", "task": "T30"}),
    ],
    ids=["reports", "blockers", "audit", "assignments"],
)
def test_a_formula_after_a_semicolon_is_inert_in_every_csv(
    planted_after_separators, client, request, who, path, params
):
    client.force_login(request.getfixturevalue(who))
    response = client.get(path, params)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = _downloaded(response)
    assert "x;'=HYPERLINK(" in text  # the planted text is there, neutralised
    assert_every_field_quoted_and_inert(text)
