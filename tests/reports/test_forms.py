"""Report forms as data (DESIGN.md §11): the default form is the fixture and reproduces §5; expressions are a
closed grammar; `import_form` plans, refuses and applies a version; a second version — one indicator renamed,
one added, one dropped — flows through intake, validation, storage, rollups and the dashboards' JSON twins;
`GET /api/v1/reports/form/` describes the version in force."""

import csv
import datetime
import functools
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from core.exports import xlsx_bytes
from dashboards.models import NationDayRollup, ProvinceDayRollup
from dashboards.rollups import rollup_rebuild, rollup_verify
from reports import figures, formspec
from reports.formimport import form_template_sheets, plan_form_import
from reports.models import DailyReport, FormVersion, ReportRevision
from tests.reports.conftest import local
from tests.reports.helpers import BASE_FIGURES, days_ago, payload

FORM_URL = "/api/v1/reports/form/"
URL = "/api/v1/reports/daily/"


# --- the default form -------------------------------------------------------------------------------------------


def test_the_default_form_is_the_fixture_and_reproduces_section_5():
    spec = formspec.default_spec()
    assert spec.status == "proposed" and spec.number == 1
    assert figures.INTEGER_FIELDS == list(BASE_FIGURES)
    assert figures.LESS_OR_EQUAL == [
        ("received_fully_online", "received_online"),
        ("staff_present", "staff_assigned"),
        ("staff_with_digital_signature", "staff_assigned"),
        ("documents_e_signed", "documents_issued"),
    ]
    assert figures.FIGURE_MAX["outage_minutes"] == 1440
    assert {f for f, m in figures.FIGURE_MAX.items() if m != 1_000_000} == {"outage_minutes"}
    assert figures.ALL_FIELDS[-4:] == ["outage_systems", "difficulties", "proposals", "support_needed"]
    values = dict(BASE_FIGURES)
    received = values["received_online"] + values["received_direct"] + values["received_postal"]
    resolved = values["resolved_early"] + values["resolved_on_time"] + values["resolved_late"]
    assert figures.rates(values) == {
        "received_total": received,
        "resolved_total": resolved,
        "online": values["received_online"] / received,
        "fully_online": values["received_fully_online"] / received,
        "on_time": (values["resolved_early"] + values["resolved_on_time"]) / resolved,
    }
    zero = dict.fromkeys(BASE_FIGURES, 0)
    assert figures.rate_block(zero) == {"online": None, "fully_online": None, "on_time": None}


@pytest.mark.django_db
def test_the_migration_stored_the_fixture_as_version_1():
    version = FormVersion.objects.get(form__code="daily", number=1)
    assert version.effective_from == datetime.date(2025, 7, 1)
    stored, shipped = version.spec().as_dict(), formspec.default_spec().as_dict()
    assert stored == shipped


# --- expressions ----------------------------------------------------------------------------------------------


def test_expressions_are_a_closed_grammar_never_eval():
    expr = formspec.parse_expression("(a + b) * 2 - c")
    assert expr.names == ("a", "b", "c")
    assert expr.value({"a": 1, "b": 2, "c": 3}) == 3
    assert expr.value({"a": 1, "b": 2}) is None
    assert formspec.parse_expression("flag").value({"flag": True}) == 1
    for text in ["__import__('os').system('true')", "a / b", "a.b", "1.5", "a < b", "a if b else c", "", "a +"]:
        with pytest.raises(formspec.ExpressionError):
            formspec.parse_expression(text)


def _data(**changes):
    data = formspec.default_data()
    return {**data, **changes}


def test_unknown_types_unknown_names_and_circles_are_refused_by_sheet_row_and_column():
    data = _data()
    indicators = [dict(i) for i in data["indicators"]]
    indicators[2]["type"] = "decimal"
    rules = [
        *data["rules"],
        {"code": "ghost", "kind": "compare", "left": "nobody", "op": "<=", "right": "received_online"},
        {"code": "c1", "kind": "required_when", "left": "difficulties", "right": "proposals"},
        {"code": "c2", "kind": "required_when", "left": "proposals", "right": "difficulties"},
        {"code": "bad", "kind": "compare", "left": "received_online / 2", "op": "<=", "right": "1"},
    ]
    with pytest.raises(formspec.FormDefinitionError) as caught:
        formspec.build_spec({**data, "indicators": indicators, "rules": rules})
    errors = caught.value.errors
    assert ("indicators", 4, "type") in {e[:3] for e in errors}
    assert any(e[:3] == ("rules", 7, "left") and "nobody" in e[3] for e in errors)
    assert any(e[0] == "rules" and "circular" in e[3] and "vòng tròn" in e[3] for e in errors)
    assert any(e[:3] == ("rules", 10, "left") for e in errors)


# --- a second version ------------------------------------------------------------------------------------------


def version_2_workbook(tmp_path, *, name="form_v2.xlsx", edit=None):
    """The default form's template, edited: received_direct renamed received_at_desk (its series continues),
    returned dropped, consultations added (with a warning rule and a rate), as an agency would edit it; `edit`
    changes its sheets further. The file is written once per test directory and name; the unedited workbook is
    built once per process."""
    path = tmp_path / name
    if edit is not None or not path.exists():
        path.write_bytes(_version_2_bytes() if edit is None else _version_2_build(edit))
    return path


@functools.cache
def _version_2_bytes():
    return _version_2_build(None)


def _version_2_build(edit):
    sheets = {sheet.title: sheet for sheet in form_template_sheets(formspec.default_spec())}
    form = sheets["form"]._replace(rows=[["daily", "Báo cáo ngày (mới)", "Daily report (new)", "official", ""]])
    header = list(sheets["indicators"].header)
    rows = [list(r) for r in sheets["indicators"].rows]
    col = {c: header.index(c) for c in header}
    rows = [r for r in rows if r[col["code"]] != "returned"]
    for r in rows:
        if r[col["code"]] == "received_direct":
            r[col["code"]], r[col["label_en"]] = "received_at_desk", "received at the one-stop desk"
    added = [""] * len(header)
    added[col["code"]], added[col["label_vi"]], added[col["label_en"]] = "consultations", "lượt tư vấn", "consultations"
    added[col["type"]], added[col["required"]], added[col["aggregation"]] = "integer", True, "sum"
    added[col["section"]], added[col["maximum"]], added[col["minimum"]] = "intake", 100000, 0
    rows.insert(3, added)
    rules = [list(r) for r in sheets["rules"].rows]
    rules.append(["busy_desk", "compare", "consultations", "<=", "1000", "", "warning", "", ""])
    rates = [
        [r[0], *(cell.replace("received_direct", "received_at_desk") for cell in r[1:3]), *r[3:]]
        for r in sheets["rates"].rows
    ]
    rates.append(["consulted", "consultations", "received_online + received_at_desk + received_postal", "", ""])
    parts = {
        "form": form,
        "indicators": sheets["indicators"]._replace(rows=rows),
        "rules": sheets["rules"]._replace(rows=rules),
        "rates": sheets["rates"]._replace(rows=rates),
    }
    if edit:
        edit(parts)
    return xlsx_bytes(parts.values())


def import_version_2(tmp_path, freeze, *, effective, edit=None, name="form_v2.xlsx"):
    """Apply version 2 (`edit`ed) from `effective`, imported the day before at 09:00; returns its FormVersion."""
    freeze(local(effective - datetime.timedelta(days=1), 9))
    call_command(
        "import_form",
        str(version_2_workbook(tmp_path, edit=edit, name=name)),
        "--apply",
        "--effective-from",
        effective.isoformat(),
        stdout=io.StringIO(),
    )
    return FormVersion.objects.get(number=2)


def v2_payload(day, **overrides):
    data = payload(day=day)
    data["received_at_desk"] = data.pop("received_direct")
    data.pop("returned")
    data["consultations"] = 7
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_import_form_dry_run_lists_the_changes_and_writes_nothing(tmp_path, freeze):
    freeze(local(days_ago(0), 7))
    out = io.StringIO()
    effective = days_ago(-2)
    call_command(
        "import_form", str(version_2_workbook(tmp_path)), "--effective-from", effective.isoformat(), stdout=out
    )
    text = out.getvalue()
    assert "indicator renamed: received_direct → received_at_desk (series received_direct continues)" in text
    assert "indicator added: consultations" in text
    assert "indicator dropped: returned (its series ends)" in text
    assert "rule added: busy_desk" in text and "rate added: consulted" in text
    assert "Dry run" in text
    assert FormVersion.objects.count() == 1


@pytest.mark.django_db
def test_an_applied_version_is_in_the_audit_trail_with_who_and_when(tmp_path, freeze):
    from audit.trail import TrailFilter, audit_trail, describe

    moment = freeze(local(days_ago(0), 7))
    call_command(
        "import_form",
        str(version_2_workbook(tmp_path)),
        "--apply",
        "--effective-from",
        days_ago(-2).isoformat(),
        "--user",
        "nat-admin",
        stdout=io.StringIO(),
    )
    with translation.override("en"):
        events = {e["actor"]: e for e in (describe(row) for row in audit_trail(TrailFilter(kind="form_imported")))}
    assert set(events) == {"nat-admin", "migration"}  # version 1 was written by the migration
    event = events["nat-admin"]
    assert event["at"] == moment
    assert event["summary"] == (
        f"form daily version 2 (official) in force from {days_ago(-2).isoformat()}, from form_v2.xlsx"
    )


@pytest.mark.django_db
def test_import_form_errors_name_sheet_row_and_column_and_nothing_is_written(tmp_path, freeze):
    freeze(local(days_ago(0), 7))

    def spoil(parts):
        rows = [list(r) for r in parts["indicators"].rows]
        rows[0][parts["indicators"].header.index("type")] = "decimal"
        rules = [list(r) for r in parts["rules"].rows]
        rules.append(["loop", "compare", "received_online", "<=", "nobody * 2", "", "error", "", ""])
        rules.append(["broken", "compare", "received_online +", "<=", "1", "", "error", "", ""])
        rules.append(["c1", "required_when", "difficulties", "", "proposals", "", "warning", "", ""])
        rules.append(["c2", "required_when", "proposals", "", "difficulties", "", "warning", "", ""])
        parts["indicators"] = parts["indicators"]._replace(rows=rows)
        parts["rules"] = parts["rules"]._replace(rows=rules)

    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command(
            "import_form",
            str(version_2_workbook(tmp_path, edit=spoil)),
            "--apply",
            "--effective-from",
            days_ago(-3).isoformat(),
            stderr=err,
        )
    lines = err.getvalue()
    assert "sheet indicators, row 2, column type: 'decimal': use one of" in lines
    assert "sheet rules, row 8, column right: unknown indicator 'nobody' / không có chỉ tiêu 'nobody'" in lines
    assert "sheet rules, row 9, column left: 'received_online +' is not an expression" in lines
    assert "sheet rules, column right: circular conditions: difficulties → proposals → difficulties" in lines
    assert "Traceback" not in lines
    assert len(lines.splitlines()) == 4  # nothing else: the indicator in error is not unknown to the rules
    assert FormVersion.objects.count() == 1


@pytest.mark.django_db
def test_a_version_over_days_that_have_reports_is_refused(tmp_path, commune_key, freeze):
    from reports.services import daily_report_submit

    freeze(local(days_ago(0), 7))
    assert daily_report_submit(payload=payload(day=days_ago(1)), client=commune_key[0]).status == "created"
    workbook = version_2_workbook(tmp_path)
    past = plan_form_import(workbook, effective_from=days_ago(1))
    assert [str(e) for e in past.errors] == [
        f"sheet form, row 2, column effective_from: {days_ago(1).isoformat()} is not after today "
        f"({days_ago(0).isoformat()}): a version takes effect on a later day / ngày hiệu lực phải sau hôm nay "
        f"({days_ago(0).isoformat()})",
        f"sheet form, row 2, column effective_from: reports exist up to {days_ago(1).isoformat()}: a new version "
        "must take effect after that day, so no stored report changes its form / đã có báo cáo đến ngày "
        f"{days_ago(1).isoformat()}: phiên bản mới phải có hiệu lực sau ngày đó",
    ]
    assert plan_form_import(workbook, effective_from=days_ago(-1)).ok


@pytest.mark.django_db
def test_a_second_version_flows_through_intake_validation_storage_rollups_and_twins(
    tmp_path, api_for, commune_key, province_key, steering, freeze
):
    today = days_ago(0)
    effective = today - datetime.timedelta(days=3)
    freeze(local(effective - datetime.timedelta(days=1), 9))
    call_command(
        "import_form",
        str(version_2_workbook(tmp_path)),
        "--apply",
        "--effective-from",
        effective.isoformat(),
        "--user",
        "tests",
        stdout=io.StringIO(),
    )
    version = FormVersion.objects.get(number=2)
    assert (version.imported_by, version.status, version.effective_from) == ("tests", "official", effective)
    freeze(local(today, 7))
    api = api_for(commune_key[1])
    before = effective - datetime.timedelta(days=1)

    # The day before: version 1, as §5 says.
    response = api.post(URL, payload(day=before, received_direct=30), format="json")
    assert response.status_code == 201, response.json()
    # From its day: version 2's fields, and only those.
    old_fields = api.post(URL, payload(day=effective), format="json")
    assert old_fields.status_code == 400
    errors = old_fields.json()["errors"]
    assert errors["received_direct"][0]["code"] == "unknown_field"
    assert errors["returned"][0]["code"] == "unknown_field"
    assert errors["received_at_desk"][0]["code"] == "required"
    assert errors["consultations"][0]["code"] == "required"
    created = api.post(URL, v2_payload(effective, received_at_desk=40, consultations=1500), format="json")
    assert created.status_code == 201, created.json()
    warning = [w for w in created.json()["warnings"] if w["code"] == "busy_desk"]
    assert warning == [
        {
            "code": "busy_desk",
            "indicator": "consultations",
            "value": 1500,
            "expected": None,
            "message": "consultations must be ≤ 1000 (1500, 1000).",
        }
    ]
    # The warning waits in the province's quality queue, to be explained.
    from reports.models import QualityWarning

    queued = QualityWarning.objects.get(code="busy_desk")
    assert (queued.locality, queued.indicator, queued.value, queued.state) == ("00004", "consultations", 1500, "open")
    # A province's own report of the same day, through the batch.
    batch = api_for(province_key[1]).post(
        URL + "batch/",
        {"reports": [v2_payload(effective, locality="01", received_at_desk=5, consultations=3)]},
        format="json",
    )
    assert batch.json()["results"][0]["status"] == "created", batch.json()

    stored = DailyReport.objects.get(locality="00004", date=effective)
    assert stored.form_version_id == version.pk
    assert (stored.received_direct, stored.returned, stored.extra) == (40, 0, {"consultations": 1500})
    assert ReportRevision.objects.get(report=stored).payload["received_at_desk"] == 40
    old = DailyReport.objects.get(locality="00004", date=before)
    assert (old.received_direct, old.extra) == (30, None)

    # An identical replay is unchanged; a different one is a conflict named in version 2's fields.
    replay = api.post(URL, v2_payload(effective, received_at_desk=40, consultations=1500), format="json")
    assert replay.status_code == 200
    conflict = api.post(URL, v2_payload(effective, received_at_desk=41, consultations=1500), format="json")
    assert conflict.status_code == 409
    assert conflict.json()["diff"] == {"received_at_desk": {"stored": 40, "submitted": 41}}

    # Rollups: the renamed indicator continues its series; the new one is summed per province and nation.
    for day in (before, effective):
        rollup_rebuild(province_id="01", day=day)
    assert ProvinceDayRollup.objects.get(province_id="01", date=before).received_direct == 30
    province = ProvinceDayRollup.objects.get(province_id="01", date=effective)
    assert (province.received_direct, province.extra) == (45, {"consultations": 1503})
    assert NationDayRollup.objects.get(date=effective).extra == {"consultations": 1503}
    # The nightly check recomputes them: nothing to say; a tampered sum is found and repaired.
    assert rollup_verify(start=before, end=effective) == []
    ProvinceDayRollup.objects.filter(province_id="01", date=effective).update(extra={"consultations": 1})
    (alarm,) = rollup_verify(start=before, end=effective)
    assert alarm.differences == {"extra": {"stored": {"consultations": 1}, "fresh": {"consultations": 1503}}}
    assert ProvinceDayRollup.objects.get(province_id="01", date=effective).extra == {"consultations": 1503}

    # The JSON twins speak the version of their day.
    steering_api = api_for(user=steering)
    national = steering_api.get("/api/v1/dashboard/national/", {"date": effective.isoformat()}).json()
    assert national["totals"]["received_at_desk"] == 45
    assert national["totals"]["consultations"] == 1503
    assert "returned" not in national["totals"] and "received_direct" not in national["totals"]
    received = 2 * BASE_FIGURES["received_online"] + 45 + 2 * BASE_FIGURES["received_postal"]
    assert national["rates"]["consulted"] == pytest.approx(1503 / received)
    earlier = steering_api.get("/api/v1/dashboard/national/", {"date": before.isoformat()}).json()
    assert earlier["totals"]["received_direct"] == 30 and "consultations" not in earlier["totals"]
    assert set(earlier["rates"]) == {"online", "fully_online", "on_time"}
    queue = steering_api.get("/api/v1/reports/quality/", {"province": "01", "indicator": "consultations"})
    assert queue.status_code == 200, queue.content
    assert [w["code"] for w in queue.json()["results"]] == ["busy_desk"]
    provinces = steering_api.get("/api/v1/dashboard/provinces/", {"date": effective.isoformat()}).json()
    hanoi = next(p for p in provinces if p["province"] == "01")
    assert hanoi["totals"]["consultations"] == 1503

    # The form endpoint describes each day's version.
    form = api.get(FORM_URL, {"date": effective.isoformat()}).json()
    assert (form["version"], form["status"], form["effective_from"]) == (2, "official", effective.isoformat())
    codes = [i["code"] for i in form["indicators"]]
    assert "consultations" in codes and "returned" not in codes
    desk = next(i for i in form["indicators"] if i["code"] == "received_at_desk")
    assert desk["series"] == "received_direct"
    assert api.get(FORM_URL, {"date": before.isoformat()}).json()["version"] == 1

    # The report's own API answer speaks its version; the earlier day's is §5's.
    detail = api.get(f"{URL}00004/{effective.isoformat()}/").json()
    assert (detail["received_at_desk"], detail["consultations"]) == (40, 1500)
    assert "returned" not in detail and "received_direct" not in detail
    assert detail["received_total"] == BASE_FIGURES["received_online"] + 40 + BASE_FIGURES["received_postal"]
    assert detail["rates"]["consulted"] == pytest.approx(1500 / detail["received_total"])
    assert set(api.get(f"{URL}00004/{before.isoformat()}/").json()["rates"]) == {"online", "fully_online", "on_time"}


@pytest.mark.django_db
def test_a_second_version_flows_through_the_browser_form_and_the_upload(tmp_path, client, commune_clerk, freeze):
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile

    today = days_ago(0)
    effective = today - datetime.timedelta(days=2)
    import_version_2(tmp_path, freeze, effective=effective)
    freeze(local(today, 7))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(commune_clerk)

    page = client.get("/reports/submit/", {"date": effective.isoformat()})
    assert 'name="consultations"' in page.text and 'name="received_at_desk"' in page.text
    assert 'name="returned"' not in page.text
    assert "Form: Daily report (new), version 2" in page.text and "proposed: not yet" not in page.text
    older = client.get("/reports/submit/", {"date": (effective - datetime.timedelta(days=1)).isoformat()})
    assert 'name="returned"' in older.text and "proposed: not yet the official form" in older.text

    post = {k: str(v) for k, v in v2_payload(effective, consultations=9).items() if k != "outage_systems"}
    post.update(outage_systems=["vneid"], support_needed="")
    response = client.post("/reports/submit/", post)
    assert response.status_code == 302, response.context["form"].errors
    stored = DailyReport.objects.get(date=effective)
    assert stored.extra == {"consultations": 9} and stored.submitted_by == commune_clerk
    correct = client.get(f"/reports/00004/{effective.isoformat()}/correct/")
    assert 'name="consultations"' in correct.text and 'value="9"' in correct.text

    template = client.get("/reports/upload/template.csv").content.decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(template)))
    assert "consultations" in header and "received_at_desk" in header and "returned" not in header
    row = v2_payload(today - datetime.timedelta(days=1), consultations=4)
    row["outage_systems"] = "vneid"
    body = ",".join(header) + "\n" + ",".join(str(row.get(c, "")) for c in header) + "\n"
    upload = client.post("/reports/upload/", {"file": SimpleUploadedFile("r.csv", body.encode(), "text/csv")})
    assert upload.status_code == 200
    assert DailyReport.objects.get(date=today - datetime.timedelta(days=1)).extra == {"consultations": 4}


# --- the form endpoint --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_form_endpoint_describes_the_default_form(api_for, commune_key):
    api = api_for(commune_key[1])
    body = api.get(FORM_URL).json()
    assert (body["code"], body["version"], body["status"]) == ("daily", 1, "proposed")
    assert [i["code"] for i in body["indicators"]] == figures.ALL_FIELDS[2:]
    outage = next(i for i in body["indicators"] if i["code"] == "outage_minutes")
    assert (outage["type"], outage["minimum"], outage["maximum"], outage["required"]) == ("integer", 0, 1440, True)
    assert {r["code"] for r in body["rates"]} == {
        "received_total",
        "resolved_total",
        "online",
        "fully_online",
        "on_time",
    }
    assert {
        "code": "difficulties_required",
        "kind": "required_when",
        "left": "difficulties",
        "op": "",
        "right": "support_needed",
        "field": "support_needed",
        "severity": "error",
        "message_vi": "",
        "message_en": "",
    } in body["rules"]


@pytest.mark.django_db
def test_form_endpoint_refuses_a_bad_date_and_answers_404_before_the_first_form(api_for, commune_key):
    api = api_for(commune_key[1])
    bad = api.get(FORM_URL, {"date": "2025-13-01"})
    assert bad.status_code == 400
    assert bad.json()["errors"]["date"][0]["code"] == "invalid_date"
    before = api.get(FORM_URL, {"date": "2025-06-30"})
    assert before.status_code == 404 and before.json()["code"] == "no_form"
    assert api_for().get(FORM_URL).status_code in (401, 403)


@pytest.mark.django_db
def test_a_post_under_a_second_version_costs_the_queries_of_a_post_under_the_first(
    tmp_path, api_for, commune_key, freeze, django_assert_num_queries
):
    from django.db import connection

    from localities.services import locality_index
    from reports.models import ApiClient

    today = days_ago(0)
    effective = today - datetime.timedelta(days=2)
    import_version_2(tmp_path, freeze, effective=effective)
    freeze(local(today, 7))
    client, key = commune_key
    api = api_for(key)
    locality_index()
    # The process reads the versions once for the day, and compiles version 2 once (by its id).
    assert api.post(URL, v2_payload(effective), format="json").status_code == 201
    ApiClient.objects.filter(pk=client.pk).update(last_used_at=local(today, 6, 59, 30))
    # As tests/reports/test_daily_api.py counts the first version's: key, then one statement (PostgreSQL).
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 9):
        assert api.post(URL, v2_payload(today - datetime.timedelta(days=1)), format="json").status_code == 201


@pytest.mark.django_db
def test_pages_and_exports_of_a_day_under_a_second_version_answer(
    tmp_path, api_for, commune_key, steering, client, freeze
):
    """The pages and their exports stay on the default form's series (README, "Report forms"); they answer for a
    day under another version, and the report's own page speaks its version."""
    from django.conf import settings

    today = days_ago(0)
    effective = today - datetime.timedelta(days=2)
    import_version_2(tmp_path, freeze, effective=effective)
    freeze(local(today, 7))
    assert api_for(commune_key[1]).post(URL, v2_payload(effective, consultations=321), format="json").status_code == 201
    rollup_rebuild(province_id="01", day=effective)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(steering)
    day = effective.isoformat()
    for url in [
        "/dashboard/",
        "/dashboard/?export=xlsx",
        "/dashboard/provinces/",
        "/dashboard/provinces/?export=xlsx",
        "/dashboard/provinces/01/",
        "/dashboard/provinces/01/?export=xlsx",
        "/dashboard/communes/00004/",
        "/reports/",
        "/reports/?export=csv",
    ]:
        assert client.get(url, {"date": day}).status_code == 200, url
    national = client.get("/dashboard/", {"date": day}).text
    assert "Consultations" in national and "321" in national
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(client.get("/dashboard/", {"date": day, "export": "xlsx"}).content)).worksheets[0]
    assert ["consultations", 321, 321] in [
        [str(c).lower() if isinstance(c, str) else c for c in r] for r in sheet.values
    ]
    page = client.get(f"/reports/00004/{day}/").text
    assert "Received at the one-stop desk" in page and "Consultations" in page and "321" in page
    assert "Returned" not in page


@pytest.fixture
def connection_kept():
    """As tests/reports/test_fastpath.py: the request signals would close the test's connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from reports.auth import keys_forget

    keys_forget()
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.mark.django_db
def test_the_fast_path_judges_a_report_by_its_days_version_as_the_full_stack_does(
    tmp_path, commune_key, freeze, connection_kept
):
    from plan02.wsgi import application
    from tests.reports.test_fastpath import both, call

    today = days_ago(0)
    effective = today - datetime.timedelta(days=2)
    import_version_2(tmp_path, freeze, effective=effective)
    freeze(local(today, 7))
    key = commune_key[1]
    requests = [
        ((v2_payload(effective),), {"key": key}),
        ((payload(day=effective),), {"key": key}),
        ((payload(day=effective - datetime.timedelta(days=1)),), {"key": key}),
    ]
    fast, full = both(requests)
    assert [(status, body) for status, _h, body in fast] == [(status, body) for status, _h, body in full]
    assert [status for status, _h, _b in fast] == [201, 400, 201]
    status, _headers, _body = call(application, v2_payload(effective, consultations=3), key=key)
    assert status == 201 and DailyReport.objects.get(date=effective).extra == {"consultations": 3}


@pytest.mark.django_db
def test_a_series_the_version_dropped_is_never_judged_against_its_band(tmp_path, api_for, commune_key, freeze):
    from django.utils import timezone

    from reports.models import QualityBand

    today = days_ago(0)
    effective = today - datetime.timedelta(days=2)
    import_version_2(tmp_path, freeze, effective=effective)
    freeze(local(today, 7))
    for name in ("returned", "received_online"):
        QualityBand.objects.create(
            locality="00004",
            province_id="01",
            indicator=name,
            median=20,
            mad=2,
            low=13,
            high=27,
            days=28,
            source="own",
            computed_at=timezone.now(),
        )
    api = api_for(commune_key[1])
    answer = api.post(URL, v2_payload(effective), format="json").json()
    # `returned` is stored as 0 under version 2 but is none of its figures; received_online (120) is judged.
    assert [w["indicator"] for w in answer["warnings"] if w["code"] == "outlier"] == ["received_online"]
    older = api.post(URL, payload(day=effective - datetime.timedelta(days=1), returned=0), format="json").json()
    assert {w["indicator"] for w in older["warnings"] if w["code"] == "outlier"} == {"received_online", "returned"}


@pytest.mark.django_db
def test_the_openapi_schema_describes_the_version_in_force_today(tmp_path, api_for, steering, freeze):
    def bodies():
        schemas = api_for(user=steering).get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
        return schemas["DailyReportInputRequest"], schemas["DailyReportCorrectionRequest"]

    before, _correction = bodies()
    assert "returned" in before["properties"] and "consultations" not in before["properties"]
    today = days_ago(0)
    freeze(local(today - datetime.timedelta(days=1), 9))
    call_command(
        "import_form",
        str(version_2_workbook(tmp_path)),
        "--apply",
        "--effective-from",
        today.isoformat(),
        stdout=io.StringIO(),
    )
    freeze(local(today, 7))
    post, correction = bodies()
    assert post["properties"]["consultations"] == {
        "type": "integer",
        "minimum": 0,
        "maximum": 100000,
        "description": "consultations",
    }
    assert "returned" not in post["properties"] and "received_at_desk" in post["properties"]
    assert {"locality", "date", "consultations", "received_at_desk"} <= set(post["required"])
    assert "reason" in correction["properties"] and "locality" not in correction.get("required", [])
