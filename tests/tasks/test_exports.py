"""Export of the filtered assignment list as XLSX and CSV: same FilterSet, same scoping, fixed queries."""

import csv
import io

import pytest

from tasks.exports import COLUMNS
from tasks.models import Assignment
from tests.tasks.conftest import xlsx_rows


@pytest.mark.django_db
def test_xlsx_export_is_the_filtered_list_with_machine_readable_headers(client, agency_officer, bca_assignment):
    client.force_login(agency_officer)
    response = client.get("/tasks/assignments/export.xlsx", {"mine": "true"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].startswith('attachment; filename="plan02-assignments-')
    rows = xlsx_rows(response.content)
    assert rows[0] == COLUMNS
    assert len(rows) - 1 == Assignment.objects.filter(agency__code="BCA").count()
    t15 = dict(zip(COLUMNS, next(r for r in rows[1:] if r[0] == bca_assignment.pk), strict=True))
    assert (t15["task"], t15["unit_code"], t15["status"], t15["display_status"], t15["version"]) == (
        "T15",
        "BCA",
        "not_started",
        "not_started",
        1,
    )

    filtered = xlsx_rows(client.get("/tasks/assignments/export.xlsx", {"mine": "true", "task": "T15"}).content)
    assert [r[0] for r in filtered[1:]] == [bca_assignment.pk]


@pytest.mark.django_db
def test_csv_export_is_utf8_with_a_bom_and_scoped_to_the_caller(client, commune_clerk):
    client.force_login(commune_clerk)
    response = client.get("/tasks/assignments/export.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == COLUMNS
    assert {r[COLUMNS.index("unit_name")] for r in rows[1:-1]} == {"Phường Ba Đình"}
    assert {r[COLUMNS.index("task_official")] for r in rows[1:-1]} == {"false"}  # the demo catalogue
    assert rows[-1][0].startswith("Demo catalogue") or rows[-1][0].startswith("Danh mục")
    assert len(rows) == 1 + 7 + 1


@pytest.mark.django_db
def test_export_rejects_a_bad_filter_and_an_unknown_format(client, steering):
    client.force_login(steering)
    assert client.get("/tasks/assignments/export.csv", {"province": "77"}).status_code == 400
    assert client.get("/tasks/assignments/export.pdf").status_code == 404


@pytest.mark.django_db
def test_export_runs_a_fixed_number_of_queries(client, steering, django_assert_num_queries):
    client.force_login(steering)
    # session, user, membership, the province filter's check, the rows in one query, the demo catalogue.
    with django_assert_num_queries(6):
        response = client.get("/tasks/assignments/export.csv", {"province": "01"})
    rows = Assignment.objects.filter(province_id="01").count()
    assert response.content.decode("utf-8").count("\n") == 1 + rows + 1  # header, rows, the demo label
