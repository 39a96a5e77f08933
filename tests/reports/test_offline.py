"""The report form offline, server side (DESIGN.md §12): the service worker's script, its scope and versioned
cache, and the form page's hooks. The behaviour in a browser is tests/browser/test_offline.py."""

import json
import re

import pytest
from django.templatetags.static import static

from reports import offline

pytestmark = pytest.mark.django_db


def worker_config(body):
    match = re.search(r"var CONFIG = /\*PLAN02_CONFIG\*/ (\{.*?\});", body)
    assert match, body[:400]
    return json.loads(match.group(1))


def test_the_worker_is_served_at_the_forms_address_for_everyone(client):
    # Open without a session: a browser checking for a new version after logging out gets the script, not
    # a redirect (the worker then keeps working for the next person, who has their own form).
    response = client.get("/reports/submit/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    assert "Service-Worker-Allowed" not in response  # its folder, /reports/submit/, is the scope it needs
    config = worker_config(response.content.decode())
    assert config["page"] == "/reports/submit/"
    assert config["api"] == "/api/v1/reports/daily/"
    assert config["cache"] == "plan02-report-form-" + config["version"]
    assert re.fullmatch(r"[0-9a-f]{12}", config["version"])
    # The static files the form's page loads, as the page writes their addresses.
    assert config["assets"] == [static(path) for path in offline.ASSETS]
    assert static("js/report-queue.js") in config["assets"] and config["queue"] == static("js/report-queue.js")
    # GET only; the worker itself never answers anything but GET requests.
    assert client.post("/reports/submit/sw.js").status_code == 405
    assert 'request.method !== "GET"' in response.content.decode()


def test_the_cache_version_follows_the_files_it_caches(monkeypatch):
    before = offline.cache_version()
    original = offline._source

    def changed(path):
        return original(path) + (b"/* changed */" if path == "css/plan02.css" else b"")

    offline.cache_version.cache_clear()
    monkeypatch.setattr(offline, "_source", changed)
    try:
        assert offline.cache_version() != before
    finally:
        offline.cache_version.cache_clear()
    monkeypatch.setattr(offline, "_source", original)
    assert offline.cache_version() == before


def test_the_form_page_carries_the_offline_queue(client, commune_clerk):
    client.force_login(commune_clerk)
    body = client.get("/reports/submit/").content.decode()
    assert f'data-offline-user="{commune_clerk.get_username()}"' in body
    assert 'data-offline-worker="/reports/submit/sw.js"' in body
    assert 'data-offline-scope="/reports/submit/"' in body
    assert 'data-csrf-cookie="csrftoken"' in body
    assert static("js/report-offline.js") in body and static("js/report-queue.js") in body
    assert 'data-testid="offline-queue"' in body


def test_the_correction_form_has_no_offline_queue(client, commune_clerk):
    from reports import services
    from tests.reports.helpers import payload

    services.daily_report_submit(payload=payload(), user=commune_clerk)
    client.force_login(commune_clerk)
    report = payload()
    body = client.get(f"/reports/00004/{report['date']}/correct/").content.decode()
    assert "data-offline-user" not in body and "report-offline.js" not in body


def test_an_unchanged_worker_costs_a_304(client):
    first = client.get("/reports/submit/sw.js")
    assert first["ETag"] == f'"{offline.cache_version()}"'
    again = client.get("/reports/submit/sw.js", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""


def test_pages_travel_compressed(client, commune_clerk):
    """The form's HTML is most of a repeat visit on a weak connection (bench/weak.py): gzip when asked."""
    client.force_login(commune_clerk)
    plain = client.get("/reports/submit/")
    packed = client.get("/reports/submit/", HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert len(packed.content) * 3 < len(plain.content)


def test_the_api_is_not_compressed(api_for, commune_clerk):
    """Compression is for the pages (core.middleware.PageGZipMiddleware): the API answers both of its paths
    (reports.fastpath and the full stack) with the same bytes and headers."""
    response = api_for(user=commune_clerk).get("/api/v1/reports/daily/", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert "Content-Encoding" not in response and "Accept-Encoding" not in response.get("Vary", "")
