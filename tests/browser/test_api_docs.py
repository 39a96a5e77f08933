"""Swagger UI is served from the installed sidecar under the portal's Content-Security-Policy."""

from tasks.models import Role
from tests.conftest import make_user


def test_swagger_ui_renders_the_schema_for_a_logged_in_user(page, login, screenshot):
    make_user("steering-docs", Role.STEERING)
    login("steering-docs")
    page.goto("/api/docs/")
    page.wait_for_selector("text=/api/v1/reports/daily/")
    screenshot("api-docs")


def test_swagger_ui_says_which_language_the_page_is_in(page, login, browser, live_server):
    make_user("steering-docs-lang", Role.STEERING)
    login("steering-docs-lang")
    page.goto("/api/docs/")
    page.wait_for_selector("text=/api/v1/reports/daily/")
    assert page.get_attribute("html", "lang") == "vi"
    # Under /api/ the language follows the browser's Accept-Language (core.middleware.PortalLocaleMiddleware).
    context = browser.new_context(base_url=live_server.url, locale="en-US", storage_state=page.context.storage_state())
    try:
        english = context.new_page()
        english.goto("/api/docs/")
        english.wait_for_selector("text=/api/v1/reports/daily/")
        assert english.get_attribute("html", "lang") == "en"
    finally:
        context.close()
