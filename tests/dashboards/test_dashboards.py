import datetime
import io

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from dashboards.models import NationDayRollup
from dashboards.rollups import rollup_rebuild_range
from dashboards.selectors import STATUS_KEYS as STATUS_ORDER  # the columns' order
from dashboards.snapshots import snapshot_build
from reports.demo import seed_reports
from reports.figures import INTEGER_FIELDS
from reports.models import DailyReport, ReportRevision
from tasks.status import DisplayStatus

STATUS_KEYS = {"completed_on_time", "completed_late", "on_track", "overdue", "not_started"}


def seed(days, end=None):
    end = end or timezone.localdate() - datetime.timedelta(days=1)
    start = end - datetime.timedelta(days=days - 1)
    seed_reports(start=start, end=end, seed=11)
    rollup_rebuild_range(start=start, end=end)
    return start, end


@pytest.fixture
def api(client, steering):
    client.force_login(steering)
    return client


@pytest.mark.django_db
def test_national_json_has_the_fixed_shape_and_the_day_totals(api):
    _, day = seed(2)
    body = api.get("/api/v1/dashboard/national/", {"date": day.isoformat()}).json()
    assert set(body) == {"date", "as_of", "totals", "rates", "completeness"}
    assert body["date"] == day.isoformat()
    assert set(body["totals"]) == set(INTEGER_FIELDS)
    reports = DailyReport.objects.filter(date=day)
    assert body["totals"]["received_online"] == sum(r.received_online for r in reports)
    received = sum(r.received_online + r.received_direct + r.received_postal for r in reports)
    assert body["rates"]["online"] == pytest.approx(body["totals"]["received_online"] / received)
    assert body["completeness"] == {
        "expected": 3355,
        "received": reports.count(),
        "on_time": reports.filter(late=False).count(),
        "late": reports.filter(late=True).count(),
        "missing": 3355 - reports.count(),
        "approved": 0,
    }


@pytest.mark.django_db
def test_national_json_for_a_day_without_reports_is_all_missing(api):
    body = api.get("/api/v1/dashboard/national/", {"date": "2025-08-01"}).json()
    assert body["as_of"] is None
    assert body["rates"] == {"online": None, "fully_online": None, "on_time": None}
    assert body["completeness"]["missing"] == body["completeness"]["expected"] == 3355


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["2025-13-01", "yesterday", "2999-01-01"])
def test_bad_date_is_a_400_naming_the_field(api, value):
    response = api.get("/api/v1/dashboard/national/", {"date": value})
    assert response.status_code == 400
    assert "date" in response.json()


@pytest.mark.django_db
def test_provinces_json_sums_each_province_communes_and_its_own_report(api):
    _, day = seed(1)
    body = api.get("/api/v1/dashboard/provinces/", {"date": day.isoformat()}).json()
    assert len(body) == 34
    hanoi = next(p for p in body if p["province"] == "01")
    reports = DailyReport.objects.filter(date=day, province_id="01")
    assert hanoi["totals"]["received_direct"] == sum(r.received_direct for r in reports)
    assert hanoi["completeness"]["expected"] == 127
    assert sum(p["totals"]["outage_minutes"] for p in body) == sum(
        r.outage_minutes for r in DailyReport.objects.filter(date=day)
    )


@pytest.mark.django_db
def test_phases_json_gives_deadlines_counts_and_forecast(api):
    snapshot_build(timezone.localdate())
    body = api.get("/api/v1/dashboard/phases/").json()
    assert [p["code"] for p in body] == ["urgent", "breakthrough"]
    urgent = body[0]
    assert urgent["deadline"] == "2025-06-30"
    assert urgent["days_left"] == (datetime.date(2025, 6, 30) - timezone.localdate()).days
    assert set(urgent["tasks"]) == STATUS_KEYS
    assert sum(urgent["tasks"].values()) == 28
    assert set(urgent["forecast"]) == {"date", "risk", "reason"}
    assert urgent["forecast"]["risk"] == "red"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/dashboard/",
        "/api/v1/dashboard/national/",
        "/dashboard/phases/",
        "/api/v1/dashboard/phases/",
        "/dashboard/provinces/",
        "/dashboard/provinces/01/",
    ],
)
def test_dashboard_query_count_does_not_grow_with_history(api, url):
    end = timezone.localdate() - datetime.timedelta(days=1)
    seed(1, end=end)
    rollup_rebuild_range(start=end - datetime.timedelta(days=1), end=end)
    snapshot_build(end)
    api.get(url)  # the process learns whether the page is kept whole (core.pagecache): both counts alike
    cache.clear()  # the cold path: what a page costs when the rollups have just changed
    with CaptureQueriesContext(connection) as short:
        assert api.get(url, {"date": end.isoformat()} if "phases" not in url else {}).status_code == 200
    # Forty more days of rollups (empty days still get rows) and a month of snapshots.
    rollup_rebuild_range(start=end - datetime.timedelta(days=40), end=end)
    for offset in range(1, 30, 3):
        snapshot_build(end - datetime.timedelta(days=offset))
    assert NationDayRollup.objects.count() == 41
    cache.clear()
    with CaptureQueriesContext(connection) as long:
        assert api.get(url, {"date": end.isoformat()} if "phases" not in url else {}).status_code == 200
    assert len(long.captured_queries) == len(short.captured_queries)
    # + the bell, + the generations (read by the page cache, then by the content cache)
    assert len(short.captured_queries) <= 19


@pytest.mark.django_db
def test_every_number_shows_its_freshness_and_coverage(api):
    _, day = seed(1)
    api.cookies["django_language"] = "en"
    page = api.get("/dashboard/", {"date": day.isoformat()})
    received = DailyReport.objects.filter(date=day, commune__isnull=False).count()
    assert "of 3,321 communes reported" in page.text
    assert f"{received:,} of 3,321" in page.text
    assert "as of" in page.text
    assert "Received online" in page.text  # the figures table of the day


def _tables(response):
    """Each sheet of an XLSX answer as its data rows (the notes above the header and the header left out)."""
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    tables = []
    for sheet in load_workbook(io.BytesIO(response.content)).worksheets:
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        header = next(i for i, row in enumerate(rows) if sum(v is not None for v in row) > 1)  # notes: one cell
        tables.append(rows[header + 1 :])
    return tables


def _day_of(value):
    return value.date() if isinstance(value, datetime.datetime) else value


@pytest.fixture
def work_done(steering):
    """Reports of two days, and task work a snapshot of today counts: a central task of BCA completed by all its
    units, another in progress, five communes of Hà Nội on a commune-level task (three completed, two in progress)."""
    from tasks.models import Assignment, Task
    from tests.dashboards.test_snapshots import at, history

    _, day = seed(2)
    today = timezone.localdate()
    led = Task.objects.filter(lead_agency__code="BCA", level="central").order_by("code")
    for assignment in led[0].assignments.all():  # every unit of the task done: the task is completed
        history(assignment, steering, at(today - datetime.timedelta(days=3)), "completed", 100, today)
    history(led[1].assignments.first(), steering, at(today - datetime.timedelta(days=2)), "in_progress", 40)
    communes = Assignment.objects.filter(level="commune", province_id="01").order_by("task__code", "pk")[:5]
    for n, assignment in enumerate(communes):
        status, progress = ("completed", 100) if n < 3 else ("in_progress", 50)
        history(
            assignment, steering, at(today - datetime.timedelta(days=1)), status, progress, today if n < 3 else None
        )
    snapshot_build(today)
    return day


@pytest.mark.django_db
def test_every_dashboard_export_has_the_numbers_of_its_json_twin(api, work_done):
    """The six XLSX exports read the same numbers as the JSON twins (DESIGN.md §6) and the task API."""
    from django.utils import translation

    from localities.models import Province
    from reports.figures import received_total, resolved_total
    from tasks.models import Agency, Phase

    day, params = work_done, {"export": "xlsx", "date": work_done.isoformat()}
    national = api.get("/api/v1/dashboard/national/", {"date": day.isoformat()}).json()
    provinces = {p["province"]: p for p in api.get("/api/v1/dashboard/provinces/", {"date": day.isoformat()}).json()}
    phases = api.get("/api/v1/dashboard/phases/").json()  # the latest snapshot, as the agencies' pages
    names = dict(Province.objects.values_list("code", "name"))
    with translation.override("vi"):  # the pages answer in Vietnamese: the status labels as they are written
        status_of = {str(DisplayStatus(key).label): key for key in STATUS_ORDER}
    by_status = {key: sum(p["tasks"][key] for p in phases) for key in STATUS_ORDER}
    assert by_status["completed_on_time"] + by_status["completed_late"] >= 1  # more than one status to count
    assert sum(1 for n in by_status.values() if n) >= 2

    def api_count(url, **query):
        return api.get(url, {**query, "page_size": 1}).json()["count"]

    # National: the day's totals and completeness; the period's totals are the sum of its days' JSON.
    totals, completeness, missing = _tables(api.get("/dashboard/", params))
    assert [row[1] for row in totals] == [national["totals"][f] for f in INTEGER_FIELDS]
    assert sum(national["totals"].values()) > 0
    period = [day - datetime.timedelta(days=n) for n in range(30)]
    days = [api.get("/api/v1/dashboard/national/", {"date": d.isoformat()}).json()["totals"] for d in period]
    assert [row[2] for row in totals] == [sum(t[f] for t in days) for f in INTEGER_FIELDS]
    assert [row[2] for row in totals] != [row[1] for row in totals]  # two days of reports, not one
    assert dict(completeness) == national["completeness"]
    assert sorted((name, n, late) for name, n, late in missing) == sorted(
        (names[code], p["completeness"]["missing"], p["completeness"]["late"])
        for code, p in provinces.items()
        if p["completeness"]["missing"]
    )

    # Provinces: each one's completeness, then every total and rate of the day's form (the default form's: the
    # dossiers received and resolved, the online, fully-online and on-time rates).
    [ranking] = _tables(api.get("/dashboard/provinces/", params))
    assert len(ranking) == len(provinces) == 34
    for _rank, code, name, _green, received, expected, late, *measures in ranking:
        twin = provinces[code]
        assert name == names[code]
        assert (received, expected, late) == tuple(twin["completeness"][k] for k in ("received", "expected", "late"))
        dossiers, resolved, online, fully_online, on_time = measures
        assert dossiers == received_total(twin["totals"])
        assert resolved == resolved_total(twin["totals"])
        assert (online, fully_online, on_time) == pytest.approx(
            (twin["rates"]["online"], twin["rates"]["fully_online"], twin["rates"]["on_time"])
        )

    # Hà Nội: its totals, who has not reported, and its commune-level tasks as the assignment API counts them.
    totals, not_reported, commune_tasks = _tables(api.get("/dashboard/provinces/01/", params))
    assert [row[1] for row in totals] == [provinces["01"]["totals"][f] for f in INTEGER_FIELDS]
    assert len(not_reported) == provinces["01"]["completeness"]["missing"] > 0
    assert sum(green for _task, _n, green in commune_tasks) == 3
    for task, communes, green in commune_tasks:
        assert communes == api_count("/api/v1/assignments/", task=task, province="01")
        assert green == api_count("/api/v1/assignments/", task=task, province="01", status="completed")

    # Phases: each phase's days left, counts by status and forecast; the other sheets add up to the same counts.
    phase_sheet, groups, agencies, by_province, tasks = _tables(api.get("/dashboard/phases/", params))
    with translation.override("vi"):
        phase_names = {phase.code: str(phase.name) for phase in Phase.objects.all()}
    dated = {p["code"]: p for p in api.get("/api/v1/dashboard/phases/", {"date": day.isoformat()}).json()}
    assert [row[0] for row in phase_sheet] == [phase_names[code] for code in dated]
    for row, twin in zip(phase_sheet, dated.values(), strict=True):
        counts = dict(zip(STATUS_ORDER, row[3:8], strict=True))
        assert (_day_of(row[1]).isoformat(), row[2], counts) == (twin["deadline"], twin["days_left"], twin["tasks"])
        forecast = _day_of(row[8])
        assert (forecast.isoformat() if forecast else None, row[9]) == (
            twin["forecast"]["date"],
            twin["forecast"]["risk"],
        )
        for sheet in (groups, agencies):  # each task in one group and under one lead agency
            rows = [r for r in sheet if r[0] == row[0]]
            assert {k: sum(r[2 + i] for r in rows) for i, k in enumerate(STATUS_ORDER)} == counts, sheet
        # A task counts in every province it has units in: per province, its statuses add up to its tasks.
        for r in (r for r in by_province if r[0] == row[0]):
            assert sum(r[2:7]) == r[-1], r
        labels = [status_of[r[3]] for r in tasks if r[0] == row[0] and r[3]]
        assert {k: labels.count(k) for k in STATUS_ORDER} == counts

    # Agencies (the latest snapshot): per agency, as many tasks as the task API lists, counts adding up to the
    # phases' JSON; BCA's page: its tasks, their statuses, and their assignments as the assignment API counts.
    [agency_rows] = _tables(api.get("/dashboard/agencies/", params))
    assert {k: sum(r[3 + i] for r in agency_rows) for i, k in enumerate(STATUS_ORDER)} == by_status
    with translation.override("vi"):
        agency_code = {str(agency): agency.code for agency in Agency.objects.all()}
    bca = None
    for _rank, name, led, *counts in agency_rows:
        code = agency_code[name]
        assert led == sum(counts) == api_count("/api/v1/tasks/", lead_agency=code), name
        if code == "BCA":
            bca = dict(zip(STATUS_ORDER, counts, strict=True))
    [led_tasks] = _tables(api.get("/dashboard/agencies/BCA/", params))
    listed = api.get("/api/v1/tasks/", {"lead_agency": "BCA", "page_size": 1000}).json()["results"]
    assert sorted(row[0] for row in led_tasks) == sorted(t["code"] for t in listed)
    labels = [status_of[row[4]] for row in led_tasks if row[4]]
    assert {k: labels.count(k) for k in STATUS_ORDER} == bca
    for code, _title, _phase, _deadline, _status, assignments, completed in led_tasks:
        assert assignments == api_count("/api/v1/assignments/", task=code)
        assert completed == api_count("/api/v1/assignments/", task=code, status="completed")
    assert sum(row[6] for row in led_tasks) >= 1


@pytest.mark.django_db
def test_province_and_commune_pages_follow_scoping(
    client,
    province_officer,
    outsider_province_officer,
    commune_clerk,
    other_commune_clerk,
    agency_officer,
    other_agency_officer,
):
    seed(1)
    cases = [
        (province_officer, "/dashboard/provinces/01/", 200),
        # The province's aggregate is open to every reader, as the ranking that links to it; its communes'
        # lists are not (tests/dashboards/test_selectors.py).
        (outsider_province_officer, "/dashboard/provinces/01/", 200),
        (province_officer, "/dashboard/communes/00004/", 200),
        (outsider_province_officer, "/dashboard/communes/00004/", 404),
        (commune_clerk, "/dashboard/communes/00004/", 200),
        (other_commune_clerk, "/dashboard/communes/00004/", 404),
        (commune_clerk, "/dashboard/provinces/01/", 200),
        (commune_clerk, "/dashboard/provinces/XX/", 404),
        (agency_officer, "/dashboard/agencies/BCA/", 200),
        (other_agency_officer, "/dashboard/agencies/BCA/", 200),  # open, like the phase page that links it
        (other_agency_officer, "/dashboard/agencies/NOPE/", 404),
        (commune_clerk, "/dashboard/", 200),
    ]
    for user, url, status in cases:
        client.force_login(user)
        assert client.get(url).status_code == status, (user.username, url)


@pytest.mark.django_db
def test_seed_demo_writes_reports_revisions_rollups_and_refuses_to_overwrite(capsys):
    call_command("seed_demo", days=2, no_progress=True)
    reports = DailyReport.objects.count()
    assert 2 * 3355 * 0.9 < reports <= 2 * 3355
    assert ReportRevision.objects.count() == reports
    assert NationDayRollup.objects.count() == 2
    revision = ReportRevision.objects.select_related("report").first()
    assert revision.payload["locality"] == revision.report.locality
    assert revision.payload_hash == revision.report.payload_hash
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("seed_demo", days=2, no_progress=True)
    call_command("seed_demo", days=2, if_empty=True, no_progress=True)
    assert DailyReport.objects.count() == reports


@pytest.mark.django_db
def test_rollup_command_rebuilds_a_period_and_rejects_bad_dates(capsys):
    start, end = seed(2)
    NationDayRollup.objects.all().delete()
    call_command("rollup", "--from", start.isoformat(), "--to", end.isoformat(), "--no-progress")
    assert NationDayRollup.objects.count() == 2
    with pytest.raises(CommandError, match=r"--from .2025-02-30.: .*YYYY-MM-DD"):
        call_command("rollup", "--from", "2025-02-30")
    with pytest.raises(CommandError, match="after"):
        call_command("rollup", "--from", end.isoformat(), "--to", start.isoformat())


@pytest.mark.django_db
def test_dashboards_are_served_from_the_cache_until_a_rollup_changes(
    api, commune_clerk, django_capture_on_commit_callbacks
):
    from dashboards.rollups import rollup_rebuild
    from tests.reports.factories import make_report

    _, day = seed(1)
    url = {"date": day.isoformat()}
    first = api.get("/api/v1/dashboard/national/", url).json()
    api.get("/dashboard/", url)
    with CaptureQueriesContext(connection) as warm_api:
        assert api.get("/api/v1/dashboard/national/", url).json() == first
    with CaptureQueriesContext(connection) as warm_page:
        assert api.get("/dashboard/", url).status_code == 200
    # The numbers come from the content cache: the generations (read by the page cache, which keeps the whole
    # answer from the next request on), session, user, the generation again (content cache); the page also
    # reads the membership (navigation) and the bell.
    assert len(warm_api) <= 4, [q["sql"][:200] for q in warm_api.captured_queries]
    assert len(warm_page) <= 6, [q["sql"][:200] for q in warm_page.captured_queries]
    from localities.models import Commune

    absent = Commune.objects.filter(province_id="01").exclude(daily_reports__date=day).first()
    make_report(absent.code, day, received_direct=5000)
    with django_capture_on_commit_callbacks(execute=True):
        rollup_rebuild(province_id="01", day=day)
    after = api.get("/api/v1/dashboard/national/", url).json()
    assert after["totals"]["received_direct"] == first["totals"]["received_direct"] + 5000
    assert after["completeness"]["received"] == first["completeness"]["received"] + 1


@pytest.mark.django_db
def test_admins_see_unresolved_rollup_alarms_on_the_dashboard(client, admin_user, steering):
    from dashboards.models import RollupAlarm

    RollupAlarm.objects.create(date=yesterday_local(), province_id="01", differences={"received_online": {}})
    client.force_login(admin_user)
    assert 'data-testid="rollup-alarms"' in client.get("/dashboard/").text
    client.force_login(steering)
    assert 'data-testid="rollup-alarms"' not in client.get("/dashboard/").text
    RollupAlarm.objects.update(resolved_at=timezone.now())
    client.force_login(admin_user)
    assert 'data-testid="rollup-alarms"' not in client.get("/dashboard/").text


def yesterday_local():
    return timezone.localdate() - datetime.timedelta(days=1)
