"""The audit trail in Chromium: an admin changes a role in the admin, and an inspector finds it, filtered,
in the trail (no script needed, no Content-Security-Policy violation)."""

from tasks.models import Membership, Role
from tests.conftest import make_user


def test_an_inspector_finds_a_role_change_made_in_the_admin(page, login, screenshot):
    admin = make_user("audit-admin", Role.ADMIN)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    make_user("audit-inspector", Role.INSPECTOR)
    clerk = make_user("audit-clerk", Role.COMMUNE_CLERK, commune="00004")

    login("audit-admin")
    page.goto(f"/admin/tasks/membership/{Membership.objects.get(user=clerk).pk}/change/")
    page.select_option("#id_role", Role.STEERING)
    page.fill("#id_commune", "")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    page.context.clear_cookies()

    login("audit-inspector")
    page.click("nav.site-nav >> a[href='/audit/']")
    page.select_option("#id_kind", "record_change")
    page.fill("#id_actor", "audit-admin")
    page.click("form.filters button[type=submit]")
    row = page.locator("[data-testid=audit-trail] tbody tr").first
    row.wait_for()
    text = row.inner_text()
    assert "audit-admin" in text and "audit-clerk" in text
    screenshot("audit-trail")
