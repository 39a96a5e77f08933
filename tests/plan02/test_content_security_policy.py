"""The portal's pages pass a strict Content-Security-Policy: no inline script anywhere (the browser tests
also fail on any violation Chromium reports)."""

import re

import pytest
from django.conf import settings

TEMPLATES = settings.BASE_DIR / "templates"
# An inline handler (onclick=…), a javascript: URL, a <script> without src, a <style> element.
INLINE_CODE = re.compile(r"""\son[a-z]+\s*=|javascript:|<script(?![^>]*\bsrc=)[^>]*>|<style\b""", re.IGNORECASE)


def _directives(header):
    return {name: values.split() for name, _, values in (part.strip().partition(" ") for part in header.split(";"))}


@pytest.mark.django_db
def test_pages_send_a_policy_without_inline_script(client, steering):
    client.force_login(steering)
    for url in ("/", "/tasks/assignments/", "/accounts/login/", "/api/docs/"):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = _directives(response["Content-Security-Policy"])
        assert policy["default-src"] == ["'self'"], url
        assert policy["script-src"] == ["'self'"], url
        assert policy["style-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"], url


def test_no_template_carries_inline_script_or_style():
    found = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0).strip()}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for match in INLINE_CODE.finditer(path.read_text())
    ]
    assert found == []


@pytest.mark.django_db
def test_htmx_is_told_not_to_inject_its_indicator_styles(client, agency_officer):
    client.force_login(agency_officer)
    for url in ("/", "/tasks/mine/"):  # the base page and one with its own htmx configuration
        html = client.get(url).text
        configs = re.findall(r"""<meta name="htmx-config" content='([^']*)'>""", html)
        assert configs, url
        assert '"includeIndicatorStyles":false' in configs[0], url
