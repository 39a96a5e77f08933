"""Browser tests: Debian's Chromium driven by Playwright for Python against pytest-django's live server.

Chromium comes from `apt-get install -y chromium`; Playwright's own browser download is not used. Without
/usr/bin/chromium the tests are skipped, unless PLAN02_REQUIRE_BROWSER=1 (CI), where that is a failure.
Screenshots are saved under test-output/screenshots/.

Every page of every context is watched: a Content-Security-Policy violation reported in the console (or as
a page error) fails the test that caused it.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(settings.BASE_DIR) / "test-output" / "screenshots"
PASSWORD = "pw-" + "x" * 12  # tests.conftest.make_user's default

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test itself (to set
# up data) are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# What Chromium reported about the Content-Security-Policy during the current test.
CSP_VIOLATIONS = []


def _record_csp(text):
    if "Content Security Policy" in text or "Content-Security-Policy" in text:
        CSP_VIOLATIONS.append(text)


def watch_csp(page):
    page.on("console", lambda message: _record_csp(message.text))
    page.on("pageerror", lambda error: _record_csp(str(error)))


@pytest.fixture(autouse=True)
def _no_csp_violations():
    CSP_VIOLATIONS.clear()
    yield
    violations, CSP_VIOLATIONS[:] = list(CSP_VIOLATIONS), []
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("PLAN02_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        new_context = browser.new_context

        def watched_context(*args, **kwargs):
            context = new_context(*args, **kwargs)
            context.on("page", watch_csp)
            return context

        browser.new_context = watched_context  # every context a test opens, not only the `page` fixture's
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, reference_data):
    context = browser.new_context(base_url=live_server.url, locale="vi-VN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def login(page):
    def do_login(username, password=PASSWORD):
        page.goto("/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("#login-submit")
        page.wait_for_selector("[data-testid=whoami]")
        return page

    return do_login


@pytest.fixture
def screenshot(page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(name):
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot
