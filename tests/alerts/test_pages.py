"""The early-warning pages: the bell, notifications (with and without HTMX), the blocker register and its
export, support requests closed by the province and read by the commune, missing reports by streak, the
preferences — in Vietnamese and English, scoped like the rest of the portal."""

import csv
import datetime
import io

import pytest
from django.conf import settings
from django.test import Client

from alerts.models import Notification, Preference
from tests.alerts.conftest import assignment, history, local, reports_for_all
from tests.reports.factories import make_report
from tests.tasks.conftest import xlsx_rows

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def browse():
    """browse(user) -> a logged-in client of someone who chose English (the portal opens in Vietnamese)."""

    def make(user, language="en"):
        client = Client()
        client.force_login(user)
        if language:
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return client

    return make


@pytest.fixture
def world(run, quiet, today, province_officer, commune_clerk):
    from tests.tasks.conftest import set_deadline

    set_deadline("T22", -15)
    blocked = history(
        assignment("T29", province="01"),
        province_officer,
        [(local(today - datetime.timedelta(days=8), 9), "blocked", 10, "TANDTC")],
    )
    report = make_report("00004", today - datetime.timedelta(days=1), support_needed=True)
    run(rules=["overdue", "blocked", "support_needed"])
    return {"blocked": blocked, "report": report}


def test_the_bell_shows_the_unread_count_to_logged_in_users_only(world, browse, province_officer, client):
    page = browse(province_officer).get("/", **EN).content.decode()
    assert 'data-testid="bell"' in page
    assert '<span id="bell-count" class="bell-count unread" data-testid="bell-count">2</span>' in page
    login = client.get("/accounts/login/").content.decode()
    assert 'data-testid="bell"' not in login
    assert client.get("/alerts/").status_code == 302  # pages need a login


def test_marking_read_without_javascript_redirects_back(world, browse, province_officer):
    client = browse(province_officer)
    notification = Notification.objects.filter(user=province_officer).first()
    answer = client.post(
        f"/alerts/notifications/{notification.pk}/read/", {"next": "/alerts/notifications/?unread=true"}
    )
    assert answer.status_code == 302 and answer["Location"] == "/alerts/notifications/?unread=true"
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert client.post(f"/alerts/notifications/{notification.pk}/read/", {"next": "https://evil.example/"})[
        "Location"
    ] == ("/alerts/notifications/")
    client.post("/alerts/notifications/read-all/")
    assert not Notification.objects.filter(user=province_officer, read_at__isnull=True).exists()


def test_marking_read_with_htmx_swaps_the_row_and_the_bell(outsider_province_officer, world, browse, province_officer):
    client = browse(province_officer)
    notification = Notification.objects.filter(user=province_officer).first()
    answer = client.post(f"/alerts/notifications/{notification.pk}/read/", HTTP_HX_REQUEST="true", **EN)
    body = answer.content.decode()
    assert answer.status_code == 200
    assert f'id="notification-{notification.pk}" class="notification"' in body  # no longer "unread"
    assert 'hx-swap-oob="true"' in body and ">1</span>" in body
    theirs = Notification.objects.filter(user=outsider_province_officer).first()
    assert client.post(f"/alerts/notifications/{theirs.pk}/read/").status_code == 404
    assert client.get(f"/alerts/notifications/{notification.pk}/read/").status_code == 405


def test_the_notifications_page_lists_ones_own_with_filters(world, browse, province_officer, steering):
    page = browse(province_officer).get("/alerts/notifications/", {"rule": "support_needed"}, **EN).content.decode()
    assert page.count('data-testid="notification"') == 1
    assert "Support requested in the report of" in page
    assert (
        browse(steering).get("/alerts/notifications/", **EN).content.decode().count('data-testid="notification"') == 0
    )


@pytest.mark.parametrize(
    ("persona", "rows"),
    [("steering", 68 + 2 + 1), ("province_officer", 2 + 2 + 1), ("commune_clerk", 1), ("other_agency_officer", 2)],
)
def test_the_alerts_page_shows_the_open_alerts_of_the_scope(world, browse, request, persona, rows):
    response = browse(request.getfixturevalue(persona)).get("/alerts/", {"page": 1}, **EN)
    assert response.status_code == 200
    assert response.context["page"].paginator.count == rows


def test_the_alerts_page_exports_its_list(world, browse, province_officer):
    answer = browse(province_officer).get("/alerts/", {"rule": "blocked", "export": "xlsx"}, **EN)
    rows = xlsx_rows(answer.content)
    assert list(rows[0][:3]) == ["id", "rule", "threshold"]
    assert [r[1] for r in rows[1:]] == ["blocked", "blocked"]
    assert browse(province_officer).get("/alerts/", {"province": "1", "export": "csv"}).status_code == 400


def test_the_blocker_register_and_its_export(world, browse, steering, commune_clerk, other_agency_officer, today):
    page = browse(steering).get("/alerts/blockers/", {"agency": "TANDTC"}, **EN)
    assert page.status_code == 200
    (row,) = page.context["rows"]
    assert (row["task"], row["blocking"].code, row["days"], row["since"]) == (
        "T29",
        "TANDTC",
        8,
        today - datetime.timedelta(days=8),
    )
    assert browse(commune_clerk).get("/alerts/blockers/").context["rows"] == []
    assert len(browse(other_agency_officer).get("/alerts/blockers/").context["rows"]) == 1
    export = browse(steering).get("/alerts/blockers/", {"agency": "TANDTC", "export": "xlsx"})
    rows = xlsx_rows(export.content)
    assert list(rows[0]) == [
        "assignment",
        "task",
        "unit_code",
        "unit_name",
        "province",
        "blocking_agency",
        "blocked_reason",
        "since",
        "days_waiting",
        "blocker_kind",
        "blocker_code",
    ]
    assert rows[1][1] == "T29" and rows[1][5] == "TANDTC" and rows[1][8] == 8
    text = b"".join(browse(steering).get("/alerts/blockers/", {"export": "csv"}).streaming_content).decode("utf-8-sig")
    header, first = list(csv.reader(io.StringIO(text)))[:2]
    assert (header[1], first[1]) == ("task", "T29")
    assert text.splitlines()[1].startswith('"'), "every field is quoted (a ';' cannot start a new cell)"


def test_a_formula_typed_as_a_blocked_reason_is_neutralised_in_the_export(world, browse, steering):
    from tasks.models import Assignment

    Assignment.objects.filter(pk=world["blocked"].pk).update(blocked_reason='=HYPERLINK("http://evil","x")')
    text = b"".join(browse(steering).get("/alerts/blockers/", {"export": "csv"}).streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK" in text


def test_a_province_officer_closes_a_support_request_and_the_clerk_reads_the_resolution(
    world, browse, province_officer, commune_clerk, outsider_province_officer, steering
):
    url = f"/alerts/support/{world['report'].pk}/"
    officer = browse(province_officer)
    assert 'data-testid="close-form"' in officer.get(url, **EN).content.decode()
    empty = officer.post(url, {"resolution": "  "}, **EN)
    assert empty.status_code == 400 and "This field is required." in empty.content.decode()
    assert 'data-testid="close-form"' not in browse(commune_clerk).get(url, **EN).content.decode()
    assert browse(commune_clerk).post(url, {"resolution": "mine"}).status_code == 403
    assert browse(steering).post(url, {"resolution": "x"}).status_code == 403
    assert browse(outsider_province_officer).get(url).status_code == 404

    assert officer.post(url, {"resolution": "The IT centre lent a scanner."}).status_code == 302
    page = browse(commune_clerk).get(url, **EN).content.decode()
    assert "The IT centre lent a scanner." in page and 'data-testid="close-form"' not in page
    listing = browse(commune_clerk).get("/alerts/support/", {"open": "false"}, **EN)
    assert [r.pk for r in listing.context["page"]] == [world["report"].pk]
    assert browse(commune_clerk).get("/alerts/support/", **EN).context["page"].paginator.count == 0  # open ones


def test_missing_reports_by_streak_for_a_province_and_nationally(
    browse, settings, today, province_officer, steering, outsider_province_officer, agency_officer
):
    settings.ALERTS_REPORTS_EXPECTED_FROM = (today - datetime.timedelta(days=5)).isoformat()
    reports_for_all([today - datetime.timedelta(days=n) for n in range(5, 0, -1)], silent=["00004", "00008", "25747"])
    make_report("00008", today - datetime.timedelta(days=2))
    page = browse(province_officer).get("/alerts/missing/", **EN)
    assert [(s.code, s.days) for s in page.context["page"]] == [("00004", 5), ("00008", 1)]
    national = browse(steering).get("/alerts/missing/", **EN)
    assert [(r["province"], r["steps"]) for r in national.context["summary"]] == [("01", [2, 1, 0]), ("79", [1, 1, 0])]
    assert browse(steering).get("/alerts/missing/", {"province": "79"}, **EN).context["total"] == 1
    assert browse(outsider_province_officer).get("/alerts/missing/").context["total"] == 1  # its own province
    assert browse(agency_officer).get("/alerts/missing/", {"province": "01"}).status_code == 404


def test_preferences_switch_off_email_per_rule_and_choose_the_language(browse, province_officer):
    client = browse(province_officer)
    page = client.get("/alerts/preferences/", **EN).content.decode()
    assert "Your account has no e-mail address" in page
    answer = client.post("/alerts/preferences/", {"language": "en", "email_on": ["overdue", "blocked"]})
    assert answer.status_code == 302
    preference = Preference.objects.get(user=province_officer)
    assert (
        preference.language == "en"
        and "support_needed" in preference.email_off
        and "overdue" not in preference.email_off
    )
    assert client.post("/alerts/preferences/", {"language": "fr"}).status_code == 400


def test_the_pages_speak_vietnamese_by_default(world, browse, province_officer):
    page = browse(province_officer, language=None).get("/alerts/blockers/", **EN).content.decode()
    assert '<html lang="vi">' in page


def test_the_navigation_leads_to_the_early_warning(browse, commune_clerk):
    page = browse(commune_clerk).get("/", **EN).content.decode()
    assert 'href="/alerts/"' in page and "Early warning" in page


def test_a_dashboard_kept_whole_for_a_session_shows_the_new_bell(
    run, quiet, today, province_officer, browse, django_capture_on_commit_callbacks
):
    """core.pagecache keeps the dashboards per session; a run that notifies, or marking read, renews them."""
    from tests.tasks.conftest import set_deadline

    client = browse(province_officer)
    for _ in range(3):  # the first answers teach the process that the page is kept; then it is served whole
        page = client.get("/dashboard/").content.decode()
    assert '<span id="bell-count" class="bell-count" data-testid="bell-count">0</span>' in page
    set_deadline("T22", -3)
    with django_capture_on_commit_callbacks(execute=True):
        run(rules=["overdue"])
    page = client.get("/dashboard/").content.decode()
    assert '<span id="bell-count" class="bell-count unread" data-testid="bell-count">1</span>' in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/alerts/notifications/read-all/")
    assert 'data-testid="bell-count">0</span>' in client.get("/dashboard/").content.decode()
