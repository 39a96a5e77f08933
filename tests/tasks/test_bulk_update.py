"""Bulk update from an edited XLSX export: the dry run row by row, stale and foreign rows refused, the apply in
one transaction with one history row per change."""

import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from tasks.models import Assignment, StatusUpdate
from tasks.services import assignment_update
from tests.tasks.conftest import set_deadline

URL = "/tasks/assignments/bulk/"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _english(client):
    """These pages are read by someone who chose English (the portal opens in Vietnamese otherwise)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def export(client, **params):
    return client.get("/tasks/assignments/export.xlsx", {"mine": "true", **params}).content


def edit(content, edits, extra_rows=()):
    """Change cells of the exported sheet: edits = {assignment id: {column: value}}; extra rows are appended
    as {column: value}."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        for column, value in edits.get(row[0].value, {}).items():
            row[header.index(column)].value = value
    for extra in extra_rows:
        sheet.append([extra.get(column) for column in header])
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile("edited.xlsx", out.getvalue())


def outcomes(response):
    return {row.assignment.pk if row.assignment else row.row: row.outcome for row in response.context["plan"].rows}


@pytest.fixture
def scenario(client, agency_officer, second_agency_officer):
    """BCA's officer exports their list; T15 and T28 get future deadlines."""
    t15 = Assignment.objects.get(task=set_deadline("T15", 30), agency__code="BCA")
    t28 = Assignment.objects.get(task=set_deadline("T28", 30), agency__code="BCA")
    client.force_login(agency_officer)
    return {"client": client, "t15": t15, "t28": t28, "content": export(client)}


@pytest.mark.django_db
def test_dry_run_lists_each_row_and_refuses_stale_invalid_and_foreign_rows(scenario, second_agency_officer):
    client, t15, t28 = scenario["client"], scenario["t15"], scenario["t28"]
    t01 = Assignment.objects.get(task__code="T01", agency__code="BCA")
    t19 = Assignment.objects.get(task__code="T19", agency__code="BCA")
    vpcp_t01 = Assignment.objects.get(task__code="T01", agency__code="VPCP")  # BCA sees it (leads T01), may not change
    tandtc_t57 = Assignment.objects.get(task__code="T57")  # BCA does not even see it
    # A colleague saves T01 after the export: that row of the file is now stale.
    assignment_update(assignment=t01, actor=second_agency_officer, version=1, status="in_progress", progress=5)

    upload = edit(
        scenario["content"],
        {
            t15.pk: {"status": "in_progress", "progress": 40, "note": "Draft roadmap circulated"},
            t28.pk: {"status": "completed", "progress": 150},
            t01.pk: {"progress": 90},
        },
        extra_rows=[
            {"id": vpcp_t01.pk, "version": 1, "status": "in_progress", "progress": 10},
            {"id": tandtc_t57.pk, "version": 1, "status": "in_progress", "progress": 10},
        ],
    )
    response = client.post(URL, {"file": upload}, **EN)
    assert response.status_code == 200
    result = outcomes(response)
    assert result[t15.pk] == "change"
    assert result[t19.pk] == "unchanged"
    assert result[t28.pk] == "invalid"
    assert result[t01.pk] == "stale"
    assert result[vpcp_t01.pk] == "forbidden"
    assert "forbidden" in result.values() and tandtc_t57.pk not in result  # not even named
    rows = {r.assignment.pk: r for r in response.context["plan"].rows if r.assignment}
    assert [(c.field, c.old, c.new) for c in rows[t15.pk].changes] == [
        ("status", "not_started", "in_progress"),
        ("progress", 0, 40),
    ]
    assert any("progress" in e for e in rows[t28.pk].errors)
    assert "now at version 2" in rows[t01.pk].errors[0]
    assert 'data-outcome="stale"' in response.text
    assert StatusUpdate.objects.filter(assignment__in=[t15, t28]).count() == 0  # a dry run writes nothing


@pytest.mark.django_db
def test_apply_writes_the_accepted_rows_with_one_history_row_each(scenario, agency_officer):
    client, t15, t28 = scenario["client"], scenario["t15"], scenario["t28"]
    upload = edit(
        scenario["content"],
        {
            t15.pk: {"status": "in_progress", "progress": 40, "note": "bulk"},
            t28.pk: {"status": "blocked", "progress": 20, "blocked_by": "btc", "blocked_reason": "Budget"},
        },
    )
    dry_run = client.post(URL, {"file": upload}, **EN)
    assert len(dry_run.context["plan"].to_apply) == 2
    response = client.post(URL, {"token": dry_run.context["token"]}, follow=True, **EN)
    assert response.redirect_chain[-1][0] == "/tasks/mine/"
    assert "2 assignments updated" in response.text

    t15.refresh_from_db()
    t28.refresh_from_db()
    assert (t15.status, t15.progress, t15.version) == ("in_progress", 40, 2)
    assert (t28.status, t28.blocked_by.code, t28.blocked_reason, t28.version) == ("blocked", "BTC", "Budget", 2)
    history = StatusUpdate.objects.filter(assignment__in=[t15, t28])
    assert sorted((u.assignment_id, u.actor, u.note) for u in history) == sorted(
        [(t15.pk, agency_officer, "bulk"), (t28.pk, agency_officer, "")]
    )

    # The same dry run applied twice: its versions are stale now, nothing more is written.
    response = client.post(URL, {"token": dry_run.context["token"]}, follow=True, **EN)
    assert "Nothing was saved" in response.text
    assert StatusUpdate.objects.filter(assignment__in=[t15, t28]).count() == 2


@pytest.mark.django_db
def test_apply_is_all_or_nothing_when_a_row_changed_after_the_dry_run(scenario, second_agency_officer):
    client, t15, t28 = scenario["client"], scenario["t15"], scenario["t28"]
    upload = edit(
        scenario["content"],
        {t15.pk: {"progress": 40, "status": "in_progress"}, t28.pk: {"progress": 5, "status": "in_progress"}},
    )
    dry_run = client.post(URL, {"file": upload}, **EN)
    assert {r.assignment.pk for r in dry_run.context["plan"].to_apply} == {t15.pk, t28.pk}
    assignment_update(assignment=t28, actor=second_agency_officer, version=1, status="in_progress", progress=60)

    response = client.post(URL, {"token": dry_run.context["token"]}, follow=True, **EN)
    assert "Nothing was saved: row" in response.text
    t15.refresh_from_db()
    assert (t15.progress, t15.version) == (0, 1)
    assert Assignment.objects.get(pk=t28.pk).progress == 60


@pytest.mark.django_db
def test_a_dry_run_cannot_be_applied_by_someone_else_or_tampered_with(scenario, second_agency_officer):
    client, t15 = scenario["client"], scenario["t15"]
    dry_run = client.post(URL, {"file": edit(scenario["content"], {t15.pk: {"progress": 40}})}, **EN)
    token = dry_run.context["token"]
    client.force_login(second_agency_officer)
    response = client.post(URL, {"token": token}, follow=True, **EN)
    assert "expired or is not yours" in response.text
    response = client.post(URL, {"token": token[:-2] + "xx"}, follow=True, **EN)
    assert "expired or is not yours" in response.text
    assert not StatusUpdate.objects.exists()


@pytest.mark.django_db
def test_files_that_are_not_the_export_are_refused_clearly(client, agency_officer):
    client.force_login(agency_officer)
    response = client.post(URL, {"file": SimpleUploadedFile("list.csv", b"id,version\n1,1\n")}, **EN)
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == ["Upload the XLSX file exported from this portal (.xlsx)."]

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["id", "status"])
    out = io.BytesIO()
    workbook.save(out)
    response = client.post(URL, {"file": SimpleUploadedFile("mine.xlsx", out.getvalue())}, **EN)
    assert response.context["form"].errors["file"] == ["Missing columns: version, progress."]


@pytest.mark.django_db
def test_read_only_roles_cannot_bulk_update(client, steering):
    client.force_login(steering)
    assert client.get(URL).status_code == 403


# --- bounded reading (issue 12) -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_xlsx_bomb_is_refused_before_it_is_opened(client, agency_officer):
    from tests.conftest import inflated_xlsx

    client.force_login(agency_officer)
    upload = SimpleUploadedFile("mine.xlsx", inflated_xlsx(export(client)))
    response = client.post(URL, {"file": upload}, **EN)
    assert response.status_code == 400
    assert "mine.xlsx is compressed more than 250 to 1" in response.context["form"].errors["file"][0]


@pytest.mark.django_db
def test_reading_stops_at_the_row_limit(client, agency_officer, monkeypatch):
    from openpyxl import Workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    from tasks import bulk

    monkeypatch.setattr(bulk, "MAX_ROWS", 100)
    read = []
    cells_by_row = ReadOnlyWorksheet._cells_by_row

    def counted(self, *args, **kwargs):
        for row in cells_by_row(self, *args, **kwargs):
            read.append(1)
            yield row

    monkeypatch.setattr(ReadOnlyWorksheet, "_cells_by_row", counted)
    workbook = Workbook()
    workbook.active.append(["id", "version", "status", "progress"])
    for i in range(3000):
        workbook.active.append([i + 1, 1, "in_progress", 10])
    out = io.BytesIO()
    workbook.save(out)
    client.force_login(agency_officer)
    response = client.post(URL, {"file": SimpleUploadedFile("mine.xlsx", out.getvalue())}, **EN)
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == ["At most 100 rows per upload."]
    assert len(read) <= 102


@pytest.mark.django_db
def test_an_id_beyond_the_database_range_is_refused_as_unknown(client, agency_officer, bca_assignment):
    client.force_login(agency_officer)
    content = export(client, task="T15")
    upload = edit(content, {}, extra_rows=[{"id": 10**30, "version": 1, "status": "in_progress", "progress": 10}])
    response = client.post(URL, {"file": upload}, **EN)
    assert response.status_code == 200
    refused = [row for row in response.context["plan"].rows if row.assignment is None]
    assert [(row.outcome, row.errors) for row in refused] == [
        ("forbidden", ["id: no assignment you may see has this id."])
    ]
