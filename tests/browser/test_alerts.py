"""Early warning in Chromium (issue 10): the bell counts unread notifications and marking one read lowers it
(HTMX swaps the row and the bell); the blocker register filters by blocking agency; a province officer closes
a support request and the commune's clerk reads the resolution.

Selectors are data-testid attributes and form field names, so the tests hold in Vietnamese and English."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alerts.services.runs import alerts_run
from tasks.models import Role, Task
from tests.alerts.conftest import assignment, history
from tests.conftest import make_user
from tests.reports.factories import make_report


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def early_warning(page):
    """Hà Nội's T22 overdue, its T29 blocked by TANDTC for 9 days, a support request of Ba Đình; one run."""
    today = timezone.localdate()
    officer = make_user("browser-hanoi", Role.PROVINCE_OFFICER, province="01")
    clerk = make_user("browser-badinh", Role.COMMUNE_CLERK, commune="00004")
    make_user("browser-tandtc", Role.AGENCY_OFFICER, agency="TANDTC")
    Task.objects.update(deadline=today + datetime.timedelta(days=200))
    Task.objects.filter(code="T22").update(deadline=today - datetime.timedelta(days=3))
    now = timezone.now()
    history(assignment("T29", province="01"), officer, [(now - datetime.timedelta(days=9), "blocked", 10, "TANDTC")])
    report = make_report("00004", today - datetime.timedelta(days=1), support_needed=True)
    alerts_run(rules=["overdue", "blocked", "support_needed"], trigger="browser tests")
    return {"officer": officer, "clerk": clerk, "report": report}


def test_the_bell_counts_unread_notifications_and_marking_one_read_lowers_it(page, login, screenshot, early_warning):
    login("browser-hanoi")
    assert page.text_content("[data-testid=bell-count]").strip() == "2"  # overdue T22, Ba Đình's request
    page.click("[data-testid=bell]")
    page.wait_for_url("**/alerts/notifications/")
    assert page.locator("[data-testid=notification]").count() == 2
    screenshot("alerts-notifications")
    page.locator("[data-testid=mark-read]").first.click()
    expect(page.locator("[data-testid=bell-count]")).to_have_text("1")  # no eval: the CSP forbids it
    assert page.locator("[data-testid=mark-read]").count() == 1  # the row was swapped in place, no reload
    page.click("[data-testid=mark-all-read]")
    expect(page.locator("[data-testid=bell-count]")).to_have_text("0")


def test_the_blocker_register_filters_by_blocking_agency(page, login, screenshot, early_warning):
    login("browser-tandtc")  # TANDTC does not lead T29: it sees it because it blocks it
    page.goto("/alerts/blockers/")
    rows = page.locator("[data-testid=blocker-register] tbody tr")
    assert rows.count() == 1
    assert page.text_content("[data-testid=days-waiting]").strip() == "9"
    page.select_option("#id_agency", "BTC")
    page.click("[data-testid=apply-filters]")
    page.wait_for_url("**agency=BTC**")
    assert page.locator("[data-testid=days-waiting]").count() == 0
    screenshot("alerts-blocker-register")


def test_a_province_officer_closes_a_support_request_and_the_clerk_reads_it(
    page, login, screenshot, early_warning, browser, live_server
):
    report = early_warning["report"]
    login("browser-hanoi")
    page.goto("/alerts/support/")
    page.click("[data-testid=support-link]")
    page.wait_for_selector("[data-testid=close-form]")
    page.click("[data-testid=close-submit]")  # empty: the browser's own check stops it
    assert page.locator("[data-testid=close-form]").count() == 1
    page.fill("textarea[name=resolution]", "Trung tâm CNTT tỉnh đã cho mượn máy quét.")
    page.click("[data-testid=close-submit]")
    page.wait_for_selector("[data-testid=resolution]")
    screenshot("alerts-support-closed")

    clerk = browser.new_context(base_url=live_server.url, locale="vi-VN").new_page()
    clerk.goto("/accounts/login/")
    clerk.fill("#id_username", "browser-badinh")
    clerk.fill("#id_password", "pw-" + "x" * 12)
    clerk.click("#login-submit")
    clerk.wait_for_selector("[data-testid=whoami]")
    clerk.goto(f"/alerts/support/{report.pk}/")
    assert clerk.text_content("[data-testid=resolution]").strip() == "Trung tâm CNTT tỉnh đã cho mượn máy quét."
    assert clerk.locator("[data-testid=close-form]").count() == 0
    clerk.context.close()
