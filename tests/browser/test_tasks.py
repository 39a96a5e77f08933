"""Officials update their tasks in Chromium (issue 3): filter, update inline with evidence, see the history;
a colleague's stale save is refused; another agency cannot reach the form; a province officer acts for a
commune; the form works without JavaScript; bulk update from the exported XLSX.

Selectors are data-testid attributes and form field names, not visible text, so the tests hold in Vietnamese
(the browser's language here) and in English."""

import io

import pytest
from django.utils import timezone

from tasks.models import Assignment, Role, StatusUpdate
from tests.browser.conftest import PASSWORD
from tests.conftest import make_user
from tests.tasks.conftest import PDF_BYTES, set_deadline


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Users are created per test and log in once: PBKDF2 would dominate these tests' time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def fill_inline_form(page, pk, *, status, progress, **fields):
    form = f"#edit-{pk} [data-testid=update-form]"
    page.wait_for_selector(form)
    page.select_option(f"{form} select[name=status]", status)
    page.fill(f"{form} input[name=progress]", str(progress))
    for name, value in fields.items():
        page.fill(f"{form} [name={name}]", value)
    return form


def test_agency_officer_filters_completes_with_evidence_and_sees_the_history(
    page, login, screenshot, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    make_user("browser-bca", Role.AGENCY_OFFICER, agency="BCA")
    assignment = Assignment.objects.get(task=set_deadline("T15", 30), agency__code="BCA")
    today = timezone.localdate()
    login("browser-bca")

    page.goto("/tasks/mine/")
    page.select_option("#id_task", "T15")
    page.click("[data-testid=apply-filters]")
    page.wait_for_url("**task=T15**")
    assert page.locator("[data-testid=assignment-row]").count() == 1
    assert page.get_attribute(f"#asg-{assignment.pk} .status", "data-status") == "not_started"
    screenshot("my-tasks-filtered")

    page.click(f"[data-testid=edit-{assignment.pk}]")
    form = fill_inline_form(
        page, assignment.pk, status="completed", progress=100, completed_on=today.isoformat(), note="Roadmap signed"
    )
    page.set_input_files(
        f"{form} input[name=evidence_file]",
        files=[{"name": "roadmap.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}],
    )
    screenshot("update-form-inline")
    page.click(f"{form} [data-testid=save]")
    page.wait_for_selector(f"#edit-{assignment.pk}[class~=saved] [data-testid=saved-message]")
    assert page.get_attribute(f"#asg-{assignment.pk} .status", "data-status") == "completed_on_time"
    assert page.get_attribute(f"#asg-{assignment.pk}", "data-status") == "completed"
    screenshot("my-tasks-saved")

    page.click(f"#asg-{assignment.pk} a[href='/tasks/assignments/{assignment.pk}/']")
    page.wait_for_selector("[data-testid=history-row]")
    assert page.locator("[data-testid=history-row]").count() == 1
    assert page.get_attribute("[data-testid=history-row]", "data-version") == "2"
    assert page.is_visible("[data-testid=history-row] [data-testid=evidence-file]")
    assert "Roadmap signed" in page.text_content("[data-testid=history]")
    screenshot("assignment-history")

    update = StatusUpdate.objects.get(assignment=assignment)
    assert (update.new_status, update.actor.username) == ("completed", "browser-bca")
    assert update.evidence_file.name.endswith("roadmap.pdf")


def test_a_second_officers_stale_save_is_refused(browser, live_server, page, login, screenshot):
    make_user("browser-bca-a", Role.AGENCY_OFFICER, agency="BCA")
    make_user("browser-bca-b", Role.AGENCY_OFFICER, agency="BCA")
    assignment = Assignment.objects.get(task=set_deadline("T15", 30), agency__code="BCA")
    login("browser-bca-a")
    other_context = browser.new_context(
        base_url=live_server.url, locale="vi-VN", viewport={"width": 1280, "height": 900}
    )
    other = other_context.new_page()
    other.set_default_timeout(15_000)
    try:
        other.goto("/accounts/login/")
        other.fill("#id_username", "browser-bca-b")
        other.fill("#id_password", PASSWORD)
        other.click("#login-submit")
        other.wait_for_selector("[data-testid=whoami]")

        # Both open the same assignment's form (version 1).
        for p in (page, other):
            p.goto("/tasks/mine/?task=T15")
            p.click(f"[data-testid=edit-{assignment.pk}]")
        form = fill_inline_form(page, assignment.pk, status="in_progress", progress=50, note="Half the cameras")
        page.click(f"{form} [data-testid=save]")
        page.wait_for_selector("[data-testid=saved-message]")

        form = fill_inline_form(other, assignment.pk, status="in_progress", progress=70)
        other.click(f"{form} [data-testid=save]")
        other.wait_for_selector("[data-testid=stale-message]")
        message = other.text_content("[data-testid=stale-message]")
        assert "0 → 50" in message and "browser-bca-a" in message and "Half the cameras" in message
        assert other.input_value(f"{form} input[name=version]") == "2"
        assert other.input_value(f"{form} input[name=progress]") == "70"
        assert other.get_attribute(f"#asg-{assignment.pk}", "data-status") == "in_progress"  # the row shows theirs
        screenshot("stale-save-first-officer")
        other.screenshot(path=str(screenshot_path("stale-save-refused")), full_page=True)
    finally:
        other_context.close()

    stored = Assignment.objects.get(pk=assignment.pk)
    assert (stored.progress, stored.version, stored.updated_by.username) == (50, 2, "browser-bca-a")
    assert StatusUpdate.objects.filter(assignment=assignment).count() == 1


def test_an_officer_of_another_agency_cannot_reach_the_edit_form(page, login, screenshot):
    make_user("browser-tandtc", Role.AGENCY_OFFICER, agency="TANDTC")
    make_user("browser-vpcp", Role.AGENCY_OFFICER, agency="VPCP")
    t01_bca = Assignment.objects.get(task__code="T01", agency__code="BCA")

    login("browser-tandtc")
    assert page.goto(f"/tasks/assignments/{t01_bca.pk}/update/").status == 404
    assert page.goto(f"/tasks/assignments/{t01_bca.pk}/").status == 404
    page.goto("/tasks/mine/")
    assert page.locator(f"[data-testid=edit-{t01_bca.pk}]").count() == 0

    page.context.clear_cookies()
    login("browser-vpcp")  # coordinates T01: sees BCA's part, may not change it
    assert page.goto(f"/tasks/assignments/{t01_bca.pk}/update/").status == 403
    page.goto("/tasks/T01/")
    assert page.locator(f"#asg-{t01_bca.pk}").count() == 1
    assert page.locator(f"[data-testid=edit-{t01_bca.pk}]").count() == 0
    screenshot("task-page-coordinating-agency")
    assert not StatusUpdate.objects.exists()


def test_province_officer_updates_a_commune_on_its_behalf_and_the_nation_sees_the_share(page, login, screenshot):
    make_user("browser-hanoi", Role.PROVINCE_OFFICER, province="01")
    make_user("browser-steering", Role.STEERING)
    badinh = Assignment.objects.get(task=set_deadline("T30", 30), commune_id="00004")

    login("browser-hanoi")
    page.goto("/tasks/communes/?task=T30")
    assert page.locator("[data-testid=summary-row]").count() == 7
    page.click(f"[data-testid=edit-{badinh.pk}]")
    form = fill_inline_form(
        page, badinh.pk, status="completed", progress=100, completed_on=timezone.localdate().isoformat()
    )
    page.click(f"{form} [data-testid=save]")
    page.wait_for_selector("[data-testid=saved-message]")
    assert page.get_attribute(f"#asg-{badinh.pk} .status", "data-status") == "completed_on_time"
    assert page.is_visible(f"#asg-{badinh.pk} .tag")  # "on the commune's behalf"
    screenshot("my-communes")
    assert StatusUpdate.objects.get(assignment=badinh).on_behalf

    page.context.clear_cookies()
    login("browser-steering")
    page.goto("/tasks/T30/")
    assert page.locator("[data-testid=province-share]").count() == 34
    assert "1" in page.text_content("[data-testid=province-share][data-province='01'] td:nth-child(3)")
    assert page.locator("[data-testid=assignment-row]").count() == 50  # not-done communes, paginated
    screenshot("task-commune-level")
    page.click("[data-testid=province-share][data-province='01'] a")
    page.wait_for_url("**province=01**")
    assert page.locator("[data-testid=assignment-row]").count() == 50
    screenshot("task-commune-level-ha-noi")
    page.goto("/tasks/")
    screenshot("task-list")


def test_the_update_form_works_without_javascript(browser, live_server, reference_data):
    make_user("browser-clerk", Role.COMMUNE_CLERK, commune="00004")
    badinh = Assignment.objects.get(task=set_deadline("T30", 30), commune_id="00004")
    context = browser.new_context(
        base_url=live_server.url, locale="vi-VN", java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto("/accounts/login/")
        page.fill("#id_username", "browser-clerk")
        page.fill("#id_password", PASSWORD)
        page.click("#login-submit")
        page.goto("/tasks/mine/")
        page.click(f"[data-testid=edit-{badinh.pk}]")  # no JavaScript: the link opens the form page
        page.wait_for_url(f"**/tasks/assignments/{badinh.pk}/update/**")
        page.select_option("select[name=status]", "in_progress")
        page.fill("input[name=progress]", "60")
        page.fill("input[name=evidence_url]", "https://badinh.hanoi.gov.vn/mot-cua")
        page.screenshot(path=str(screenshot_path("update-page-no-js")), full_page=True)
        page.click("[data-testid=save]")
        page.wait_for_url("**/tasks/mine/**")
        assert page.get_attribute(f"#asg-{badinh.pk}", "data-status") == "in_progress"
    finally:
        context.close()
    update = StatusUpdate.objects.get(assignment=badinh)
    assert (update.new_progress, update.evidence_url) == (60, "https://badinh.hanoi.gov.vn/mot-cua")


def test_bulk_update_from_the_exported_spreadsheet(page, login, screenshot):
    from openpyxl import load_workbook

    make_user("browser-bca-bulk", Role.AGENCY_OFFICER, agency="BCA")
    assignment = Assignment.objects.get(task=set_deadline("T15", 30), agency__code="BCA")
    login("browser-bca-bulk")
    page.goto("/tasks/mine/")
    with page.expect_download() as download:
        page.click("[data-testid=export-xlsx]")
    workbook = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    sheet = workbook.worksheets[0]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == assignment.pk)
    row[header.index("status")].value = "in_progress"
    row[header.index("progress")].value = 25
    out = io.BytesIO()
    workbook.save(out)

    page.goto("/tasks/assignments/bulk/")
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "mine.xlsx", "mimeType": "application/octet-stream", "buffer": out.getvalue()}],
    )
    page.click("[data-testid=bulk-upload] button[type=submit]")
    page.wait_for_selector("[data-testid=bulk-rows]")
    assert page.locator("[data-testid=bulk-row][data-outcome=change]").count() == 1
    screenshot("bulk-update-dry-run")
    page.click("[data-testid=bulk-apply] button[type=submit]")
    page.wait_for_url("**/tasks/mine/")
    assert page.get_attribute(f"#asg-{assignment.pk}", "data-status") == "in_progress"
    assert Assignment.objects.get(pk=assignment.pk).progress == 25


def screenshot_path(name):
    """Where the `screenshot` fixture keeps its files, for pages of a second browser context."""
    from tests.browser.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


def test_cancel_closes_the_inline_form_without_inline_script(page, login):
    make_user("browser-bca-cancel", Role.AGENCY_OFFICER, agency="BCA")
    assignment = Assignment.objects.get(task=set_deadline("T15", 30), agency__code="BCA")
    login("browser-bca-cancel")
    page.goto("/tasks/mine/?task=T15")
    page.click(f"[data-testid=edit-{assignment.pk}]")
    form = f"#edit-{assignment.pk} [data-testid=update-form]"
    page.wait_for_selector(form)
    page.click(f"{form} [data-action=dismiss-row]")
    page.wait_for_selector(form, state="detached")
    assert not StatusUpdate.objects.filter(assignment=assignment).exists()
