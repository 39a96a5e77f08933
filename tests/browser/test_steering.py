"""The steering pack in Chromium: a meeting's page prints as a clean A4 page, the pack compares with an
earlier one, the phase dashboard moves through days, and the charts say what they show."""

import datetime
import re

from django.utils import timezone

from dashboards.meetings import meeting_create
from reports.figures import RATE_NAMES
from tasks.models import Role
from tasks.scoping import scope_for_user
from tests.browser.test_dashboards import seed_days
from tests.conftest import make_user

A4_POINTS = (595.28, 841.89)


def _media_boxes(pdf: bytes):
    return [(float(w), float(h)) for w, h in re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)]


def test_a_meeting_prints_on_a4_without_navigation_and_compares_with_an_earlier_one(page, login, screenshot):
    end = seed_days(3)
    steering = make_user("steering-pack", Role.STEERING)
    scope = scope_for_user(steering)
    earlier = meeting_create(
        scope=scope, actor=steering, title="Phiên trước", date=(end - datetime.timedelta(days=1)).isoformat()
    )
    meeting = meeting_create(scope=scope, actor=steering, title="Phiên họp tháng", date=end.isoformat())
    login("steering-pack")

    page.goto("/dashboard/meetings/")
    page.click(f"text={meeting.title}")
    page.wait_for_selector("[data-testid=meeting-title]")
    assert page.locator("[data-testid=meeting-ranking] tbody tr").count() == 34
    screenshot("meeting")

    page.emulate_media(media="print")
    for selector in (".site-header", ".site-nav", "ul.subnav", ".dash-tools", ".site-footer"):
        assert page.locator(selector).first.is_hidden(), selector
    assert page.locator("[data-testid=meeting-phases]").is_visible()
    pdf = page.pdf(prefer_css_page_size=True)
    boxes = _media_boxes(pdf)
    assert boxes, "no page in the PDF"
    for width, height in boxes:  # every page A4 portrait, within a point of rounding
        assert abs(width - A4_POINTS[0]) < 1.5 and abs(height - A4_POINTS[1]) < 1.5, (width, height)
    page.emulate_media(media="screen")

    page.select_option("#id_since", str(earlier.pk))
    page.click("form[action$='/changes/'] button")
    page.wait_for_selector("[data-testid=changes-provinces]")
    assert f"since={earlier.pk}" in page.url
    screenshot("meeting-changes")


def test_the_phase_dashboard_moves_through_days_and_the_charts_say_what_they_show(page, login):
    seed_days(3)
    make_user("steering-days", Role.STEERING)
    login("steering-days")
    day = timezone.localdate() - datetime.timedelta(days=40)
    page.goto(f"/dashboard/phases/?date={day.isoformat()}")
    page.wait_for_selector("[data-testid=phase-detail-urgent]")
    assert day.strftime("%d/%m/%Y") in page.text_content("h1")
    assert page.locator("[data-testid=agencies-urgent] tbody tr").count() > 0
    page.goto("/dashboard/")
    captions = page.locator("[data-testid=chart] .chart-title").all_text_contents()
    # One chart for the form's first total, one per rate, and the reports' completeness (dashboards.charts).
    charts = 1 + len(RATE_NAMES) + 1
    assert len(captions) == charts == 5 and len(set(captions)) == charts
    assert page.locator("[data-testid=chart] .legend-item").count() >= charts + 1  # one per chart, the target line
    page.goto("/dashboard/targets/")
    assert page.locator("[data-testid=targets] tbody tr").count() == 9


def test_a_reader_whose_browser_prefers_english_gets_the_vietnamese_portal_until_choosing_english(
    browser, live_server, reference_data
):
    make_user("clerk-en", Role.COMMUNE_CLERK, commune="00004")
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", extra_http_headers={"Accept-Language": "en-US,en;q=0.9"}
    )
    page = context.new_page()
    page.goto("/accounts/login/")
    assert page.get_attribute("html", "lang") == "vi"
    page.click("form.lang-switch button[value=en]")
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "en"
    context.close()
