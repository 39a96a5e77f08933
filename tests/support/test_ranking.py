"""A province's communes ranked (DESIGN.md §12, issue 18 item 5): reporting on time, the fully-online share,
dossiers resolved on time and commune tasks green; sortable; CSV and XLSX export; scoped."""

import csv
import datetime
import io

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from localities.models import Commune
from support import selectors
from tasks.models import Assignment
from tests.reports.factories import make_report

pytestmark = pytest.mark.django_db

BA_DINH, NGOC_HA = "00004", "00008"


def yesterday(n=0):
    return timezone.localdate() - datetime.timedelta(days=1 + n)


@pytest.fixture
def figures(db):
    """Ba Đình reports every one of the last 7 days on time, mostly online; Ngọc Hà 3 days, one late, offline."""
    for n in range(7):
        make_report(
            BA_DINH,
            yesterday(n),
            received_online=10,
            received_direct=0,
            received_postal=0,
            received_fully_online=9,
            resolved_early=1,
            resolved_on_time=9,
            resolved_late=0,
        )
    for n in range(3):
        make_report(
            NGOC_HA,
            yesterday(n),
            late=n == 0,
            received_online=0,
            received_direct=10,
            received_postal=0,
            received_fully_online=0,
            resolved_early=0,
            resolved_on_time=5,
            resolved_late=5,
        )
    Assignment.objects.filter(commune_id=NGOC_HA).update(status="completed", progress=100, completed_on=yesterday())
    Assignment.objects.filter(commune_id=BA_DINH).update(status="in_progress")


def by_code(rows):
    return {r["commune"]: r for r in rows}


def test_the_figures_of_each_commune(figures):
    from localities.models import Province

    rows = selectors.commune_ranking(province=Province.objects.get(pk="01"), end=yesterday(), days=7, sort="reporting")
    assert len(rows) == Commune.objects.filter(province_id="01").count()
    ba_dinh, ngoc_ha = by_code(rows)[BA_DINH], by_code(rows)[NGOC_HA]
    assert (ba_dinh["rank"], ba_dinh["reporting"], ba_dinh["fully_online"], ba_dinh["on_time"]) == (1, 1.0, 0.9, 1.0)
    assert ngoc_ha["reported_on_time"] == 2 and ngoc_ha["reporting"] == pytest.approx(2 / 7)
    assert (ngoc_ha["fully_online"], ngoc_ha["on_time"]) == (0.0, 0.5)
    assert ngoc_ha["tasks"] == ngoc_ha["tasks_green"] > 0 and ngoc_ha["green"] == 1.0
    assert ba_dinh["tasks"] > 0 and ba_dinh["green"] == 0.0
    silent = next(r for r in rows if r["commune"] not in (BA_DINH, NGOC_HA))
    assert (silent["reporting"], silent["fully_online"], silent["on_time"]) == (0.0, None, None)  # no denominator
    # Another order: the shares without a denominator come last.
    by_online = selectors.commune_ranking(
        province=Province.objects.get(pk="01"), end=yesterday(), days=7, sort="fully_online"
    )
    assert [r["commune"] for r in by_online[:2]] == [BA_DINH, NGOC_HA]
    assert by_online[2]["fully_online"] is None


def test_the_page_sorts_and_costs_the_same_queries_whatever_the_data(figures, client, province_officer):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(province_officer)
    response = client.get("/operations/communes/?days=7&sort=fully_online")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index(f'data-commune="{BA_DINH}"') < body.index(f'data-commune="{NGOC_HA}"')
    assert "90.0%" in body
    with CaptureQueriesContext(connection) as few:
        client.get("/operations/communes/?days=7")
    make_report("00025", yesterday())
    with CaptureQueriesContext(connection) as more:
        client.get("/operations/communes/?days=90")
    assert len(few) == len(more)


def test_the_export_in_csv_and_xlsx(figures, client, steering):
    client.force_login(steering)
    response = client.get("/operations/communes/export.csv?province=01&days=7&sort=on_time")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    data = [r for r in rows[1:] if r and r[0].isdigit()]
    assert data[0][1] == BA_DINH and data[0][5] == "1.0"
    assert client.get("/operations/communes/export.xlsx?province=01").status_code == 200


def test_bad_parameters_name_themselves(client, province_officer):
    client.force_login(province_officer)
    response = client.get("/operations/communes/?days=12")
    assert response.status_code == 400 and b"days" in response.content
    response = client.get("/operations/communes/?sort=colour")
    assert response.status_code == 400 and b"sort" in response.content
    assert client.get("/operations/communes/export.pdf").status_code == 404


def test_scoping(client, province_officer, steering, commune_clerk, agency_officer):
    client.force_login(province_officer)
    assert client.get("/operations/communes/?province=79").status_code == 404  # another province
    client.force_login(steering)
    picked = client.get("/operations/communes/")
    assert picked.status_code == 200 and b'data-testid="province-pick"' in picked.content
    assert client.get("/operations/communes/?province=79").status_code == 200
    assert client.get("/operations/communes/export.csv").status_code == 400  # which province?
    for user in (commune_clerk, agency_officer):
        client.force_login(user)
        assert client.get("/operations/communes/?province=01").status_code == 403


def test_the_json_twin(figures, api_for, province_officer, steering):
    body = api_for(user=province_officer).get("/api/v1/operations/communes/?days=7&sort=on_time").json()
    assert (body["province"], body["days"], body["sort"], body["end"]) == ("01", 7, "on_time", str(yesterday()))
    first = body["communes"][0]
    assert (first["commune"], first["rank"], first["on_time"], first["fully_online"]) == (BA_DINH, 1, 1.0, 0.9)
    steering_api = api_for(user=steering)
    refused = steering_api.get("/api/v1/operations/communes/?province=01&days=12")
    assert refused.status_code == 400 and "days" in refused.json()["errors"]
    assert "province" in steering_api.get("/api/v1/operations/communes/").json()["errors"]
    assert api_for(user=province_officer).get("/api/v1/operations/communes/?province=79").status_code == 404
