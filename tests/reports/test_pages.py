"""Browser pages: the clerk's form and upload (same rules and messages as the API), own history, the province
officer's page (who reported, exceptions, corrections), the read-only list and its CSV export."""

import csv
import io
import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from reports import services
from reports.figures import ALL_FIELDS
from reports.models import DailyReport, LockException, ReportRevision
from tests.reports.helpers import days_ago, payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client):
    """The test client as a reader who chose English (the portal opens in Vietnamese otherwise)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def form_data(data):
    """A report as the browser form posts it (text fields, checkboxes)."""
    post = {k: ("" if v is None else str(v)) for k, v in data.items() if k not in ("outage_systems", "support_needed")}
    post["outage_systems"] = data.get("outage_systems", [])
    if data.get("support_needed"):
        post["support_needed"] = "on"
    return post


# --- the clerk's form ---------------------------------------------------------------------------------------


def test_clerk_sends_a_day_from_the_form(browser, commune_clerk):
    browser.force_login(commune_clerk)
    page = browser.get("/reports/submit/")
    assert page.status_code == 200
    assert 'value="00004"' in page.text and 'name="received_fully_online"' in page.text
    response = browser.post("/reports/submit/", form_data(payload()))
    assert response.status_code == 302
    report = DailyReport.objects.get()
    assert response["Location"] == f"/reports/00004/{report.date.isoformat()}/"
    assert report.submitted_by == commune_clerk and report.outage_systems == ["vneid"]
    detail = browser.get(response["Location"])
    assert report.receipt in detail.text
    assert "Report received" in detail.text


def test_form_errors_are_the_apis_messages(browser, commune_clerk):
    browser.force_login(commune_clerk)
    data = form_data(payload(received_fully_online=200))
    data["returned"] = "-1"
    data["staff_present"] = "many"
    data["received_postal"] = ""
    response = browser.post("/reports/submit/", data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["returned"] == ["Must be 0 or more."]
    assert errors["staff_present"] == ["Must be a whole number."]
    assert errors["received_postal"] == ["Missing figure: send 0 when there was nothing."]
    assert errors["received_fully_online"] == ["Must not exceed received_online (200 > 120)."]
    assert "Must be 0 or more." in response.text
    assert not DailyReport.objects.exists()


def test_support_needed_checkbox_needs_difficulties(browser, commune_clerk):
    browser.force_login(commune_clerk)
    response = browser.post("/reports/submit/", form_data(payload(support_needed=True, difficulties="")))
    assert response.context["form"].errors["support_needed"] == ["When support is needed, describe the difficulties."]


def test_form_shows_a_conflict_with_its_differences(browser, commune_clerk, commune_key):
    stored = services.daily_report_submit(payload=payload(), client=commune_key[0])
    browser.force_login(commune_clerk)
    response = browser.post("/reports/submit/", form_data(payload(returned=9, resolved_late=4)))
    assert response.status_code == 409
    # The two figures that differ, each with the stored and the sent value, and nothing else.
    assert response.context["conflict"].diff == {
        "resolved_late": {"stored": 3, "submitted": 4},
        "returned": {"stored": 2, "submitted": 9},
    }
    conflict = response.text[response.text.index('data-testid="conflict"') :]
    conflict = conflict[: conflict.index("</table>")]
    assert stored.receipt in conflict
    rows = re.findall(r"<tr><td><code>(\w+)</code></td><td>(\d+)</td><td>(\d+)</td></tr>", conflict)
    assert sorted(rows) == [("resolved_late", "3", "4"), ("returned", "2", "9")]
    day = days_ago(1).isoformat()
    assert f'href="/reports/00004/{day}/correct/"' in response.text


def test_form_refuses_a_commune_the_clerk_does_not_belong_to(browser, commune_clerk):
    browser.force_login(commune_clerk)
    response = browser.post("/reports/submit/", form_data(payload("00008")))
    assert response.status_code == 403
    assert "You may not send or correct reports of this locality." in response.text


@pytest.mark.parametrize("persona", ["steering", "agency_officer"])
def test_the_form_is_for_those_who_report(browser, request, persona):
    browser.force_login(request.getfixturevalue(persona))
    assert browser.get("/reports/submit/").status_code == 403
    assert browser.get("/reports/upload/").status_code == 403


# --- upload -------------------------------------------------------------------------------------------------


def csv_file(rows, *, delimiter=",", columns=ALL_FIELDS, name="reports.csv"):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([";".join(row[c]) if isinstance(row.get(c), list) else row.get(c, "") for c in columns])
    return SimpleUploadedFile(name, out.getvalue().encode("utf-8-sig"), content_type="text/csv")


def test_clerk_uploads_a_csv_with_the_same_rules(browser, commune_clerk):
    browser.force_login(commune_clerk)
    rows = [payload(day=days_ago(1)), payload(day=days_ago(2), returned=-4), payload("00008", day=days_ago(1))]
    response = browser.post("/reports/upload/", {"file": csv_file(rows)})
    assert response.status_code == 200
    results = response.context["results"]
    assert [(r["row"], r["outcome"].status) for r in results] == [(2, "created"), (3, "invalid"), (4, "forbidden")]
    assert results[1]["outcome"].errors["returned"][0]["message"] == "Must be 0 or more."
    assert "Must be 0 or more." in response.text
    assert DailyReport.objects.get().submitted_by == commune_clerk


def test_upload_accepts_semicolons_and_leaves_out_empty_rows(browser, province_officer):
    browser.force_login(province_officer)
    rows = [payload("00004"), {}, payload("01", support_needed=True, difficulties="No network")]
    response = browser.post("/reports/upload/", {"file": csv_file(rows, delimiter=";")})
    assert [r["outcome"].status for r in response.context["results"]] == ["created", "created"]
    assert DailyReport.objects.get(locality="01").support_needed is True


def test_upload_an_xlsx(browser, province_officer):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(ALL_FIELDS)
    good = payload("00004")
    sheet.append([";".join(good[c]) if isinstance(good[c], list) else good[c] for c in ALL_FIELDS])
    as_number = payload("00008")
    as_number["locality"] = 8  # what a spreadsheet makes of 00008
    sheet.append([";".join(as_number[c]) if isinstance(as_number[c], list) else as_number[c] for c in ALL_FIELDS])
    out = io.BytesIO()
    workbook.save(out)
    browser.force_login(province_officer)
    upload = SimpleUploadedFile("reports.xlsx", out.getvalue())
    results = browser.post("/reports/upload/", {"file": upload}).context["results"]
    assert [r["outcome"].status for r in results] == ["created", "invalid"]
    assert results[1]["outcome"].errors["locality"][0]["code"] == "wrong_type"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("r.txt", b"x"), "Upload a .csv or .xlsx file."),
        (SimpleUploadedFile("r.csv", b""), "empty"),
        (SimpleUploadedFile("r.csv", b"\n\n"), "Missing column(s): locality"),
        (SimpleUploadedFile("r.csv", b"locality,date,colour\n"), "Unknown column(s): colour."),
        (SimpleUploadedFile("r.csv", b"locality,date\n"), "Missing column(s): received_online"),
        (SimpleUploadedFile("r.csv", "ngày\n".encode("utf-16")), "UTF-8"),
        (SimpleUploadedFile("r.xlsx", b"not a workbook"), "cannot be read as an XLSX"),
    ],
)
def test_upload_refuses_a_file_it_cannot_read(browser, commune_clerk, upload, message):
    browser.force_login(commune_clerk)
    response = browser.post("/reports/upload/", {"file": upload})
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["file"])


def test_upload_templates_have_the_columns(browser, commune_clerk):
    browser.force_login(commune_clerk)
    text = browser.get("/reports/upload/template.csv").content.decode("utf-8-sig")
    header, example = list(csv.reader(io.StringIO(text)))
    assert header == ALL_FIELDS and example[0] == "00004"
    sheet = load_workbook(io.BytesIO(browser.get("/reports/upload/template.xlsx").content)).active
    assert [c.value for c in sheet[1]] == ALL_FIELDS
    assert sheet["A2"].value == "00004"
    assert browser.get("/reports/upload/template.pdf").status_code == 404


# --- history and lists --------------------------------------------------------------------------------------


@pytest.fixture
def reports(province_key, outsider_province_key):
    services.daily_report_submit_batch(
        payloads=[payload("00004"), payload("00004", day=days_ago(2)), payload("00008"), payload("01")],
        client=province_key[0],
    )
    services.daily_report_submit(payload=payload("25747"), client=outsider_province_key[0])


def test_clerk_sees_own_history(browser, commune_clerk, reports, django_assert_max_num_queries):
    browser.force_login(commune_clerk)
    with django_assert_max_num_queries(12):
        response = browser.get("/reports/mine/")
    assert response.status_code == 200
    assert {r.locality for r in response.context["page"]} == {"00004"}
    assert len(response.context["page"]) == 2
    assert "/reports/submit/" in response.text


def test_steering_reads_the_national_list_with_the_shared_filters(browser, steering, reports):
    browser.force_login(steering)
    response = browser.get("/reports/", {"province": "79"})
    assert [r.locality for r in response.context["page"]] == ["25747"]
    assert "/reports/submit/" not in response.text
    assert browser.get("/reports/", {"date_before": days_ago(2).isoformat()}).context["page"].paginator.count == 1


def test_list_query_count_is_fixed(browser, steering, reports, django_assert_num_queries):
    browser.force_login(steering)
    browser.get("/reports/")
    # session, user, membership (scope), provinces (filter form), count, page with provinces and communes, the
    # bell's unread count
    with django_assert_num_queries(7):
        browser.get("/reports/")


def test_csv_export_follows_the_filters_and_the_scope(browser, steering, province_officer, reports):
    browser.force_login(steering)
    response = browser.get("/reports/", {"format": "csv", "province": "01", "date": days_ago(1).isoformat()})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert sorted(r["locality"] for r in rows) == ["00004", "00008", "01"]
    assert rows[0]["received_total"] == "157" and rows[0]["on_time_rate"] == "0.9774"
    browser.force_login(province_officer)
    response = browser.get("/reports/", {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert "25747" not in {r["locality"] for r in rows}


def test_report_page_shows_rates_and_revisions(browser, commune_clerk, reports):
    browser.force_login(commune_clerk)
    response = browser.get(f"/reports/00004/{days_ago(1).isoformat()}/")
    assert response.status_code == 200
    assert 'data-testid="revisions"' in response.text and "98%" in response.text  # on-time rate 130/133
    assert browser.get(f"/reports/00008/{days_ago(1).isoformat()}/").status_code == 404


def test_navigation_leads_each_role_to_its_reports(browser, commune_clerk, steering):
    browser.force_login(commune_clerk)
    assert 'href="/reports/mine/"' in browser.get("/").text
    browser.force_login(steering)
    home = browser.get("/").text
    assert 'href="/reports/"' in home and 'href="/reports/mine/"' not in home


# --- the province officer -----------------------------------------------------------------------------------


def test_province_page_shows_which_communes_reported(browser, province_officer, reports):
    browser.force_login(province_officer)
    response = browser.get("/reports/province/", {"date": days_ago(1).isoformat()})
    assert response.status_code == 200
    rows = {row["code"]: row for row in response.context["rows"]}
    assert rows["01"]["is_province"] and rows["01"]["report"] is not None
    assert rows["00004"]["report"] is not None and rows["00025"]["report"] is None
    assert response.context["counts"]["received"] == 3
    assert "25747" not in rows


def test_province_officer_grants_an_exception_and_the_commune_can_send(browser, province_officer, commune_key, api_for):
    old = days_ago(20)
    browser.force_login(province_officer)
    page = browser.get("/reports/province/", {"date": old.isoformat()})
    assert page.context["locked"] and "Grant an exception" in page.text
    response = browser.post(
        "/reports/province/exceptions/", {"locality": "00004", "date": old.isoformat(), "reason": "flood"}
    )
    assert response.status_code == 302
    exception = LockException.objects.get()
    assert (exception.locality, exception.date, exception.granted_by) == ("00004", old, province_officer)
    sent = api_for(commune_key[1]).post("/api/v1/reports/daily/", payload(day=old), format="json")
    assert sent.status_code == 201


def test_outsiders_cannot_grant_exceptions(browser, outsider_province_officer, commune_clerk):
    browser.force_login(outsider_province_officer)
    browser.post("/reports/province/exceptions/", {"locality": "00004", "date": days_ago(20).isoformat()})
    browser.force_login(commune_clerk)
    assert browser.get("/reports/province/").status_code == 403
    assert (
        browser.post(
            "/reports/province/exceptions/", {"locality": "00004", "date": days_ago(20).isoformat()}
        ).status_code
        == 403
    )
    assert not LockException.objects.exists()


def test_province_officer_corrects_a_communes_report_with_a_reason(browser, province_officer, reports):
    browser.force_login(province_officer)
    url = f"/reports/00004/{days_ago(1).isoformat()}/correct/"
    page = browser.get(url)
    assert page.status_code == 200 and page.context["form"].initial["returned"] == 2
    data = form_data(payload(returned=6))
    missing_reason = browser.post(url, data)
    assert missing_reason.status_code == 400
    assert missing_reason.context["form"].errors["reason"] == ["Say why the report is corrected."]
    response = browser.post(url, {**data, "reason": "Checked with the commune"})
    assert response.status_code == 302
    revision = ReportRevision.objects.get(report__locality="00004", report__date=days_ago(1), number=2)
    assert (revision.author, revision.reason, revision.payload["returned"]) == (
        province_officer,
        "Checked with the commune",
        6,
    )


def test_others_cannot_open_the_correction_form(browser, other_commune_clerk, steering, reports):
    url = f"/reports/00004/{days_ago(1).isoformat()}/correct/"
    browser.force_login(other_commune_clerk)
    assert browser.get(url).status_code == 404
    browser.force_login(steering)
    assert browser.get(url).status_code == 403


# --- bounded uploads (issue 12) ------------------------------------------------------------------------------


def template_workbook():
    from reports.uploads import template_xlsx

    return template_xlsx({"locality": "00004", "date": days_ago(1).isoformat()})


def test_an_xlsx_that_would_inflate_far_beyond_its_size_is_refused_naming_it(browser, commune_clerk):
    from tests.conftest import inflated_xlsx

    browser.force_login(commune_clerk)
    upload = SimpleUploadedFile("bomb.xlsx", inflated_xlsx(template_workbook()))
    response = browser.post("/reports/upload/", {"file": upload})
    assert response.status_code == 400
    assert "bomb.xlsx is compressed more than 250 to 1" in " ".join(response.context["form"].errors["file"])
    assert not DailyReport.objects.exists()


def test_the_upload_size_is_capped(browser, commune_clerk, settings):
    settings.REPORT_UPLOAD_MAX_BYTES = 2048
    browser.force_login(commune_clerk)
    body = (",".join(ALL_FIELDS) + "\n").encode() + b"\n" * 3000
    response = browser.post("/reports/upload/", {"file": SimpleUploadedFile("big.csv", body)})
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        "big.csv is 3.3\xa0KB; a file of reports may have at most 2.0\xa0KB."
    ]


def test_the_empty_rows_skipped_are_bounded(browser, commune_clerk, settings):
    browser.force_login(commune_clerk)
    rows = [{}] * (settings.SPREADSHEET_MAX_BLANK_ROWS + 1) + [payload()]
    response = browser.post("/reports/upload/", {"file": csv_file(rows)})
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        "The file has more than 10,000 empty rows; delete them and upload it again."
    ]
    assert not DailyReport.objects.exists()


def test_a_csv_cell_over_the_field_limit_names_its_row_and_column(browser, commune_clerk):
    browser.force_login(commune_clerk)
    rows = [payload(), payload(day=days_ago(2), difficulties="x" * (csv.field_size_limit() + 1))]
    response = browser.post("/reports/upload/", {"file": csv_file(rows)})
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        "row 3, column difficulties: a cell is longer than 131,072 characters."
    ]
    assert not DailyReport.objects.exists()


def test_reading_stops_past_the_batch_limit(browser, province_officer, settings, monkeypatch):
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    settings.REPORT_BATCH_MAX = 50
    read = []
    cells_by_row = ReadOnlyWorksheet._cells_by_row

    def counted(self, *args, **kwargs):
        for row in cells_by_row(self, *args, **kwargs):
            read.append(1)
            yield row

    monkeypatch.setattr(ReadOnlyWorksheet, "_cells_by_row", counted)
    workbook = Workbook()
    workbook.active.append(ALL_FIELDS)
    for _ in range(500):
        workbook.active.append(["00004", days_ago(1).isoformat(), *[0] * 19])
    out = io.BytesIO()
    workbook.save(out)
    browser.force_login(province_officer)
    response = browser.post("/reports/upload/", {"file": SimpleUploadedFile("many.xlsx", out.getvalue())})
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == ["A file carries at most 50 reports."]
    assert len(read) <= 52  # the header, the 50 reports and the one too many
