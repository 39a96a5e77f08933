"""The dashboards follow the report form (DESIGN.md §11, issue 17): under a second version — received_direct
renamed received_at_desk, returned dropped, consultations added with its rate `consulted` — the province and
commune pages, their charts and exports show the version of the day shown (the renamed label, no `returned`
after the switch, `consultations`), the approved figures carry the added indicator, and the communes' ranking
is the form's rates, as an independent recomputation from the stored reports says."""

import datetime
import io
import re

import pytest
from django.conf import settings
from openpyxl import load_workbook

from dashboards.models import ApprovedNationDayRollup, ApprovedProvinceDayRollup
from dashboards.rollups import rollup_rebuild
from reports.models import DailyReport
from tests.reports.conftest import freeze, local  # noqa: F401 — `freeze` is a fixture
from tests.reports.helpers import BASE_FIGURES, days_ago, payload
from tests.reports.test_forms import import_version_2, v2_payload

URL = "/api/v1/reports/daily/"
APPROVE = "/api/v1/reports/approvals/"


@pytest.fixture
def switched(tmp_path, freeze, api_for, commune_key, province_key, province_officer):  # noqa: F811
    """Version 2 in force from two days ago; 00004 and the province 01 report the day before (version 1) and the
    day of the switch (version 2); 00004's report of the switch is approved; the rollups are built."""
    today = days_ago(0)
    effective = today - datetime.timedelta(days=2)
    before = effective - datetime.timedelta(days=1)
    import_version_2(tmp_path, freeze, effective=effective)
    freeze(local(today, 7))
    commune, province = api_for(commune_key[1]), api_for(province_key[1])
    for api, body in [
        (commune, payload(day=before, received_direct=30, returned=5)),
        (province, payload(locality="01", day=before, received_direct=4, returned=1)),
        (commune, v2_payload(effective, received_at_desk=40, consultations=321)),
        (province, v2_payload(effective, locality="01", received_at_desk=5, consultations=3)),
    ]:
        assert api.post(URL, body, format="json").status_code == 201
    approved = api_for(user=province_officer).post(
        APPROVE, {"date": effective.isoformat(), "localities": ["00004"]}, format="json"
    )
    assert approved.status_code == 200, approved.content
    for day in (before, effective):
        rollup_rebuild(province_id="01", day=day)
    return before, effective


@pytest.fixture
def reader(client, steering):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(steering)
    return client


def _table(text, testid):
    """The rows of the table marked data-testid=testid, as lists of cell texts."""
    table = re.search(rf'<table[^>]*data-testid="{testid}".*?</table>', text, re.S).group(0)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]


def _sheets(response):
    assert response.status_code == 200, response.content[:300]
    book = load_workbook(io.BytesIO(response.content))
    return {sheet.title: [list(r) for r in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


@pytest.mark.django_db
def test_the_province_page_and_its_export_show_the_version_of_the_day(switched, reader):
    before, effective = switched
    page = reader.get("/dashboard/provinces/01/", {"date": effective.isoformat()}).text
    figures = dict((label, value) for label, value in _table(page, "figures")[1:])
    assert figures["Received at the one-stop desk"] == "45"
    assert figures["Consultations"] == "324"
    assert "Returned" not in figures and "Received at the desk" not in figures
    assert 'data-testid="measure-consulted"' in page and 'data-testid="measure-received_total"' in page
    # The charts: the version's first total per day, each of its rates (the added one too), the completeness.
    titles = re.findall(r'<strong class="chart-title">(.*?)</strong>', page)
    assert titles == [
        "Dossiers received per day",
        "Online rate",
        "Fully-online rate",
        "On-time rate",
        "Consulted",
        "Reporting completeness",
    ]
    earlier = reader.get("/dashboard/provinces/01/", {"date": before.isoformat()}).text
    figures = dict((label, value) for label, value in _table(earlier, "figures")[1:])
    assert (figures["Received at the desk"], figures["Returned"]) == ("34", "6")
    assert "Consultations" not in figures and 'data-testid="measure-consulted"' not in earlier

    sheets = _sheets(reader.get("/dashboard/provinces/01/", {"date": effective.isoformat(), "export": "xlsx"}))
    totals = {row[0]: row[1] for row in sheets["Totals"] if len(row) > 1 and isinstance(row[1], int)}
    assert totals["received at the one-stop desk"] == 45 and totals["consultations"] == 324
    assert "returned" not in totals
    received = 2 * BASE_FIGURES["received_online"] + 45 + 2 * BASE_FIGURES["received_postal"]
    assert totals["received online"] == 2 * BASE_FIGURES["received_online"]
    assert (
        received
        == 2 * BASE_FIGURES["received_online"] + totals["received at the one-stop desk"] + totals["received by post"]
    )


@pytest.mark.django_db
def test_the_provinces_ranking_and_the_national_page_follow_the_version(switched, reader):
    before, effective = switched
    sheets = _sheets(reader.get("/dashboard/provinces/", {"date": effective.isoformat(), "export": "xlsx"}))
    header = next(row for row in sheets["Provinces"] if row[0] == "Rank")
    assert header[-1] == "consulted" and "fully-online rate (target ≥ 80%)" in header
    hanoi = next(row for row in sheets["Provinces"] if row[1] == "01")
    received = 2 * BASE_FIGURES["received_online"] + 45 + 2 * BASE_FIGURES["received_postal"]
    assert hanoi[header.index("dossiers received")] == received
    assert hanoi[-1] == pytest.approx(324 / received)
    old = _sheets(reader.get("/dashboard/provinces/", {"date": before.isoformat(), "export": "xlsx"}))
    assert "consulted" not in next(row for row in old["Provinces"] if row[0] == "Rank")

    national = reader.get("/dashboard/", {"date": effective.isoformat()}).text
    rows = {row[0]: row[1:] for row in _table(national, "figures")[1:]}
    assert rows["Consultations"] == ["324", "324"]
    assert rows["Received at the one-stop desk"] == ["45", "79"]  # the series continues across the switch
    assert "Returned" not in rows


def _table_rows(text):
    table = re.search(r"<table.*?</table>", text, re.S).group(0)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
        if "<td" in row
    ]


@pytest.mark.django_db
def test_the_commune_page_reads_each_report_in_its_own_version(switched, reader):
    before, effective = switched
    page = reader.get("/dashboard/communes/00004/").text
    table = _table_rows(page.split("Daily reports", 1)[1])
    by_day = {row[0]: row for row in table}
    header = re.search(r"<thead><tr><th>Date</th>(.*?)</tr></thead>", page, re.S).group(1)
    heads = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", header, re.S)]
    assert heads[:6] == [
        "Dossiers received",
        "Dossiers resolved",
        "Online rate",
        "Fully-online rate (target ≥ 80%)",
        "On-time rate",
        "Consulted",
    ]
    received = BASE_FIGURES["received_online"] + 40 + BASE_FIGURES["received_postal"]
    new, old = by_day[effective.strftime("%d/%m/%Y")], by_day[before.strftime("%d/%m/%Y")]
    assert new[1] == str(received) and new[6] == f"{321 / received * 100:.1f}%"
    assert old[1] == str(BASE_FIGURES["received_online"] + 30 + BASE_FIGURES["received_postal"])
    assert old[6] == "—"  # version 1 has no such rate
    titles = re.findall(r'<strong class="chart-title">(.*?)</strong>', page)
    assert "Consulted" in titles and "Reporting completeness" not in titles


@pytest.mark.django_db
def test_the_approved_figures_carry_the_added_indicators(switched, api_for, steering):
    _before, effective = switched
    assert ApprovedProvinceDayRollup.objects.get(province_id="01", date=effective).extra == {"consultations": 321}
    assert ApprovedNationDayRollup.objects.get(date=effective).extra == {"consultations": 321}
    api = api_for(user=steering)
    approved = api.get("/api/v1/dashboard/national/", {"date": effective.isoformat(), "data": "approved"}).json()
    assert approved["totals"]["consultations"] == 321
    assert approved["totals"]["received_at_desk"] == 40
    every = api.get("/api/v1/dashboard/national/", {"date": effective.isoformat()}).json()
    assert every["totals"]["consultations"] == 324


@pytest.mark.django_db
def test_the_communes_ranking_is_the_form_rates_of_the_version_in_force(
    tmp_path,
    freeze,  # noqa: F811
    api_for,
    commune_key,
    province_officer,
):
    """A version whose fully-online rate counts the consultations in its denominator: the ranking's shares over
    a period across the switch are the sums of each report's numerator and denominator in that version's terms
    (version 1's reports have no consultations), recomputed here from the stored rows."""
    from support.selectors import commune_ranking

    def counting_consultations(parts):
        rates = [list(r) for r in parts["rates"].rows]
        for r in rates:
            if r[0] == "fully_online":
                r[2] = "received_online + received_at_desk + received_postal + consultations"
        parts["rates"] = parts["rates"]._replace(rows=rates)

    today = days_ago(0)
    effective = today - datetime.timedelta(days=2)
    before = effective - datetime.timedelta(days=1)
    import_version_2(tmp_path, freeze, effective=effective, edit=counting_consultations, name="v2_rates.xlsx")
    freeze(local(today, 7))
    api = api_for(commune_key[1])
    for body in [
        payload(day=before, received_direct=30, received_fully_online=90),
        v2_payload(effective, received_at_desk=40, consultations=60, received_fully_online=100),
        v2_payload(today - datetime.timedelta(days=1), received_at_desk=10, consultations=5, resolved_late=30),
    ]:
        assert api.post(URL, body, format="json").status_code == 201, body
    from localities.models import Province

    ranking = commune_ranking(province=Province.objects.get(code="01"), end=today, days=7, sort="fully_online")
    mine = next(r for r in ranking if r["commune"] == "00004")
    reports = list(DailyReport.objects.filter(locality="00004"))
    top = sum(r.received_fully_online for r in reports)
    bottom = sum(
        r.received_online + r.received_direct + r.received_postal + (r.extra or {}).get("consultations", 0)
        for r in reports
    )
    assert mine["fully_online"] == pytest.approx(top / bottom)
    on_time = sum(r.resolved_early + r.resolved_on_time for r in reports)
    resolved = sum(r.resolved_early + r.resolved_on_time + r.resolved_late for r in reports)
    assert mine["on_time"] == pytest.approx(on_time / resolved)
    assert ranking[0]["commune"] == "00004"  # the only commune with a share; the others' are None, last
    assert all(r["fully_online"] is None for r in ranking if r["commune"] != "00004")


@pytest.mark.django_db
def test_a_meeting_freezes_the_figures_in_the_version_of_its_day(switched, reader, steering):
    from dashboards.meetings import meeting_create
    from tasks.scoping import scope_for_user

    before, effective = switched
    meeting = meeting_create(scope=scope_for_user(steering), actor=steering, title="v2", date=effective.isoformat())
    assert meeting.content["form"]["version"] == 2
    sheets = _sheets(reader.get(f"/dashboard/meetings/{meeting.pk}/", {"export": "xlsx"}))
    figures = {row[0]: row[2] for row in sheets["Figures"] if len(row) > 2 and row[0] and row[2] is not None}
    assert figures["consultations"] == 324 and figures["received_at_desk"] == 45
    assert "returned" not in figures and "received_direct" not in figures
    received = 2 * BASE_FIGURES["received_online"] + 45 + 2 * BASE_FIGURES["received_postal"]
    assert figures["received_total"] == received and figures["consulted"] == pytest.approx(324 / received)
    labels = [row[1] for row in sheets["Figures"] if len(row) > 2]
    assert "received at the one-stop desk" in labels
    assert any("version 2 (official)" in str(row[0]) for row in sheets["Figures"])
    page = reader.get(f"/dashboard/meetings/{meeting.pk}/").text
    assert 'data-testid="meeting-figures"' in page and "Consultations" in page
    older = meeting_create(scope=scope_for_user(steering), actor=steering, title="v1", date=before.isoformat())
    codes = [f["code"] for f in older.content["figures"]]
    assert "returned" in codes and "consultations" not in codes and older.content["form"]["version"] == 1


@pytest.mark.django_db
def test_the_admin_shows_the_forms_read_only(tmp_path, freeze, client):  # noqa: F811
    from reports.models import FormVersion
    from tasks.roles import Role
    from tests.conftest import make_user

    version = import_version_2(tmp_path, freeze, effective=days_ago(-2))
    admin = make_user("forms-admin", Role.ADMIN)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(admin)
    form = client.get(f"/admin/reports/reportform/{version.form_id}/change/")
    assert form.status_code == 200 and f"/admin/reports/formversion/{version.pk}/change/" in form.text
    page = client.get(f"/admin/reports/formversion/{version.pk}/change/")
    assert page.status_code == 200
    assert "consultations" in page.text and "received_at_desk" in page.text and "busy_desk" in page.text
    assert client.get("/admin/reports/formversion/").status_code == 200
    assert client.get("/admin/reports/formversion/add/").status_code == 403
    assert client.post(f"/admin/reports/formversion/{version.pk}/delete/").status_code == 403
    assert FormVersion.objects.count() == 2


@pytest.mark.django_db
def test_the_demo_generates_the_reports_of_the_version_of_each_day(tmp_path, freeze):  # noqa: F811
    from reports.demo import seed_reports
    from reports.models import ReportRevision
    from reports.receipts import payload_hash
    from reports.validation import validate_reports

    today = days_ago(0)
    effective = today - datetime.timedelta(days=2)
    before = effective - datetime.timedelta(days=1)
    version = import_version_2(tmp_path, freeze, effective=effective)
    freeze(local(today, 7))
    assert seed_reports(start=before, end=effective, seed=5) > 6000
    new = DailyReport.objects.filter(date=effective)
    assert set(new.values_list("form_version_id", flat=True)) == {version.pk}
    assert all(type((extra or {}).get("consultations")) is int for extra in new.values_list("extra", flat=True))
    assert sum(e["consultations"] for e in new.values_list("extra", flat=True)) > 0
    assert set(new.values_list("returned", flat=True)) == {0}  # dropped: its column holds nothing of this day
    assert DailyReport.objects.filter(date=before, extra__isnull=False).count() == 0
    assert DailyReport.objects.filter(date=before, form_version__isnull=False).count() == 0

    revisions = ReportRevision.objects.filter(report__date=effective).select_related("report")
    assert revisions.count() == new.count()
    sample = list(revisions.order_by("report__locality")[:50])
    for revision in sample:
        body = revision.payload
        assert "consultations" in body and "received_at_desk" in body
        assert "returned" not in body and "received_direct" not in body
        assert payload_hash(body) == revision.payload_hash == revision.report.payload_hash
        assert body["received_at_desk"] == revision.report.received_direct  # the renamed indicator's series
    # Every sampled report is valid under version 2, as a clerk's would have to be.
    results = validate_reports([r.payload for r in sample], today=today)
    assert [r.errors for r in results if not r.ok] == []
    old = ReportRevision.objects.filter(report__date=before).first().payload
    assert "returned" in old and "consultations" not in old


@pytest.mark.django_db
def test_the_reports_csv_has_the_series_of_every_version(switched, reader):
    """The /reports/ export: a renamed indicator under its series' column, an indicator a version dropped empty in
    its reports (not the 0 it is stored as), a version's own indicator in a column of its own."""
    import csv

    before, effective = switched
    response = reader.get("/reports/", {"format": "csv", "locality": "00004"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    by_day = {r["date"]: r for r in rows if r["locality"] == "00004"}
    old, new = by_day[before.isoformat()], by_day[effective.isoformat()]
    assert (old["received_direct"], old["returned"], old["consultations"]) == ("30", "5", "")
    assert (new["received_direct"], new["returned"], new["consultations"]) == ("40", "", "321")
