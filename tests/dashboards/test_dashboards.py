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
from dashboards.snapshots import snapshot_build
from reports.demo import seed_reports
from reports.figures import INTEGER_FIELDS
from reports.models import DailyReport, ReportRevision

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


@pytest.mark.django_db
def test_dashboards_export_xlsx(api):
    _, day = seed(1)
    snapshot_build(timezone.localdate())
    for url in (
        "/dashboard/",
        "/dashboard/phases/",
        "/dashboard/provinces/",
        "/dashboard/provinces/01/",
        "/dashboard/agencies/",
        "/dashboard/agencies/BCA/",
    ):
        response = api.get(url, {"export": "xlsx", "date": day.isoformat()})
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        workbook = load_workbook(io.BytesIO(response.content))
        assert workbook.sheetnames
    workbook = load_workbook(io.BytesIO(api.get("/dashboard/", {"export": "xlsx", "date": day.isoformat()}).content))
    sheet = workbook.worksheets[0]
    values = {row[0]: row[1] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert sum(v for v in values.values() if isinstance(v, int)) > 0


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
    assert len(warm_api) <= 4
    assert len(warm_page) <= 6
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
