"""The operations desk in Chromium (issue 18): the live board updates itself when an incident is reported in
another browser; the desk acknowledges it from the incident page. Selectors are data-testid attributes."""

import pytest
from playwright.sync_api import expect

from tasks.models import Role
from tests.conftest import make_user


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_board_updates_when_an_incident_is_reported_elsewhere(
    page, login, browser, live_server, screenshot, settings
):
    settings.OPERATIONS_BOARD_POLL_SECONDS = 1
    make_user("browser-support", Role.SUPPORT)
    make_user("browser-badinh", Role.COMMUNE_CLERK, commune="00004")
    make_user("browser-hanoi", Role.PROVINCE_OFFICER, province="01")
    login("browser-support")
    page.goto("/operations/")
    blocking = page.locator("[data-testid=board-figures] [data-severity=blocking]")
    expect(blocking).to_have_text("0")

    # The clerk, in another browser, reports from the link in the navigation.
    other = browser.new_context(base_url=live_server.url, locale="vi-VN")
    clerk = other.new_page()
    clerk.goto("/accounts/login/")
    clerk.fill("#id_username", "browser-badinh")
    clerk.fill("#id_password", "pw-" + "x" * 12)
    clerk.click("#login-submit")
    clerk.click("nav >> a[href='/operations/incidents/new/']")
    clerk.select_option("#id_category", "power")
    clerk.select_option("#id_severity", "blocking")
    clerk.fill("#id_description", "Mất điện toàn phường")
    clerk.click("[data-testid=incident-form] button[type=submit]")
    expect(clerk.locator("[data-testid=incident-state]")).to_contain_text("đang mở")
    other.close()

    expect(blocking).to_have_text("1")  # no reload: the panel polled
    assert page.locator("[data-testid=board-incidents] tbody tr").count() == 1
    screenshot("operations-board")

    # The province's desk acknowledges it from the incident page.
    login("browser-hanoi")
    page.goto("/operations/incidents/")
    page.click("[data-testid=incident-link]")
    page.click("[data-testid=action-acknowledge]")
    expect(page.locator("[data-testid=incident-state]")).to_contain_text("đã tiếp nhận")
