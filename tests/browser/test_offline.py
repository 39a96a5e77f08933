"""The daily-report form offline in Chromium (DESIGN.md §12, issue 18 items 6 and 9): after one visit the form
opens with no connection; reports made offline wait in the browser and each arrives exactly once when the
connection returns; a conflicting one shows its diff, a refused one its field errors. No sleeps: every wait
is for a DOM state (the queue's items carry data-state)."""

import pytest
from playwright.sync_api import expect

from reports.models import DailyReport, ReportRevision
from reports.services import daily_report_submit
from tasks.models import Role
from tests.conftest import make_user
from tests.reports.helpers import BASE_FIGURES, days_ago, payload


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def fill_report(page, day, **overrides):
    figures = {**BASE_FIGURES, **overrides}
    page.fill("#id_date", day.isoformat())
    for name, value in figures.items():
        page.fill(f"#id_{name}", str(value))
    page.fill("#id_difficulties", "Mất điện buổi sáng")
    page.click("form[data-offline-user] button[type=submit]")
    expect(page.locator(f"[data-testid=queue-item]:has-text('{day.isoformat()}')")).to_have_count(1)


def items(page, state=None):
    selector = "[data-testid=queue-item]" + (f"[data-state={state}]" if state else "")
    return page.locator(selector)


def test_reports_made_offline_arrive_once_when_the_connection_returns(page, login, screenshot):
    clerk = make_user("offline-badinh", Role.COMMUNE_CLERK, commune="00004")
    # Another version of the third day is already stored (sent earlier from another channel).
    conflicting_day = days_ago(3)
    daily_report_submit(payload=payload("00004", conflicting_day), user=clerk)

    login("offline-badinh")
    page.goto("/reports/submit/")
    # The worker is installed and has kept the page (it answers the page's message).
    expect(page.locator("form[data-offline-ready]")).to_have_attribute("data-offline-ready", "cached")

    # What the worker keeps: the form's page and its static files, nothing else (no POST, no other page).
    page.goto("/tasks/mine/")
    page.goto("/reports/submit/")
    expect(page.locator("form[data-offline-ready]")).to_have_attribute("data-offline-ready", "cached")
    kept = page.evaluate(
        """caches.keys().then(names => Promise.all(names.map(name => caches.open(name).then(cache => cache.keys()))))
           .then(lists => lists.flat().map(request => new URL(request.url).pathname))"""
    )
    assert "/reports/submit/" in kept and all(p == "/reports/submit/" or p.startswith("/static/") for p in kept)
    assert len(kept) == 6, kept  # the page and offline.ASSETS

    page.context.set_offline(True)
    fill_report(page, days_ago(1))
    expect(page.locator("[data-testid=offline-status]")).to_be_visible()

    # Reloaded with no connection, the form opens (from the service worker's cache, not the server: the name
    # changed meanwhile is not on it) and still shows the queue.
    clerk.first_name, clerk.last_name = "Tên", "Mới"
    clerk.save()
    response = page.reload()
    assert response is not None and response.from_service_worker
    expect(page.locator("[data-testid=whoami]")).not_to_contain_text("Tên Mới")
    expect(items(page, "waiting")).to_have_count(1)
    fill_report(page, days_ago(2))
    fill_report(page, conflicting_day, received_direct=BASE_FIGURES["received_direct"] + 5)
    fill_report(page, days_ago(4), received_fully_online=BASE_FIGURES["received_online"] + 1)
    expect(items(page, "waiting")).to_have_count(4)
    screenshot("offline-queue-waiting")
    assert DailyReport.objects.filter(locality="00004").count() == 1  # only the one stored beforehand

    page.context.set_offline(False)  # the page's "online" listener sends the queue
    expect(items(page, "sent")).to_have_count(2)
    expect(items(page, "conflict")).to_have_count(1)
    expect(items(page, "refused")).to_have_count(1)
    screenshot("offline-queue-settled")

    for day in (days_ago(1), days_ago(2)):
        report = DailyReport.objects.get(locality="00004", date=day)
        assert ReportRevision.objects.filter(report=report).count() == 1
        receipt = page.locator(f"[data-testid=queue-item][data-state=sent]:has-text('{day.isoformat()}')")
        expect(receipt.locator("[data-testid=queue-receipt]")).to_have_text(report.receipt)
    stored = DailyReport.objects.get(locality="00004", date=conflicting_day)
    assert stored.received_direct == BASE_FIGURES["received_direct"]  # the conflict changed nothing
    diff = page.locator("[data-testid=queue-item][data-state=conflict] [data-testid=queue-diff]")
    expect(diff.locator("tr[data-field=received_direct] td").nth(1)).to_have_text(str(BASE_FIGURES["received_direct"]))
    expect(diff.locator("tr[data-field=received_direct] td").nth(2)).to_have_text(
        str(BASE_FIGURES["received_direct"] + 5)
    )
    errors = page.locator("[data-testid=queue-item][data-state=refused] [data-testid=queue-errors]")
    expect(errors.locator("li[data-field=received_fully_online]")).to_contain_text("received_fully_online")
    assert not DailyReport.objects.filter(locality="00004", date=days_ago(4)).exists()

    # The refused one goes back into the form, is corrected, queued offline again and sent once back online
    # (the "online" event and "Send now" both flush; the item is claimed once, so it is posted once).
    page.click("[data-testid=queue-item][data-state=refused] [data-queue-action=edit]")
    expect(items(page, "refused")).to_have_count(0)
    expect(page.locator("#id_date")).to_have_value(days_ago(4).isoformat())
    expect(page.locator("#id_received_fully_online")).to_have_value(str(BASE_FIGURES["received_online"] + 1))
    page.context.set_offline(True)
    page.fill("#id_received_fully_online", str(BASE_FIGURES["received_fully_online"]))
    page.click("form[data-offline-user] button[type=submit]")
    expect(items(page, "waiting")).to_have_count(1)
    page.context.set_offline(False)
    page.click("[data-testid=queue-send]")
    expect(items(page, "sent")).to_have_count(3)
    assert DailyReport.objects.get(locality="00004", date=days_ago(4)).received_fully_online == 98

    # Reloading online sends nothing again: the settled items stay settled, the database unchanged.
    page.reload()
    expect(items(page, "sent")).to_have_count(3)
    expect(page.locator("[data-testid=offline-queue]")).to_have_attribute("data-last-flush", "done")
    assert DailyReport.objects.filter(locality="00004").count() == 4
    assert ReportRevision.objects.filter(report__locality="00004").count() == 4


def test_logging_out_deletes_the_kept_form(page, login):
    make_user("offline-ngocha", Role.COMMUNE_CLERK, commune="00008")
    login("offline-ngocha")
    page.goto("/reports/submit/")
    expect(page.locator("form[data-offline-ready]")).to_have_attribute("data-offline-ready", "cached")
    kept = page.evaluate("caches.keys().then(names => names.filter(n => n.startsWith('plan02-report-form-')))")
    assert len(kept) == 1

    page.click("form.inline button[type=submit]")  # log out: the login page follows
    page.wait_for_selector("#id_username")
    page.wait_for_function(
        "caches.keys().then(names => !names.some(n => n.startsWith('plan02-report-form-')))", polling=100
    )

    # Without a connection, the form no longer opens: nobody else gets this clerk's form from the browser.
    page.context.set_offline(True)
    with pytest.raises(Exception, match=r"ERR_(INTERNET_DISCONNECTED|FAILED)"):
        page.goto("/reports/submit/")
