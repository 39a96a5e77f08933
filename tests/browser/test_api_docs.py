"""Swagger UI is served from the installed sidecar under the portal's Content-Security-Policy."""

from tasks.models import Role
from tests.conftest import make_user


def test_swagger_ui_renders_the_schema_for_a_logged_in_user(page, login, screenshot):
    make_user("steering-docs", Role.STEERING)
    login("steering-docs")
    page.goto("/api/docs/")
    page.wait_for_selector("text=/api/v1/reports/daily/")
    screenshot("api-docs")
