"""The permission matrix of DESIGN.md §10: every role × every page, API endpoint, export and dashboard × its
own unit versus another unit, as one table (ROWS) that drives the test and is shown in the README
("Security", "Permission matrix"); test_readme_shows_this_table keeps the two the same.

Regenerate the README's table after editing ROWS: `.venv/bin/python -m tests.test_permission_matrix --write`
(without `--write` it prints the table).

Columns are the roles; a row is one request. Its *target* says what the request points at:
- `own`: the caller's unit — BCA for the agency officer, Hà Nội (01) for the province officer and the
  province's key, Phường Ba Đình (00004) for the clerk and the commune's key; for the roles without a unit
  (anonymous, national admin, steering, inspector) the objects of Ba Đình / Hà Nội / BCA;
- `other`: another unit — TANDTC for BCA, Hồ Chí Minh City (79) for Hà Nội, the neighbour Phường Ngọc Hà
  (00008, also in Hà Nội) for Ba Đình;
- `own + other`: one request carrying both (a batch, an upload, a bulk update);
- `—`: nothing of a unit's (a national page, reference data).

Cells: the status code, then for some rows what the answer shows of the targeted unit:
- `200∅`: answered, and nothing of the other unit is in it (the list, export or section is empty); on the
  same row a plain `200` means the caller legitimately sees it (the list is not empty);
- `200✓✗`: own item accepted, the other unit's refused (`✓✓` both accepted, `✗✗` both refused);
- `302` for anonymous callers and keys is the redirect to the login page (pages need a session; a key opens
  no page); for a session it is the redirect after a successful form, or /tasks/mine/ sending a read-only role
  to the full list — the test checks which;
- `—`: not applicable (the fast path of the single report POST serves API keys only; sessions reach the
  full stack, the row above it).
"""

import csv
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROLES = (
    "anonymous",
    "admin",
    "steering",
    "inspector",
    "support",
    "agency",
    "province",
    "commune",
    "commune_key",
    "province_key",
)
HEADINGS = {
    "anonymous": "anonymous",
    "admin": "national admin",
    "steering": "steering",
    "inspector": "inspector",
    "support": "central support team",
    "agency": "agency officer (BCA)",
    "province": "province officer (01)",
    "commune": "commune clerk (00004)",
    "commune_key": "key of 00004",
    "province_key": "key of 01",
}
SESSION_ROLES = ("admin", "steering", "inspector", "support", "agency", "province", "commune")
KEY_ROLES = ("commune_key", "province_key")
# Whose objects "own" and "other" mean: the unit kind of each role (the roles without a unit take the commune's).
UNIT_KIND = {
    "anonymous": "none",
    "admin": "none",
    "steering": "none",
    "inspector": "none",
    "support": "none",
    "agency": "agency",
    "province": "province",
    "commune": "commune",
    "commune_key": "commune",
    "province_key": "province",
}
README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- permission-matrix:start -->", "<!-- permission-matrix:end -->"

# Routes without a row, each with the reason.
EXEMPT = {
    "login": "the login page: open to everyone by design",
    "logout": "ends one's own session; nothing of a unit's",
    "password_change": "one's own password (django.contrib.auth)",
    "password_change_done": "one's own password (django.contrib.auth)",
    "password_reset": "password reset by e-mail, open by design (django.contrib.auth)",
    "password_reset_done": "password reset by e-mail (django.contrib.auth)",
    "password_reset_confirm": "password reset link, signed for one user (django.contrib.auth)",
    "password_reset_complete": "password reset by e-mail (django.contrib.auth)",
    "set_language": "the VI/EN switch: sets a cookie, open to everyone",
    "sso_login": "single sign-on: the login itself, open to everyone by design (404 until configured)",
    "sso_callback": "single sign-on: the provider's answer, open to everyone by design (404 until configured)",
    "sso_refused": "single sign-on: the refusal page, open to everyone by design",
}
EXEMPT_NAMESPACES = {"admin": "Django's admin: staff only, its own permission system"}


@dataclass(frozen=True)
class Row:
    route: str  # URL name, namespaced ("tasks:assignment")
    request: str  # "METHOD /path/with/{placeholders}/?query"
    target: str  # own | other | own + other | —
    cells: str  # one cell per role, in ROLES order
    data: str | None = None  # name of a body builder (BODIES)
    probe: str | None = None  # name of what the answer shows of the target (PROBES)
    fast: bool = False  # through the WSGI application (the single report POST's fast path)
    expect: dict = field(init=False, compare=False)

    def __post_init__(self):
        cells = self.cells.split()
        assert len(cells) == len(ROLES), f"{self.request}: {len(cells)} cells"
        object.__setattr__(self, "expect", dict(zip(ROLES, cells, strict=True)))

    @property
    def method(self):
        return self.request.split(" ", 1)[0]

    @property
    def path(self):
        return self.request.split(" ", 1)[1]

    @property
    def id(self):
        return f"{self.route} {self.request} [{self.target}]"


PAGE_ALL = "302 200 200 200 200 200 200 200 302 302"  # every session, no key
API_ALL = "401 200 200 200 200 200 200 200 200 200"  # every session and key
PAGE_POSTED = "302 302 302 302 302 302 302 302 302 302"  # every session's form accepted (anonymous and keys: login)

# fmt: off
ROWS = [
    # --- portal ---------------------------------------------------------------------------------------------
    Row("home", "GET /", "—", PAGE_ALL),
    Row("healthz", "GET /healthz", "—", "200 200 200 200 200 200 200 200 200 200"),
    Row("localities:provinces", "GET /localities/provinces/", "—", PAGE_ALL),
    Row("localities:province", "GET /localities/provinces/{province}/", "other", PAGE_ALL),
    # --- tasks ----------------------------------------------------------------------------------------------
    Row("tasks:list", "GET /tasks/", "—", PAGE_ALL),
    Row("tasks:list", "GET /tasks/?working_group=2", "—", PAGE_ALL),
    Row("tasks:detail", "GET /tasks/T30/", "—", PAGE_ALL),
    Row("tasks:detail", "GET /tasks/{task}/", "other", "302 200 200 200 200 200∅ 200∅ 200∅ 302 302",
        probe="assignment_listed"),
    Row("tasks:detail", "GET /tasks/T30/?province={province}", "other", "302 200 200 200 200 404 404 404 302 302"),
    Row("tasks:mine", "GET /tasks/mine/", "—", "302 302 302 302 302 200 200 200 302 302"),
    Row("tasks:province_communes", "GET /tasks/communes/?province={province}", "other",
        "302 200 200 200 200 403 200∅ 403 302 302", probe="province_shown"),
    Row("tasks:assignments", "GET /tasks/assignments/?{unit_filter}", "other",
        "302 200 200 200 200 200∅ 200∅ 200∅ 302 302", probe="rows"),
    Row("tasks:export", "GET /tasks/assignments/export.csv?{unit_filter}", "other",
        "302 200 200 200 200 200∅ 200∅ 200∅ 302 302", probe="rows"),
    Row("tasks:export", "GET /tasks/assignments/export.xlsx?{unit_filter}", "other",
        "302 200 200 200 200 200∅ 200∅ 200∅ 302 302", probe="rows"),
    Row("tasks:assignment", "GET /tasks/assignments/{assignment}/", "own", PAGE_ALL),
    Row("tasks:assignment", "GET /tasks/assignments/{assignment}/", "other", "302 200 200 200 200 404 404 404 302 302"),
    Row("tasks:assignment_update", "GET /tasks/assignments/{assignment}/update/", "own",
        "302 403 403 403 403 200 200 200 302 302"),
    Row("tasks:assignment_update", "GET /tasks/assignments/{assignment}/update/", "other",
        "302 403 403 403 403 404 404 404 302 302"),
    Row("tasks:assignment_update", "POST /tasks/assignments/{assignment}/update/", "own",
        "302 403 403 403 403 302 302 302 302 302", data="assignment_form"),
    Row("tasks:assignment_update", "POST /tasks/assignments/{assignment}/update/", "other",
        "302 403 403 403 403 404 404 404 302 302", data="assignment_form"),
    Row("tasks:bulk_update", "GET /tasks/assignments/bulk/", "—", "302 403 403 403 403 200 200 200 302 302"),
    Row("tasks:bulk_update", "POST /tasks/assignments/bulk/", "own + other",
        "302 403 403 403 403 200✓✗ 200✓✗ 200✓✗ 302 302", data="bulk_file", probe="bulk_plan"),
    Row("tasks:evidence", "GET /tasks/evidence/{evidence}/", "own", PAGE_ALL),
    Row("tasks:evidence", "GET /tasks/evidence/{evidence}/", "other", "302 200 200 200 200 404 404 404 302 302"),
    # --- local plans and sub-tasks (DESIGN.md §13) ----------------------------------------------------------
    Row("tasks:plans", "GET /tasks/plans/", "—", PAGE_ALL),
    Row("tasks:plan_create", "GET /tasks/plans/new/", "—", "302 403 403 403 403 200 200 403 302 302"),
    Row("tasks:plan_create", "POST /tasks/plans/new/", "—",
        "302 403 403 403 403 302 302 403 302 302", data="plan_form"),
    Row("tasks:plan", "GET /tasks/plans/{plan}/", "own", "302 200 200 200 200 200 200 200 302 302"),
    Row("tasks:plan", "GET /tasks/plans/{plan}/", "other", "302 200 200 200 200 404 404 404 302 302"),
    Row("tasks:plan_edit", "GET /tasks/plans/{plan}/edit/", "own", "302 403 403 403 403 200 200 403 302 302"),
    Row("tasks:plan_edit", "GET /tasks/plans/{plan}/edit/", "other", "302 403 403 403 403 404 404 404 302 302"),
    Row("tasks:plan_edit", "POST /tasks/plans/{plan}/edit/", "own",
        "302 403 403 403 403 302 302 403 302 302", data="plan_form"),
    Row("tasks:plan_edit", "POST /tasks/plans/{plan}/edit/", "other",
        "302 403 403 403 403 404 404 404 302 302", data="plan_form"),
    Row("tasks:plan_document", "GET /tasks/plans/{plan}/document/", "own", "302 200 200 200 200 200 200 200 302 302"),
    Row("tasks:plan_document", "GET /tasks/plans/{plan}/document/", "other", "302 200 200 200 200 404 404 404 302 302"),
    Row("tasks:subtask_create", "GET /tasks/plans/{plan}/subtasks/new/", "own",
        "302 403 403 403 403 200 200 403 302 302"),
    Row("tasks:subtask_create", "GET /tasks/plans/{plan}/subtasks/new/", "other",
        "302 403 403 403 403 404 404 404 302 302"),
    Row("tasks:subtask_create", "POST /tasks/plans/{plan}/subtasks/new/", "own",
        "302 403 403 403 403 302 302 403 302 302",
        data="subtask_form"),
    Row("tasks:subtask_create", "POST /tasks/plans/{plan}/subtasks/new/", "other",
        "302 403 403 403 403 404 404 404 302 302",
        data="subtask_form"),
    Row("tasks:subtask_export", "GET /tasks/subtasks/export.xlsx?plan={plan}", "other",
        "302 200 200 200 200 200∅ 200∅ 200∅ 302 302", probe="rows"),
    Row("tasks:subtask_bulk", "GET /tasks/subtasks/bulk/", "—", "302 403 403 403 403 200 200 200 302 302"),
    Row("tasks:subtask_bulk", "POST /tasks/subtasks/bulk/", "own + other",
        "302 403 403 403 403 200✓✗ 200✓✗ 200✓✗ 302 302",
        data="subtask_bulk_file", probe="bulk_plan"),
    Row("tasks:subtask", "GET /tasks/subtasks/{subtask}/", "own", "302 200 200 200 200 200 200 200 302 302"),
    Row("tasks:subtask", "GET /tasks/subtasks/{subtask}/", "other", "302 200 200 200 200 404 404 404 302 302"),
    Row("tasks:subtask_edit", "GET /tasks/subtasks/{subtask}/edit/", "own", "302 403 403 403 403 200 200 403 302 302"),
    Row("tasks:subtask_edit", "GET /tasks/subtasks/{subtask}/edit/", "other",
        "302 403 403 403 403 404 404 404 302 302"),
    Row("tasks:subtask_update", "GET /tasks/subtasks/{subtask}/update/", "own",
        "302 403 403 403 403 200 200 200 302 302"),
    Row("tasks:subtask_update", "GET /tasks/subtasks/{subtask}/update/", "other",
        "302 403 403 403 403 404 404 404 302 302"),
    Row("tasks:subtask_update", "POST /tasks/subtasks/{subtask}/update/", "own",
        "302 403 403 403 403 302 302 302 302 302",
        data="subtask_change_form"),
    Row("tasks:subtask_update", "POST /tasks/subtasks/{subtask}/update/", "other",
        "302 403 403 403 403 404 404 404 302 302",
        data="subtask_change_form"),
    Row("tasks:subtask_evidence", "GET /tasks/subtasks/evidence/{subtask_evidence}/", "own",
        "302 200 200 200 200 200 200 200 302 302"),
    Row("tasks:subtask_evidence", "GET /tasks/subtasks/evidence/{subtask_evidence}/", "other",
        "302 200 200 200 200 404 404 404 302 302"),
    # --- inspections (DESIGN.md §13) ------------------------------------------------------------------------
    Row("inspections:list", "GET /inspections/", "—", PAGE_ALL),
    Row("inspections:create", "GET /inspections/new/", "—", "302 403 403 200 403 403 403 403 302 302"),
    Row("inspections:create", "POST /inspections/new/", "—",
        "302 403 403 302 403 403 403 403 302 302", data="inspection_form"),
    Row("inspections:detail", "GET /inspections/{inspection}/", "own", "302 200 200 200 200 200 200 200 302 302"),
    Row("inspections:detail", "GET /inspections/{inspection}/", "other", "302 200 200 200 200 404 404 404 302 302"),
    Row("inspections:finding_create", "GET /inspections/{inspection}/findings/new/", "own",
        "302 403 403 200 403 403 403 403 302 302"),
    Row("inspections:finding_create", "GET /inspections/{inspection}/findings/new/", "other",
        "302 403 403 200 403 404 404 404 302 302"),
    Row("inspections:finding_create", "POST /inspections/{inspection}/findings/new/", "own",
        "302 403 403 302 403 403 403 403 302 302", data="finding_form"),
    Row("inspections:finding_create", "POST /inspections/{inspection}/findings/new/", "other",
        "302 403 403 302 403 404 404 404 302 302", data="finding_form"),
    Row("inspections:report", "GET /inspections/{inspection}/report.xlsx", "own",
        "302 200 200 200 200 200 200 200 302 302"),
    Row("inspections:report", "GET /inspections/{inspection}/report.xlsx", "other",
        "302 200 200 200 200 404 404 404 302 302"),
    Row("inspections:report", "GET /inspections/{inspection}/report.pdf", "own",
        "302 200 200 200 200 200 200 200 302 302"),
    Row("inspections:report", "GET /inspections/{inspection}/report.pdf", "other",
        "302 200 200 200 200 404 404 404 302 302"),
    Row("inspections:followup", "GET /inspections/followups/{followup}/", "own",
        "302 200 200 200 200 200 200 200 302 302"),
    Row("inspections:followup", "GET /inspections/followups/{followup}/", "other",
        "302 200 200 200 200 404 404 404 302 302"),
    Row("inspections:followup", "POST /inspections/followups/{followup}/", "own",
        "302 403 403 403 403 302 302 302 302 302",
        data="subtask_change_form"),
    Row("inspections:followup", "POST /inspections/followups/{followup}/", "other",
        "302 403 403 403 403 404 404 404 302 302",
        data="subtask_change_form"),
    Row("inspections:followup_evidence", "GET /inspections/followups/evidence/{followup_evidence}/", "own",
        "302 200 200 200 200 200 200 200 302 302"),
    Row("inspections:followup_evidence", "GET /inspections/followups/evidence/{followup_evidence}/", "other",
        "302 200 200 200 200 404 404 404 302 302"),
    # --- daily reports --------------------------------------------------------------------------------------
    Row("reports:list", "GET /reports/?province={province}", "other",
        "302 200 200 200 200 200∅ 200∅ 200∅ 302 302", probe="rows"),
    Row("reports:list", "GET /reports/?commune={neighbour}", "other",
        "302 200 200 200 200 200∅ 200 200∅ 302 302", probe="rows"),
    Row("reports:list", "GET /reports/?format=csv&province={province}", "other",
        "302 200 200 200 200 200∅ 200∅ 200∅ 302 302", probe="rows"),
    Row("reports:mine", "GET /reports/mine/?province={province}", "other",
        "302 200 200 200 200 200∅ 200∅ 200∅ 302 302", probe="rows"),
    Row("reports:detail", "GET /reports/{report}/", "own", "302 200 200 200 200 404 200 200 302 302"),
    Row("reports:detail", "GET /reports/{report}/", "other", "302 200 200 200 200 404 404 404 302 302"),
    Row("reports:correct", "GET /reports/{report}/correct/", "own", "302 200 403 403 403 404 200 200 302 302"),
    Row("reports:correct", "GET /reports/{report}/correct/", "other", "302 200 403 403 403 404 404 404 302 302"),
    Row("reports:correct", "POST /reports/{report}/correct/", "own",
        "302 302 403 403 403 404 302 302 302 302", data="report_correction_form"),
    Row("reports:correct", "POST /reports/{report}/correct/", "other",
        "302 302 403 403 403 404 404 404 302 302", data="report_correction_form"),
    Row("reports:submit", "GET /reports/submit/", "—", "302 200 403 403 403 403 200 200 302 302"),
    Row("reports:submit", "POST /reports/submit/", "own",
        "302 302 403 403 403 403 302 302 302 302", data="report_form"),
    Row("reports:submit", "POST /reports/submit/", "other",
        "302 302 403 403 403 403 403 403 302 302", data="report_form"),
    # The form's service worker: the same script for everyone, no unit's data in it (reports.offline).
    Row("reports:service_worker", "GET /reports/submit/sw.js", "—", "200 200 200 200 200 200 200 200 200 200"),
    Row("reports:upload", "GET /reports/upload/", "—", "302 200 403 403 403 403 200 200 302 302"),
    Row("reports:upload", "POST /reports/upload/", "own + other",
        "302 200✓✓ 403 403 403 403 200✓✗ 200✓✗ 302 302", data="report_file", probe="upload_results"),
    Row("reports:upload_template", "GET /reports/upload/template.csv", "—", PAGE_ALL),
    Row("reports:upload_template", "GET /reports/upload/template.xlsx", "—", PAGE_ALL),
    Row("reports:province", "GET /reports/province/?province={province}", "other",
        "302 200 403 403 403 403 200∅ 403 302 302", probe="province_shown"),
    Row("reports:grant_exception", "POST /reports/province/exceptions/", "own",
        "302 302 403 403 403 403 302 403 302 302", data="exception_form"),
    Row("reports:grant_exception", "POST /reports/province/exceptions/", "other",
        "302 302 403 403 403 403 403 403 302 302", data="exception_form"),
    Row("reports:keys", "GET /reports/keys/", "other", "302 200 403 403 403 403 200∅ 403 302 302", probe="keys_listed"),
    Row("reports:keys", "POST /reports/keys/", "own", "302 200 403 403 403 403 200 403 302 302", data="key_form"),
    Row("reports:keys", "POST /reports/keys/", "other", "302 200 403 403 403 403 403 403 302 302", data="key_form"),
    Row("reports:key_revoke", "POST /reports/keys/{key}/revoke/", "own", "302 302 403 403 403 403 302 403 302 302"),
    Row("reports:key_revoke", "POST /reports/keys/{key}/revoke/", "other", "302 302 403 403 403 403 404 403 302 302"),
    Row("reports:quality", "GET /reports/quality/?province={province}", "other",
        "302 200 200 200 200 200∅ 200∅ 200∅ 302 302", probe="rows"),
    Row("reports:quality", "GET /reports/quality/?format=csv&province={province}", "other",
        "302 200 200 200 200 200∅ 200∅ 200∅ 302 302", probe="rows"),
    Row("reports:quality_review", "POST /reports/quality/{warning}/confirm/", "own",
        "302 302 403 403 403 404 302 403 302 302"),
    Row("reports:quality_review", "POST /reports/quality/{warning}/confirm/", "other",
        "302 302 403 403 403 404 404 404 302 302"),
    Row("reports:explain", "POST /reports/{report}/explain/", "own", "302 302 403 403 403 404 302 302 302 302",
        data="explanation_form"),
    Row("reports:explain", "POST /reports/{report}/explain/", "other", "302 302 403 403 403 404 404 404 302 302",
        data="explanation_form"),
    Row("reports:approvals", "GET /reports/approvals/?province={province}", "other",
        "302 200 403 403 403 403 200∅ 403 302 302", probe="province_shown"),
    Row("reports:approvals_submit", "POST /reports/approvals/submit/", "own + other",
        "302 302 403 403 403 403 302 403 302 302", data="approval_form"),
    # --- dashboards -----------------------------------------------------------------------------------------
    Row("dashboard:national", "GET /dashboard/", "—", PAGE_ALL),
    Row("dashboard:national", "GET /dashboard/?export=xlsx", "—", PAGE_ALL),
    Row("dashboard:phases", "GET /dashboard/phases/", "—", PAGE_ALL),
    Row("dashboard:phases", "GET /dashboard/phases/?working_group=2", "—", PAGE_ALL),
    Row("dashboard:phases", "GET /dashboard/phases/?export=xlsx", "—", PAGE_ALL),
    Row("dashboard:phases", "GET /dashboard/phases/?export=pdf", "—", PAGE_ALL),
    Row("dashboard:provinces", "GET /dashboard/provinces/", "—", PAGE_ALL),
    Row("dashboard:provinces", "GET /dashboard/provinces/?export=xlsx", "—", PAGE_ALL),
    Row("dashboard:province", "GET /dashboard/provinces/{province}/", "own",
        "302 200 200 200 200 200∅ 200 200∅ 302 302", probe="communes_listed"),
    Row("dashboard:province", "GET /dashboard/provinces/{province}/", "other",
        "302 200 200 200 200 200∅ 200∅ 200∅ 302 302", probe="communes_listed"),
    Row("dashboard:province", "GET /dashboard/provinces/{province}/?export=xlsx", "other", PAGE_ALL),
    Row("dashboard:commune", "GET /dashboard/communes/{commune}/", "own", "302 200 200 200 200 404 200 200 302 302"),
    Row("dashboard:commune", "GET /dashboard/communes/{commune}/", "other", "302 200 200 200 200 404 404 404 302 302"),
    Row("dashboard:agencies", "GET /dashboard/agencies/", "—", PAGE_ALL),
    Row("dashboard:agencies", "GET /dashboard/agencies/?export=xlsx", "—", PAGE_ALL),
    Row("dashboard:agency", "GET /dashboard/agencies/{agency}/", "own", PAGE_ALL),
    Row("dashboard:agency", "GET /dashboard/agencies/{agency}/", "other", PAGE_ALL),
    Row("dashboard:agency", "GET /dashboard/agencies/{agency}/?export=xlsx", "other", PAGE_ALL),
    Row("dashboard:targets", "GET /dashboard/targets/", "—", PAGE_ALL),
    Row("dashboard:targets", "GET /dashboard/targets/?export=xlsx", "—", PAGE_ALL),
    Row("dashboard:target", "GET /dashboard/targets/{target}/", "own", PAGE_ALL),
    Row("dashboard:target", "GET /dashboard/targets/{target}/", "other", PAGE_ALL),
    Row("dashboard:target", "POST /dashboard/targets/{target}/", "own",
        "302 302 403 403 403 302 403 403 302 302", data="target_form"),
    Row("dashboard:target", "POST /dashboard/targets/{target}/", "other",
        "302 302 403 403 403 403 403 403 302 302", data="target_form"),
    Row("dashboard:meetings", "GET /dashboard/meetings/", "—", "302 200 200 200 200 404 404 404 302 302"),
    Row("dashboard:meetings", "POST /dashboard/meetings/", "—", "302 302 302 403 403 404 404 404 302 302",
        data="meeting_form"),
    Row("dashboard:meeting", "GET /dashboard/meetings/{meeting}/", "—", "302 200 200 200 200 404 404 404 302 302"),
    Row("dashboard:meeting", "GET /dashboard/meetings/{meeting}/?export=xlsx", "—",
        "302 200 200 200 200 404 404 404 302 302"),
    Row("dashboard:meeting", "GET /dashboard/meetings/{meeting}/?export=pdf", "—",
        "302 200 200 200 200 404 404 404 302 302"),
    Row("dashboard:meeting_changes", "GET /dashboard/meetings/{meeting}/changes/?since={earlier}", "—",
        "302 200 200 200 200 404 404 404 302 302"),
    Row("dashboard:meeting_changes", "GET /dashboard/meetings/{meeting}/changes/?since={earlier}&export=xlsx", "—",
        "302 200 200 200 200 404 404 404 302 302"),
    # --- audit ----------------------------------------------------------------------------------------------
    Row("audit:trail", "GET /audit/", "—", "302 200 403 200 403 403 403 403 302 302"),
    Row("audit:trail", "GET /audit/?export=csv", "—", "302 200 403 200 403 403 403 403 302 302"),
    Row("audit:trail", "GET /audit/?export=xlsx", "—", "302 200 403 200 403 403 403 403 302 302"),
    # --- early warning --------------------------------------------------------------------------------------
    Row("alerts:list", "GET /alerts/?province={province}", "other",
        "302 200 200 200 200 200∅ 200∅ 200∅ 302 302", probe="rows"),
    Row("alerts:list", "GET /alerts/?province={province}&export=csv", "other",
        "302 200 200 200 200 200∅ 200∅ 200∅ 302 302", probe="rows"),
    Row("alerts:list", "GET /alerts/?province={province}&export=xlsx", "other",
        "302 200 200 200 200 200∅ 200∅ 200∅ 302 302", probe="rows"),
    Row("alerts:notifications", "GET /alerts/notifications/?rule=missing_report_7", "other",
        "302 200∅ 200∅ 200∅ 200∅ 200∅ 200∅ 200∅ 302 302", probe="rows"),
    Row("alerts:notification_read", "POST /alerts/notifications/{notification}/read/", "own", PAGE_POSTED),
    Row("alerts:notification_read", "POST /alerts/notifications/{notification}/read/", "other",
        "302 404 404 404 404 404 404 404 302 302"),
    Row("alerts:notifications_read_all", "POST /alerts/notifications/read-all/", "—", PAGE_POSTED),
    Row("alerts:blockers", "GET /alerts/blockers/?province={province}", "other",
        "302 200 200 200 200 200∅ 200∅ 200∅ 302 302", probe="rows"),
    Row("alerts:blockers", "GET /alerts/blockers/?province={province}&export=csv", "other",
        "302 200 200 200 200 200∅ 200∅ 200∅ 302 302", probe="rows"),
    Row("alerts:blockers", "GET /alerts/blockers/?province={province}&export=xlsx", "other",
        "302 200 200 200 200 200∅ 200∅ 200∅ 302 302", probe="rows"),
    Row("alerts:support", "GET /alerts/support/?province={province}", "other",
        "302 200 200 200 200 200∅ 200∅ 200∅ 302 302", probe="rows"),
    Row("alerts:support", "GET /alerts/support/?commune={neighbour}", "other",
        "302 200 200 200 200 200∅ 200 200∅ 302 302", probe="rows"),
    Row("alerts:support_request", "GET /alerts/support/{support}/", "own", "302 200 200 200 200 404 200 200 302 302"),
    Row("alerts:support_request", "GET /alerts/support/{support}/", "other", "302 200 200 200 200 404 404 404 302 302"),
    Row("alerts:support_request", "POST /alerts/support/{support}/", "own",
        "302 403 403 403 403 404 302 403 302 302", data="support_form"),
    Row("alerts:support_request", "POST /alerts/support/{support}/", "other",
        "302 403 403 403 403 404 404 404 302 302", data="support_form"),
    Row("alerts:missing", "GET /alerts/missing/?province={province}", "other",
        "302 200 200 200 200 404 200∅ 404 302 302", probe="province_shown"),
    Row("alerts:preferences", "GET /alerts/preferences/", "—", PAGE_ALL),
    Row("alerts:preferences", "POST /alerts/preferences/", "—", PAGE_POSTED, data="preferences_form"),
    # --- API: reference data ---------------------------------------------------------------------------------
    Row("province-list", "GET /api/v1/provinces/", "—", API_ALL),
    Row("province-detail", "GET /api/v1/provinces/{province}/", "other", API_ALL),
    Row("commune-list", "GET /api/v1/communes/?province={province}", "other", API_ALL),
    Row("commune-detail", "GET /api/v1/communes/{commune}/", "other", API_ALL),
    Row("group-list", "GET /api/v1/groups/", "—", API_ALL),
    Row("group-detail", "GET /api/v1/groups/1/", "—", API_ALL),
    Row("phase-list", "GET /api/v1/phases/", "—", API_ALL),
    Row("phase-detail", "GET /api/v1/phases/urgent/", "—", API_ALL),
    Row("agency-list", "GET /api/v1/agencies/", "—", API_ALL),
    Row("agency-detail", "GET /api/v1/agencies/{agency}/", "other", API_ALL),
    Row("working-group-list", "GET /api/v1/working-groups/", "—", API_ALL),
    Row("working-group-detail", "GET /api/v1/working-groups/2/", "—", API_ALL),
    Row("task-list", "GET /api/v1/tasks/", "—", API_ALL),
    Row("task-list", "GET /api/v1/tasks/?working_group=2", "—", API_ALL),
    Row("task-detail", "GET /api/v1/tasks/T30/", "—", API_ALL),
    # --- API: assignments -----------------------------------------------------------------------------------
    Row("assignment-list", "GET /api/v1/assignments/?{unit_filter}", "other",
        "401 200 200 200 200 200∅ 200∅ 200∅ 200∅ 200∅", probe="rows"),
    Row("assignment-list", "GET /api/v1/assignments/?mine=true&{unit_filter}", "other",
        "401 200∅ 200∅ 200∅ 200∅ 200∅ 200∅ 200∅ 200∅ 200∅", probe="rows"),
    Row("assignment-detail", "GET /api/v1/assignments/{assignment}/", "own", API_ALL),
    Row("assignment-detail", "GET /api/v1/assignments/{assignment}/", "other",
        "401 200 200 200 200 404 404 404 404 404"),
    Row("assignment-updates", "GET /api/v1/assignments/{assignment}/updates/", "own", API_ALL),
    Row("assignment-updates", "GET /api/v1/assignments/{assignment}/updates/", "other",
        "401 200 200 200 200 404 404 404 404 404"),
    Row("assignment-updates", "POST /api/v1/assignments/{assignment}/updates/", "own",
        "401 403 403 403 403 201 201 201 403 403", data="assignment_json"),
    Row("assignment-updates", "POST /api/v1/assignments/{assignment}/updates/", "other",
        "401 403 403 403 403 404 404 404 404 404", data="assignment_json"),
    # --- API: local plans, sub-tasks, inspections (DESIGN.md §13) ----------------------------------------------
    Row("plan-list", "GET /api/v1/plans/", "—", API_ALL),
    Row("plan-list", "POST /api/v1/plans/", "—", "401 403 403 403 403 201 201 403 403 403", data="plan_json"),
    Row("plan-detail", "GET /api/v1/plans/{plan}/", "own", "401 200 200 200 200 200 200 200 200 200"),
    Row("plan-detail", "GET /api/v1/plans/{plan}/", "other", "401 200 200 200 200 404 404 404 404 404"),
    Row("subtask-list", "GET /api/v1/subtasks/?plan={plan}", "other",
        "401 200 200 200 200 200∅ 200∅ 200∅ 200∅ 200∅", probe="rows"),
    Row("subtask-list", "GET /api/v1/subtasks/?mine=true&plan={plan}", "other",
        "401 200∅ 200∅ 200∅ 200∅ 200∅ 200∅ 200∅ 200∅ 200∅", probe="rows"),
    Row("subtask-list", "POST /api/v1/subtasks/", "own",
        "401 403 403 403 403 201 201 403 403 403", data="subtask_json"),
    Row("subtask-list", "POST /api/v1/subtasks/", "other",
        "401 403 403 403 403 404 404 404 404 404", data="subtask_json"),
    Row("subtask-detail", "GET /api/v1/subtasks/{subtask}/", "own", "401 200 200 200 200 200 200 200 200 200"),
    Row("subtask-detail", "GET /api/v1/subtasks/{subtask}/", "other", "401 200 200 200 200 404 404 404 404 404"),
    Row("subtask-updates", "GET /api/v1/subtasks/{subtask}/updates/", "own", "401 200 200 200 200 200 200 200 200 200"),
    Row("subtask-updates", "GET /api/v1/subtasks/{subtask}/updates/", "other",
        "401 200 200 200 200 404 404 404 404 404"),
    Row("subtask-updates", "POST /api/v1/subtasks/{subtask}/updates/", "own", "401 403 403 403 403 201 201 201 403 403",
        data="subtask_change_json"),
    Row("subtask-updates", "POST /api/v1/subtasks/{subtask}/updates/", "other",
        "401 403 403 403 403 404 404 404 404 404",
        data="subtask_change_json"),
    Row("inspection-list", "GET /api/v1/inspections/", "—", API_ALL),
    Row("inspection-list", "POST /api/v1/inspections/", "—",
        "401 403 403 201 403 403 403 403 403 403", data="inspection_json"),
    Row("inspection-detail", "GET /api/v1/inspections/{inspection}/", "own", "401 200 200 200 200 200 200 200 200 200"),
    Row("inspection-detail", "GET /api/v1/inspections/{inspection}/", "other",
        "401 200 200 200 200 404 404 404 404 404"),
    Row("inspection-findings", "GET /api/v1/inspections/{inspection}/findings/", "own",
        "401 200 200 200 200 200 200 200 200 200",
        probe="rows"),
    Row("inspection-findings", "GET /api/v1/inspections/{inspection}/findings/", "other",
        "401 200 200 200 200 404 404 404 404 404"),
    Row("inspection-findings", "POST /api/v1/inspections/{inspection}/findings/", "own",
        "401 403 403 201 403 403 403 403 403 403",
        data="finding_json"),
    Row("inspection-findings", "POST /api/v1/inspections/{inspection}/findings/", "other",
        "401 403 403 201 403 404 404 404 404 404",
        data="finding_json"),
    # --- API: daily reports ---------------------------------------------------------------------------------
    Row("daily-report-list", "GET /api/v1/reports/daily/?province={province}", "other",
        "401 200 200 200 200 200∅ 200∅ 200∅ 200∅ 200∅", probe="rows"),
    Row("daily-report-list", "GET /api/v1/reports/daily/?commune={neighbour}", "other",
        "401 200 200 200 200 200∅ 200 200∅ 200∅ 200", probe="rows"),
    Row("daily-report-list", "POST /api/v1/reports/daily/", "own",
        "401 201 403 403 403 403 201 201 201 201", data="report_json"),
    Row("daily-report-list", "POST /api/v1/reports/daily/", "other",
        "401 201 403 403 403 403 403 403 403 403", data="report_json"),
    Row("daily-report-list", "POST /api/v1/reports/daily/ (fast path)", "own", "401 — — — — — — — 201 201",
        data="report_json", fast=True),
    Row("daily-report-list", "POST /api/v1/reports/daily/ (fast path)", "other", "401 — — — — — — — 403 403",
        data="report_json", fast=True),
    Row("daily-report-batch", "POST /api/v1/reports/daily/batch/", "own + other",
        "401 200✓✓ 200✗✗ 200✗✗ 200✗✗ 200✗✗ 200✓✗ 200✓✗ 200✓✗ 200✓✗", data="report_batch", probe="batch_results"),
    Row("daily-report-detail", "GET /api/v1/reports/daily/{report}/", "own", "401 200 200 200 200 404 200 200 200 200"),
    Row("daily-report-detail", "GET /api/v1/reports/daily/{report}/", "other",
        "401 200 200 200 200 404 404 404 404 404"),
    Row("daily-report-detail", "PUT /api/v1/reports/daily/{report}/", "own",
        "401 200 403 403 403 403 200 200 200 200", data="report_correction_json"),
    Row("daily-report-detail", "PUT /api/v1/reports/daily/{report}/", "other",
        "401 200 403 403 403 403 403 403 403 403", data="report_correction_json"),
    Row("report-completeness", "GET /api/v1/reports/completeness/?province={province}", "other",
        "401 200 200 200 200 200∅ 200∅ 200∅ 200∅ 200∅", probe="completeness_rows"),
    Row("report-form", "GET /api/v1/reports/form/", "—", "401 200 200 200 200 200 200 200 200 200"),
    Row("daily-report-explanations", "POST /api/v1/reports/daily/{report}/explanations/", "own",
        "401 200 403 403 403 404 200 200 200 200", data="explanation_json"),
    Row("daily-report-explanations", "POST /api/v1/reports/daily/{report}/explanations/", "other",
        "401 200 403 403 403 404 404 404 404 404", data="explanation_json"),
    Row("quality-queue", "GET /api/v1/reports/quality/?province={province}", "other",
        "401 200 200 200 200 200∅ 200∅ 200∅ 200∅ 200∅", probe="rows"),
    Row("report-approvals", "POST /api/v1/reports/approvals/", "own + other",
        "401 200✓✓ 403 403 403 403 200✓✗ 403 403 403", data="approval_json", probe="approval_results"),
    Row("report-approval-withdraw", "POST /api/v1/reports/approvals/withdraw/", "own",
        "401 409 403 403 403 403 409 403 403 403", data="withdraw_json"),
    Row("report-approval-withdraw", "POST /api/v1/reports/approvals/withdraw/", "other",
        "401 409 403 403 403 403 403 403 403 403", data="withdraw_json"),
    # --- API: dashboards and the steering pack ---------------------------------------------------------------
    Row("api-dashboard-national", "GET /api/v1/dashboard/national/", "—", API_ALL),
    Row("api-dashboard-provinces", "GET /api/v1/dashboard/provinces/", "—", API_ALL),
    Row("api-dashboard-phases", "GET /api/v1/dashboard/phases/", "—", API_ALL),
    Row("api-targets", "GET /api/v1/targets/", "—", API_ALL),
    Row("api-meetings", "GET /api/v1/meetings/", "—", "401 200 200 200 200 200∅ 200∅ 200∅ 200∅ 200∅", probe="rows"),
    Row("api-meetings", "POST /api/v1/meetings/", "—", "401 201 201 403 403 403 403 403 403 403", data="meeting_json"),
    Row("api-meeting", "GET /api/v1/meetings/{meeting}/", "—", "401 200 200 200 200 404 404 404 404 404"),
    Row("api-meeting-changes", "GET /api/v1/meetings/{meeting}/changes/?since={earlier}", "—",
        "401 200 200 200 200 404 404 404 404 404"),
    Row("api-audit", "GET /api/v1/audit/", "—", "401 200 403 200 403 403 403 403 403 403"),
    # --- API: integrations (what each reads of the feed: tests/integrations/test_feed.py) ----------------------
    Row("api-changes", "GET /api/v1/changes/?types=report.accepted", "—", API_ALL),
    # --- API: early warning ---------------------------------------------------------------------------------
    Row("notification-list", "GET /api/v1/notifications/?rule=missing_report_7", "other",
        "401 200∅ 200∅ 200∅ 200∅ 200∅ 200∅ 200∅ 200∅ 200∅", probe="rows"),
    Row("notification-read", "POST /api/v1/notifications/{notification}/read/", "own",
        "401 200 200 200 200 200 200 200 404 404"),
    Row("notification-read", "POST /api/v1/notifications/{notification}/read/", "other",
        "401 404 404 404 404 404 404 404 404 404"),
    Row("notification-read-all", "POST /api/v1/notifications/read-all/", "—", API_ALL),
    Row("alert-list", "GET /api/v1/alerts/?province={province}", "other",
        "401 200 200 200 200 200∅ 200∅ 200∅ 200∅ 200∅", probe="rows"),
    Row("alert-detail", "GET /api/v1/alerts/{alert}/", "own", API_ALL),
    Row("alert-detail", "GET /api/v1/alerts/{alert}/", "other", "401 200 200 200 200 404 404 404 404 404"),
    Row("blocker-list", "GET /api/v1/blockers/?province={province}", "other",
        "401 200 200 200 200 200∅ 200∅ 200∅ 200∅ 200∅", probe="rows"),
    Row("support-request-list", "GET /api/v1/support-requests/?province={province}", "other",
        "401 200 200 200 200 200∅ 200∅ 200∅ 200∅ 200∅", probe="rows"),
    Row("support-request-list", "GET /api/v1/support-requests/?commune={neighbour}", "other",
        "401 200 200 200 200 200∅ 200 200∅ 200∅ 200", probe="rows"),
    Row("support-request-detail", "GET /api/v1/support-requests/{support}/", "own",
        "401 200 200 200 200 404 200 200 200 200"),
    Row("support-request-detail", "GET /api/v1/support-requests/{support}/", "other",
        "401 200 200 200 200 404 404 404 404 404"),
    Row("support-request-close", "POST /api/v1/support-requests/{support}/close/", "own",
        "401 403 403 403 403 404 200 403 403 403", data="support_json"),
    Row("support-request-close", "POST /api/v1/support-requests/{support}/close/", "other",
        "401 403 403 403 403 404 404 404 404 404", data="support_json"),
    # --- the operations desk (DESIGN.md §12) ------------------------------------------------------------------
    Row("support:board", "GET /operations/", "—", PAGE_ALL),
    Row("support:board", "GET /operations/?province={province}", "other", "302 200 200 200 200 404 404 404 302 302"),
    Row("support:board_panel", "GET /operations/board/", "—", PAGE_ALL),
    Row("support:list", "GET /operations/incidents/?province={province}", "other",
        "302 200 200 200 200 200∅ 200∅ 200∅ 302 302", probe="rows"),
    Row("support:export", "GET /operations/incidents/export.csv?province={province}", "other",
        "302 200 200 200 200 200∅ 200∅ 200∅ 302 302", probe="rows"),
    Row("support:new", "GET /operations/incidents/new/", "—", "302 403 403 403 403 403 200 200 302 302"),
    Row("support:new", "POST /operations/incidents/new/", "—", "302 403 403 403 403 403 302 302 302 302",
        data="incident_form"),
    Row("support:incident", "GET /operations/incidents/{incident}/", "own", "302 200 200 200 200 404 200 200 302 302"),
    Row("support:incident", "GET /operations/incidents/{incident}/", "other",
        "302 200 200 200 200 404 404 404 302 302"),
    Row("support:action", "POST /operations/incidents/{incident}/acknowledge/", "own",
        "302 403 403 403 302 404 302 403 302 302"),
    Row("support:action", "POST /operations/incidents/{incident}/acknowledge/", "other",
        "302 403 403 403 302 404 404 404 302 302"),
    Row("support:attachment", "GET /operations/files/{incident_file}/", "own",
        "302 200 200 200 200 404 200 200 302 302"),
    Row("support:attachment", "GET /operations/files/{incident_file}/", "other",
        "302 200 200 200 200 404 404 404 302 302"),
    Row("support:teams", "GET /operations/teams/", "—", PAGE_ALL),
    Row("support:communes", "GET /operations/communes/", "—", "302 200 200 200 200 403 200 403 302 302"),
    Row("support:communes", "GET /operations/communes/?province={province}", "other",
        "302 200 200 200 200 403 404 403 302 302"),
    Row("support:communes_export", "GET /operations/communes/export.xlsx?province={province}", "own",
        "302 200 200 200 200 403 200 403 302 302"),
    Row("support:communes_export", "GET /operations/communes/export.csv?province={province}", "other",
        "302 200 200 200 200 403 404 403 302 302"),
    Row("operations-communes", "GET /api/v1/operations/communes/?province={province}", "own",
        "401 200 200 200 200 403 200 403 403 403"),
    Row("operations-communes", "GET /api/v1/operations/communes/?province={province}", "other",
        "401 200 200 200 200 403 404 403 403 403"),
    Row("incident-list", "GET /api/v1/incidents/?province={province}", "other",
        "401 200 200 200 200 200∅ 200∅ 200∅ 200∅ 200∅", probe="rows"),
    Row("incident-list", "POST /api/v1/incidents/", "own", "401 403 403 403 403 403 201 201 403 403",
        data="incident_json"),
    Row("incident-detail", "GET /api/v1/incidents/{incident}/", "own", "401 200 200 200 200 404 200 200 404 404"),
    Row("incident-detail", "GET /api/v1/incidents/{incident}/", "other", "401 200 200 200 200 404 404 404 404 404"),
    Row("incident-acknowledge", "POST /api/v1/incidents/{incident}/acknowledge/", "own",
        "401 403 403 403 200 404 200 403 404 404", data="empty_json"),
    Row("incident-acknowledge", "POST /api/v1/incidents/{incident}/acknowledge/", "other",
        "401 403 403 403 200 404 404 404 404 404", data="empty_json"),
    Row("incident-assign", "POST /api/v1/incidents/{incident}/assign/", "own",
        "401 403 403 403 200 404 200 403 404 404", data="assign_json"),
    Row("incident-escalate", "POST /api/v1/incidents/{incident}/escalate/", "own",
        "401 403 403 403 200 404 200 403 404 404", data="reason_json"),
    Row("incident-resolve", "POST /api/v1/incidents/{incident}/resolve/", "own",
        "401 403 403 403 200 404 200 403 404 404", data="resolution_json"),
    Row("incident-close", "POST /api/v1/incidents/{incident}/close/", "own",
        "401 403 403 403 409 404 409 409 404 404", data="empty_json"),
    Row("incident-reopen", "POST /api/v1/incidents/{incident}/reopen/", "own",
        "401 403 403 403 409 404 409 409 404 404", data="reason_json"),
    Row("incident-comments", "POST /api/v1/incidents/{incident}/comments/", "own",
        "401 403 403 403 201 404 201 201 404 404", data="comment_json"),
    Row("incident-comments", "POST /api/v1/incidents/{incident}/comments/", "other",
        "401 403 403 403 201 404 404 404 404 404", data="comment_json"),
    Row("incident-list", "POST /api/v1/incidents/", "other", "401 403 403 403 403 403 400 400 403 403",
        data="incident_json_at"),
    Row("incident-assign", "POST /api/v1/incidents/{incident}/assign/", "other",
        "401 403 403 403 200 404 404 404 404 404", data="assign_json"),
    Row("incident-escalate", "POST /api/v1/incidents/{incident}/escalate/", "other",
        "401 403 403 403 200 404 404 404 404 404", data="reason_json"),
    Row("incident-resolve", "POST /api/v1/incidents/{incident}/resolve/", "other",
        "401 403 403 403 200 404 404 404 404 404", data="resolution_json"),
    Row("incident-close", "POST /api/v1/incidents/{incident}/close/", "other",
        "401 403 403 403 409 404 404 404 404 404", data="empty_json"),
    Row("incident-reopen", "POST /api/v1/incidents/{incident}/reopen/", "other",
        "401 403 403 403 409 404 404 404 404 404", data="reason_json"),
    Row("team-list", "GET /api/v1/teams/", "—", API_ALL),
    Row("team-detail", "GET /api/v1/teams/{team}/", "other", "401 200 200 200 200 404 404 404 404 404"),
    Row("operations-board", "GET /api/v1/operations/board/?province={province}", "other",
        "401 200 200 200 200 404 404 404 403 403"),
    # --- API: documentation ---------------------------------------------------------------------------------
    Row("api-schema", "GET /api/schema/", "—", API_ALL),
    Row("api-docs", "GET /api/docs/", "—", "302 200 200 200 200 200 200 200 200 200"),
]
# fmt: on


# --- the README's table -------------------------------------------------------------------------------------


def render_table(rows=ROWS):
    """The markdown table of ROWS, as the README shows it."""
    lines = [
        "| route | request | target | " + " | ".join(HEADINGS[r] for r in ROLES) + " |",
        "|---|---|---|" + "---|" * len(ROLES),
    ]
    for row in rows:
        cells = " | ".join(row.expect[r] for r in ROLES)
        lines.append(f"| `{row.route}` | `{row.request}` | {row.target} | {cells} |")
    return "\n".join(lines) + "\n"


def readme_block(text):
    start, end = text.index(START) + len(START), text.index(END)
    return text[start:end].strip("\n") + "\n"


def write_readme():
    text = README.read_text(encoding="utf-8")
    start, end = text.index(START) + len(START), text.index(END)
    README.write_text(text[:start] + "\n" + render_table() + text[end:], encoding="utf-8")


def test_readme_shows_this_table():
    assert readme_block(README.read_text(encoding="utf-8")) == render_table(), (
        "README's permission matrix differs from ROWS: run `.venv/bin/python -m tests.test_permission_matrix --write`"
    )


# --- every route has a row ------------------------------------------------------------------------------------


def named_routes():
    """{name: pattern} of every named route, namespaced, outside the exempt namespaces."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found = {}

    def walk(patterns, prefix, namespace):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = namespace
                if entry.namespace:
                    if entry.namespace in EXEMPT_NAMESPACES:
                        continue
                    inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern) and entry.name:
                found[f"{namespace}:{entry.name}" if namespace else entry.name] = prefix + str(entry.pattern)

    walk(get_resolver().url_patterns, "/", None)
    return found


def test_every_named_route_has_a_row_or_a_reason():
    routes = named_routes()
    covered = {row.route for row in ROWS}
    missing = sorted(set(routes) - covered - set(EXEMPT))
    assert not missing, "routes without a row in the permission matrix (add one, or a reason to EXEMPT): " + ", ".join(
        f"{name} ({routes[name]})" for name in missing
    )
    assert not covered - set(routes), f"rows for routes that do not exist: {sorted(covered - set(routes))}"
    assert not set(EXEMPT) - set(routes), f"exempt routes that do not exist: {sorted(set(EXEMPT) - set(routes))}"
    assert not covered & set(EXEMPT), f"routes both exempt and in the table: {sorted(covered & set(EXEMPT))}"


def test_the_table_covers_own_and_other_units_for_every_role():
    """Each route that takes a unit's object has a row for the caller's own and one for another unit's."""
    by_route = {}
    for row in ROWS:
        by_route.setdefault((row.route, row.method), set()).add(row.target)
    for (route, method), targets in by_route.items():
        if "own" in targets:
            assert "other" in targets, f"{method} {route}: a row for one's own unit and none for another's"


# --- the world the rows run in ----------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class World:
    users: dict
    keys: dict
    values: dict  # placeholder -> {("own"|"other", unit kind): value}
    fixed: dict  # placeholder -> value
    versions: dict  # assignment pk -> version

    def context(self, role, which):
        kind = UNIT_KIND[role]
        found = dict(self.fixed)
        for name, choices in self.values.items():
            found[name] = choices.get((which, kind), choices.get((which, "*")))
        if which == "own" and role in self.users:
            found["notification"] = self.values["notification"][("own", role)]
        return found


def _per_kind(own, other):
    """{(which, kind): value} from {kind: value} dicts ("*" for every kind not named)."""
    return {**{("own", k): v for k, v in own.items()}, **{("other", k): v for k, v in other.items()}}


def _history(assignment, actor, *, status, progress, blocked_by=None, evidence=False):
    """One history row, the assignment left in its state (as the update service would)."""
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from tasks.models import Assignment, StatusUpdate

    update = StatusUpdate(
        assignment=assignment,
        actor=actor,
        created_at=timezone.now(),
        old_status=assignment.status,
        new_status=status,
        old_progress=assignment.progress,
        new_progress=progress,
        blocked_by=blocked_by,
        blocked_reason="Waiting for the budget decision" if blocked_by else "",
        note="matrix",
        version=assignment.version + 1,
    )
    if evidence:
        update.evidence_file.save("minutes.pdf", ContentFile(PDF), save=False)
    update.save()
    Assignment.objects.filter(pk=assignment.pk).update(
        status=status,
        progress=progress,
        blocked_by=blocked_by,
        blocked_reason=update.blocked_reason,
        version=assignment.version + 1,
        updated_at=update.created_at,
        updated_by=actor,
    )
    assignment.refresh_from_db()
    return update


def build_world():
    import datetime

    from django.utils import timezone

    from alerts.models import Alert, AlertRun, Notification
    from dashboards.meetings import meeting_create
    from dashboards.models import Meeting
    from localities.models import Commune
    from reports.models import QualityWarning
    from reports.services import api_client_issue
    from tasks.models import Agency, Assignment, Role
    from tasks.scoping import scope_for_user
    from tests.conftest import make_user
    from tests.reports.factories import make_report

    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    hcmc_commune = Commune.objects.filter(province_id="79").order_by("code").values_list("code", flat=True)[0]

    admin = make_user("matrix-admin", Role.ADMIN)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    users = {
        "admin": admin,
        "steering": make_user("matrix-steering", Role.STEERING),
        "inspector": make_user("matrix-inspector", Role.INSPECTOR),
        "support": make_user("matrix-support", Role.SUPPORT),
        "agency": make_user("matrix-bca", Role.AGENCY_OFFICER, agency="BCA"),
        "province": make_user("matrix-hanoi", Role.PROVINCE_OFFICER, province="01"),
        "commune": make_user("matrix-badinh", Role.COMMUNE_CLERK, commune="00004"),
    }
    bystander = make_user("matrix-hcm", Role.PROVINCE_OFFICER, province="79")
    keys = {
        "commune_key": api_client_issue(name="Ba Đình desk (matrix)", locality="00004")[1],
        "province_key": api_client_issue(name="Hà Nội system (matrix)", locality="01")[1],
    }
    own_key, _ = api_client_issue(name="Ngọc Hà desk (matrix)", locality="00008")
    other_key, _ = api_client_issue(name="HCMC commune desk (matrix)", locality=hcmc_commune)

    def assignment(task, **unit):
        return Assignment.objects.get(task__code=task, **unit)

    # Assignments: each with one history row carrying an evidence file.
    worked = {
        "agency": (assignment("T15", agency__code="BCA"), assignment("T57", agency__code="TANDTC")),
        "province": (
            assignment("T18", province_id="01", level="province"),
            assignment("T18", province_id="79", level="province"),
        ),
        "commune": (assignment("T30", commune_id="00004"), assignment("T30", commune_id="00008")),
    }
    evidence = {}
    for kind, pair in worked.items():
        evidence[kind] = tuple(_history(a, admin, status="in_progress", progress=10, evidence=True) for a in pair)
    # Blocked assignments, for the blocker register (neither BCA's nor TANDTC's to see).
    btc = Agency.objects.get(code="BTC")
    blocked = {code: assignment("T43", province_id=code, level="province") for code in ("01", "79")}
    for target in blocked.values():
        _history(target, admin, status="blocked", progress=20, blocked_by=btc)

    # Daily reports of yesterday; the communes' ask for support.
    reports = {
        code: make_report(code, yesterday, support_needed=len(code) == 5)
        for code in ("00004", "00008", "01", "79", hcmc_commune)
    }

    # Open quality warnings of each report (reports.quality), for the queue, its review and the explanations.
    warnings = {
        code: QualityWarning.objects.create(
            report=report,
            locality=code,
            province_id=report.province_id,
            commune_id=report.commune_id,
            date=yesterday,
            indicator="received_online",
            value=report.received_online,
            expected_low=0,
            expected_high=0,
            median=0,
            effect=report.received_online,
            created_at=timezone.now(),
        )
        for code, report in reports.items()
    }

    # Alerts and notifications (written as the alert run would).
    now = timezone.now()
    run = AlertRun.objects.create(started_at=now, finished_at=now, as_of=today, moment=now, trigger="matrix")

    def alert(rule, key, **subject):
        return Alert.objects.create(
            rule=rule, threshold=0, subject_key=key, day=yesterday, since=yesterday, run=run, raised_at=now, **subject
        )

    def support_alert(code):
        report = reports[code]
        return alert(
            "support_needed",
            f"report:{report.pk}",
            subject_kind="report",
            report=report,
            commune_id=report.commune_id,
            province_id=report.province_id,
        )

    def assignment_alert(rule, target, **extra):
        return alert(
            rule,
            f"assignment:{target.pk}",
            subject_kind="assignment",
            assignment=target,
            province_id=target.province_id,
            **extra,
        )

    alerts = {
        ("own", "commune"): support_alert("00004"),
        ("other", "commune"): support_alert("00008"),
        ("own", "province"): assignment_alert("blocked", blocked["01"], agency=btc),
        ("other", "province"): assignment_alert("blocked", blocked["79"], agency=btc),
        ("own", "agency"): assignment_alert("overdue", worked["agency"][0], agency_id=worked["agency"][0].agency_id),
        ("other", "agency"): assignment_alert("overdue", worked["agency"][1], agency_id=worked["agency"][1].agency_id),
    }
    support_alert(hcmc_commune)
    alerts[("own", "none")] = alerts[("own", "commune")]
    alerts[("other", "none")] = alerts[("other", "province")]
    notifications = {
        ("own", role): Notification.objects.create(user=user, alert=alerts[("own", "commune")], run=run, created_at=now)
        for role, user in users.items()
    }
    # The keys' units' people have notifications; a key has none of its own.
    notifications[("own", "*")] = notifications[("own", "commune")]
    silent = alert(
        "missing_report_7", f"commune:{hcmc_commune}", subject_kind="commune", commune_id=hcmc_commune, province_id="79"
    )
    notifications[("other", "*")] = Notification.objects.create(user=bystander, alert=silent, run=run, created_at=now)

    # Incidents of the operations desk: Ba Đình's, its neighbour's, one in HCMC; a file; a team per province.
    from django.core.files.base import ContentFile

    from support.models import IncidentAttachment, Team
    from support.services import incident_open

    def incident(user, locality=None):
        return incident_open(actor=user, category="power", severity="blocking", description="matrix", locality=locality)

    incidents = {
        "00004": incident(users["commune"]),
        "00008": incident(users["province"], locality="00008"),
        "hcmc": incident(bystander, locality=hcmc_commune),
    }
    files = {}
    for code, found in incidents.items():
        attachment = IncidentAttachment(incident=found, name="photo.pdf", size=len(PDF))
        attachment.file.save("photo.pdf", ContentFile(PDF), save=False)
        attachment.save()
        files[code] = attachment
    teams = {code: Team.objects.create(name=f"Matrix {code}", province_id=code) for code in ("01", "79")}

    # Two meetings of the steering committee.
    steering_scope = scope_for_user(users["steering"])
    meeting = meeting_create(scope=steering_scope, actor=users["steering"], title="Matrix", date=yesterday.isoformat())
    # The one before: the same pack (freezing one costs seconds), a week earlier.
    earlier = Meeting.objects.create(
        title="Earlier",
        date=yesterday - datetime.timedelta(days=7),
        content=meeting.content,
        created_by=users["steering"],
        created_at=now - datetime.timedelta(days=7),
    )

    # Local plans (DESIGN.md §13): each with a document and sub-tasks; each sub-task and follow-up item with one
    # history row carrying an evidence file.
    from django.core.files.base import ContentFile

    from inspections.models import FollowUp, FollowUpUpdate, Inspection
    from inspections.services import finding_create
    from tasks.models import LocalPlan, SubTask, SubTaskUpdate

    def local_plan(number, **unit):
        plan = LocalPlan(number=number, issued_on=yesterday, title=f"Plan {number}", created_by=admin, **unit)
        plan.document.save("plan.pdf", ContentFile(PDF), save=False)
        plan.save()
        return plan

    def subtask(plan, parent, **owner):
        return SubTask.objects.create(plan=plan, parent=parent, title="Matrix", deadline=today, **owner)

    def worked_on(item, history_model, field):
        row = history_model(
            **{field: item},
            actor=admin,
            created_at=now,
            old_status="not_started",
            new_status="in_progress",
            old_progress=0,
            new_progress=10,
            note="matrix",
            version=2,
        )
        row.evidence_file.save("minutes.pdf", ContentFile(PDF), save=False)
        row.save()
        type(item).objects.filter(pk=item.pk).update(status="in_progress", progress=10, version=2)
        return row

    plans = {
        "agency": (
            local_plan("BCA-1", agency=worked["agency"][0].agency),
            local_plan("TANDTC-1", agency=worked["agency"][1].agency),
        ),
        "province": (local_plan("HN-1", province_id="01"), local_plan("HCM-1", province_id="79")),
    }
    parents = {
        "agency": (worked["agency"][0], worked["agency"][1]),
        "province": (worked["province"][0], worked["province"][1]),
    }
    subtasks = {
        "agency": tuple(subtask(plans["agency"][i], parents["agency"][i], department="Dept") for i in (0, 1)),
        "province": tuple(subtask(plans["province"][i], parents["province"][i], department="Dept") for i in (0, 1)),
        "commune": tuple(
            subtask(plans["province"][0], parents["province"][0], commune_id=code) for code in ("00004", "00008")
        ),
    }
    subtask_evidence = {
        kind: tuple(worked_on(s, SubTaskUpdate, "subtask") for s in pair) for kind, pair in subtasks.items()
    }

    # Inspections: A (Hà Nội, Ba Đình, BCA), B (HCMC, TANDTC, an HCMC commune), C (Ngọc Hà only).
    inspector = users["inspector"]
    inspector_scope = scope_for_user(inspector)

    def inspection(title, provinces=(), agencies=(), communes=()):
        found = Inspection.objects.create(title=title, starts_on=yesterday, ends_on=today, inspector=inspector)
        found.provinces.set(provinces)
        found.agencies.set(Agency.objects.filter(code__in=agencies))
        found.communes.set(communes)
        return found

    inspections = {
        "A": inspection("A", ["01"], ["BCA"], ["00004"]),
        "B": inspection("B", ["79"], ["TANDTC"], [hcmc_commune]),
        "C": inspection("C", communes=["00008"]),
    }

    def followup(which, unit):
        finding = finding_create(
            scope=inspector_scope,
            actor=inspector,
            inspection=inspections[which],
            unit=unit,
            visited_on=today,
            text="Matrix",
            severity="low",
            recommendation="Matrix",
            deadline=today,
        )
        return FollowUp.objects.get(finding=finding)

    followups = {
        "agency": (followup("A", "BCA"), followup("B", "TANDTC")),
        "province": (followup("A", "01"), followup("B", "79")),
        "commune": (followup("A", "00004"), followup("C", "00008")),
    }
    followup_evidence = {
        kind: tuple(worked_on(f, FollowUpUpdate, "followup") for f in pair) for kind, pair in followups.items()
    }

    def report_path(report):
        return f"{report.locality}/{report.date.isoformat()}"

    values = {
        "assignment": _per_kind(*({k if k != "commune" else "*": v[i].pk for k, v in worked.items()} for i in (0, 1))),
        "evidence": _per_kind(*({k if k != "commune" else "*": v[i].pk for k, v in evidence.items()} for i in (0, 1))),
        # An existing report (yesterday's): the caller's own (a province's own report for a province).
        "report": _per_kind(
            {"province": report_path(reports["01"]), "*": report_path(reports["00004"])},
            {"commune": report_path(reports["00008"]), "*": report_path(reports["79"])},
        ),
        # A locality to send a new report for.
        "locality": _per_kind({"province": "01", "*": "00004"}, {"commune": "00008", "*": hcmc_commune}),
        "support": _per_kind(
            {"*": reports["00004"].pk},
            {"commune": reports["00008"].pk, "*": reports[hcmc_commune].pk},
        ),
        "alert": {k: v.pk for k, v in alerts.items()},
        "incident": _per_kind(
            {"*": incidents["00004"].pk}, {"commune": incidents["00008"].pk, "*": incidents["hcmc"].pk}
        ),
        "incident_file": _per_kind({"*": files["00004"].pk}, {"commune": files["00008"].pk, "*": files["hcmc"].pk}),
        "team": _per_kind({"*": teams["01"].pk}, {"*": teams["79"].pk}),
        "notification": {k: v.pk for k, v in notifications.items()},
        "province": _per_kind({"*": "01"}, {"*": "79"}),
        # A commune: the clerk's own, or one of the province's; another: the neighbour, or one of HCMC.
        "commune": _per_kind({"*": "00004"}, {"commune": "00008", "*": hcmc_commune}),
        # A commune the province issues keys for.
        "key_commune": _per_kind({"*": "00008"}, {"*": hcmc_commune}),
        "agency": _per_kind({"*": "BCA"}, {"*": "TANDTC"}),
        # The task of the "other" assignment.
        "task": _per_kind(
            {"agency": "T15", "province": "T18", "*": "T30"}, {"agency": "T57", "province": "T18", "*": "T30"}
        ),
        "key": _per_kind({"*": own_key.pk}, {"*": other_key.pk}),
        # The warning of the "report" above.
        "warning": _per_kind(
            {"province": warnings["01"].pk, "*": warnings["00004"].pk},
            {"commune": warnings["00008"].pk, "*": warnings["79"].pk},
        ),
        "target": _per_kind({"*": "paper_replaced_procedures"}, {"*": "e_result_services"}),
        # Local plans: the caller's unit's (a clerk: its province's, which gives it a sub-task), another's.
        "plan": _per_kind(
            {"agency": plans["agency"][0].pk, "*": plans["province"][0].pk},
            {"agency": plans["agency"][1].pk, "*": plans["province"][1].pk},
        ),
        # An assignment a sub-task of that plan may be part of.
        "parent": _per_kind(
            {"agency": parents["agency"][0].pk, "*": parents["province"][0].pk},
            {"agency": parents["agency"][1].pk, "*": parents["province"][1].pk},
        ),
        "subtask": _per_kind(
            {
                "agency": subtasks["agency"][0].pk,
                "province": subtasks["province"][0].pk,
                "*": subtasks["commune"][0].pk,
            },
            {
                "agency": subtasks["agency"][1].pk,
                "province": subtasks["province"][1].pk,
                "*": subtasks["commune"][1].pk,
            },
        ),
        "subtask_evidence": _per_kind(
            {k if k != "commune" else "*": v[0].pk for k, v in subtask_evidence.items()},
            {k if k != "commune" else "*": v[1].pk for k, v in subtask_evidence.items()},
        ),
        "inspection": _per_kind({"*": inspections["A"].pk}, {"commune": inspections["C"].pk, "*": inspections["B"].pk}),
        # A unit of that inspection, for a finding.
        "finding_unit": _per_kind({"*": "00004"}, {"commune": "00008", "*": "79"}),
        "followup": _per_kind(
            {k if k != "commune" else "*": v[0].pk for k, v in followups.items()},
            {k if k != "commune" else "*": v[1].pk for k, v in followups.items()},
        ),
        "followup_evidence": _per_kind(
            {k if k != "commune" else "*": v[0].pk for k, v in followup_evidence.items()},
            {k if k != "commune" else "*": v[1].pk for k, v in followup_evidence.items()},
        ),
        # A filter that selects another unit's assignments only.
        "unit_filter": _per_kind(
            {"*": "province=01&level=province"},
            {
                "agency": "agency=TANDTC",
                "province": "province=79&level=province",
                "commune": "commune=00008",
                "*": "province=79&level=province",
            },
        ),
    }
    for choices in values.values():
        for which in ("own", "other"):
            choices.setdefault((which, "*"), choices.get((which, "none")))
    fixed = {
        "meeting": meeting.pk,
        "earlier": earlier.pk,
        "neighbour": "00008",
        "hcmc_commune": hcmc_commune,
    }
    versions = {a.pk: a.version for pair in worked.values() for a in pair}
    return World(users=users, keys=keys, values=values, fixed=fixed, versions=versions)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The personas, their keys and one object of each kind for their own unit and another, built once for
    the module and rolled back after it."""
    from django.db import transaction
    from django.test.utils import override_settings

    media = tmp_path_factory.mktemp("matrix-media")
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(MEDIA_ROOT=str(media), PASSWORD_HASHERS=fast), django_db_blocker.unblock():
        with transaction.atomic():
            built = build_world()
            yield built
            transaction.set_rollback(True)


@pytest.fixture(scope="module")
def clients(world, django_db_blocker):
    """A test client per role: sessions logged in once, keys sending `Authorization: Token <key>`."""
    from django.test import Client

    found = {"anonymous": Client(HTTP_ACCEPT_LANGUAGE="en")}
    with django_db_blocker.unblock():
        for role, user in world.users.items():
            client = Client(HTTP_ACCEPT_LANGUAGE="en")
            client.force_login(user)
            found[role] = client
    for role, key in world.keys.items():
        found[role] = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Token {key}")
    return found


# --- request bodies ----------------------------------------------------------------------------------------------


def _days_ago(n):
    import datetime

    from django.utils import timezone

    return timezone.localdate() - datetime.timedelta(days=n)


def _report_payload(locality, day):
    from tests.reports.helpers import payload

    return payload(locality, day)


def _form(data):
    return {"data": data}


def _json(data):
    return {"data": json.dumps(data), "content_type": "application/json"}


def _assignment_change(world, values):
    pk = values["assignment"]
    return {"status": "in_progress", "progress": 30, "note": "matrix", "version": world.versions[pk]}


def _report_form(world, values, which):
    data = {k: str(v) for k, v in _report_payload(values["locality"], _days_ago(2)).items() if k != "outage_systems"}
    data.pop("support_needed")
    return _form(data)


def _correction(values):
    locality, day = values["report"].split("/")
    body = _report_payload(locality, day)
    return {**body, "reason": "Figures recounted"}


def _xlsx(header, rows):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _bulk_file(world, role):
    from django.core.files.uploadedfile import SimpleUploadedFile

    rows = []
    for which in ("own", "other"):
        pk = world.context(role, which)["assignment"]
        rows.append([pk, world.versions[pk], "in_progress", 30, "matrix"])
    content = _xlsx(["id", "version", "status", "progress", "note"], rows)
    return _form({"file": SimpleUploadedFile("mine.xlsx", content)})


def _subtask_bulk_file(world, role):
    from django.core.files.uploadedfile import SimpleUploadedFile

    rows = [[world.context(role, which)["subtask"], 2, "in_progress", 30, "matrix"] for which in ("own", "other")]
    content = _xlsx(["id", "version", "status", "progress", "note"], rows)
    return _form({"file": SimpleUploadedFile("subtasks.xlsx", content)})


def _report_file(world, role):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reports import uploads

    own, other = (world.context(role, which)["locality"] for which in ("own", "other"))
    first = uploads.template_csv(_report_payload(own, _days_ago(2)))
    second = uploads.template_csv(_report_payload(other, _days_ago(2))).split("\r\n", 1)[1]
    return _form({"file": SimpleUploadedFile("reports.csv", (first + second).encode())})


def _subtask(values):
    return {
        "parent": values["parent"],
        "title": "Matrix",
        "department": "Dept",
        "deadline": _days_ago(-30).isoformat(),
        "weight": "1",
    }


def _change(version):
    return {"status": "in_progress", "progress": 30, "note": "matrix", "version": version}


def _finding(values):
    return {
        "unit": values["finding_unit"],
        "visited_on": _days_ago(0).isoformat(),
        "text": "Matrix",
        "severity": "low",
        "recommendation": "Matrix",
        "deadline": _days_ago(-30).isoformat(),
    }


BODIES = {
    "assignment_form": lambda world, role, which, values: _form(_assignment_change(world, values)),
    "assignment_json": lambda world, role, which, values: _json(_assignment_change(world, values)),
    "bulk_file": lambda world, role, which, values: _bulk_file(world, role),
    "subtask_bulk_file": lambda world, role, which, values: _subtask_bulk_file(world, role),
    "report_form": lambda world, role, which, values: _report_form(world, values, which),
    "report_correction_form": lambda world, role, which, values: _form(
        {k: str(v) for k, v in _correction(values).items() if k not in ("outage_systems", "support_needed")}
    ),
    "report_json": lambda world, role, which, values: _json(_report_payload(values["locality"], _days_ago(2))),
    "report_correction_json": lambda world, role, which, values: _json(_correction(values)),
    "report_batch": lambda world, role, which, values: _json(
        {"reports": [_report_payload(world.context(role, w)["locality"], _days_ago(2)) for w in ("own", "other")]}
    ),
    "report_file": lambda world, role, which, values: _report_file(world, role),
    "exception_form": lambda world, role, which, values: _form(
        {"locality": values["commune"], "date": _days_ago(10).isoformat(), "reason": "Power cut"}
    ),
    "key_form": lambda world, role, which, values: _form({"name": "Matrix desk", "locality": values["key_commune"]}),
    "target_form": lambda world, role, which, values: _form(
        {
            "value": "12",
            "measured_on": _days_ago(1).isoformat(),
            "evidence_url": "https://example.gov.vn/report.pdf",
            "note": "matrix",
        }
    ),
    "meeting_form": lambda world, role, which, values: _form({"title": "Matrix", "date": _days_ago(1).isoformat()}),
    "meeting_json": lambda world, role, which, values: _json({"title": "Matrix", "date": _days_ago(1).isoformat()}),
    "support_form": lambda world, role, which, values: _form({"resolution": "A scanner was lent."}),
    "support_json": lambda world, role, which, values: _json({"resolution": "A scanner was lent."}),
    "explanation_form": lambda world, role, which, values: _form({"indicator": "received_online", "text": "A fair."}),
    "explanation_json": lambda world, role, which, values: _json({"indicator": "received_online", "text": "A fair."}),
    "approval_form": lambda world, role, which, values: _form(
        {"date": _days_ago(1).isoformat(), "locality": [world.context(role, w)["locality"] for w in ("own", "other")]}
    ),
    "approval_json": lambda world, role, which, values: _json(
        {"date": _days_ago(1).isoformat(), "localities": [world.context(role, w)["locality"] for w in ("own", "other")]}
    ),
    "withdraw_json": lambda world, role, which, values: _json(
        {"date": _days_ago(1).isoformat(), "locality": values["report"].split("/")[0], "reason": "recount"}
    ),
    "preferences_form": lambda world, role, which, values: _form({"language": "en", "email_on": ["overdue"]}),
    "incident_form": lambda world, role, which, values: _form(
        {"category": "network", "severity": "question", "description": "matrix"}
    ),
    "incident_json": lambda world, role, which, values: _json(
        {"category": "network", "severity": "question", "description": "matrix"}
    ),
    "empty_json": lambda world, role, which, values: _json({}),
    "assign_json": lambda world, role, which, values: _json({"user": "matrix-support"}),
    "incident_json_at": lambda world, role, which, values: _json(
        {"category": "network", "severity": "question", "description": "matrix", "locality": values["locality"]}
    ),
    "reason_json": lambda world, role, which, values: _json({"reason": "matrix"}),
    "resolution_json": lambda world, role, which, values: _json({"resolution": "matrix"}),
    "comment_json": lambda world, role, which, values: _json({"text": "matrix"}),
    "plan_form": lambda world, role, which, values: _form(
        {"number": "Matrix-2", "date": _days_ago(1).isoformat(), "title": "Matrix"}
    ),
    "plan_json": lambda world, role, which, values: _json(
        {"number": "Matrix-2", "date": _days_ago(1).isoformat(), "title": "Matrix"}
    ),
    "subtask_form": lambda world, role, which, values: _form(_subtask(values)),
    "subtask_json": lambda world, role, which, values: _json({**_subtask(values), "plan": values["plan"]}),
    "subtask_change_form": lambda world, role, which, values: _form(_change(2)),
    "subtask_change_json": lambda world, role, which, values: _json(_change(2)),
    "inspection_form": lambda world, role, which, values: _form(
        {
            "title": "Matrix",
            "starts_on": _days_ago(1).isoformat(),
            "ends_on": _days_ago(0).isoformat(),
            "provinces": "01",
        }
    ),
    "inspection_json": lambda world, role, which, values: _json(
        {
            "title": "Matrix",
            "starts_on": _days_ago(1).isoformat(),
            "ends_on": _days_ago(0).isoformat(),
            "provinces": ["01"],
        }
    ),
    "finding_form": lambda world, role, which, values: _form(_finding(values)),
    "finding_json": lambda world, role, which, values: _json(_finding(values)),
}


# --- what an answer shows ---------------------------------------------------------------------------------------


def _body(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _data_rows(response):
    """The data rows of a list answer: JSON results, an HTML page's `page`, a CSV's or XLSX's rows."""
    content_type = response.get("Content-Type", "")
    if content_type.startswith("application/json"):
        data = json.loads(_body(response))
        return data["results"] if isinstance(data, dict) else data
    # Notes (the demo-catalogue label, a coverage line) are one-cell rows: a data row has the header's cells.
    if content_type.startswith("text/csv"):
        rows = list(csv.reader(io.StringIO(_body(response).decode("utf-8-sig"))))
    elif "spreadsheetml" in content_type:
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(_body(response)), read_only=True)
        rows = [[c for c in r if c not in (None, "")] for r in workbook.worksheets[0].iter_rows(values_only=True)]
        workbook.close()
    else:
        return list(response.context["page"])
    rows = [r for r in rows if len(r) > 1]
    return rows[1:]


def _marks(outcomes):
    return "".join("✓" if ok else "✗" for ok in outcomes)


def _keys_of_other_province(response, values):
    return "" if any(c.commune and c.commune.province_id == "79" for c in response.context["clients"]) else "∅"


def _assignment_listed(response, values):
    """The other unit's assignment among a task page's rows or in its history."""
    pk = values["assignment"]
    listed = {a.pk for a in response.context["page"]} | {u.assignment_id for u in response.context["history"]}
    return "" if pk in listed else "∅"


PROBES = {
    "rows": lambda response, values: "" if _data_rows(response) else "∅",
    "province_shown": lambda response, values: "" if response.context["province"].pk == "79" else "∅",
    "communes_listed": lambda response, values: "" if response.context["communes"] else "∅",
    "keys_listed": _keys_of_other_province,
    "assignment_listed": _assignment_listed,
    "completeness_rows": lambda response, values: "" if json.loads(response.content)["provinces"] else "∅",
    "bulk_plan": lambda response, values: _marks(row.outcome == "change" for row in response.context["plan"].rows),
    "upload_results": lambda response, values: _marks(
        r["outcome"].status in ("created", "unchanged") for r in response.context["results"]
    ),
    # ✓ the locality was in the caller's scope (approved, or waiting for its warnings), ✗ outside_scope.
    "approval_results": lambda response, values: _marks(
        r["status"] != "outside_scope" for r in json.loads(response.content)["results"]
    ),
    "batch_results": lambda response, values: _marks(
        r["status"] in ("created", "unchanged") for r in json.loads(response.content)["results"]
    ),
}


# --- the matrix ---------------------------------------------------------------------------------------------------


def _fast_path(row, path, key, body):
    """The request through the WSGI application (reports.fastpath in front of Django), as a key sends it: its
    status, and whether the full stack behind the fast path answered instead."""
    from wsgiref.util import setup_testing_defaults

    from plan02.wsgi import application
    from reports.fastpath import ReportSubmitFastPath

    assert isinstance(application, ReportSubmitFastPath), "the fast path is off (PLAN02_REPORT_FAST_PATH)"
    data = body["data"].encode()
    environ = {}
    setup_testing_defaults(environ)
    environ.update(
        {
            "REQUEST_METHOD": row.method,
            "PATH_INFO": path.split(" ")[0],
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(data)),
            "wsgi.input": io.BytesIO(data),
            "HTTP_HOST": "testserver",
            "SERVER_NAME": "testserver",
            "HTTP_ACCEPT_LANGUAGE": "en",
            **({"HTTP_AUTHORIZATION": f"Token {key}"} if key else {}),
        }
    )
    answer, full_stack, django = {}, [], application.app

    def start_response(status, headers):
        answer["status"] = int(status.split()[0])

    def behind(environ, start_response):
        full_stack.append(True)
        return django(environ, start_response)

    application.app = behind
    try:
        b"".join(application(environ, start_response))
    finally:
        application.app = django
    return answer["status"], bool(full_stack)


def _cell(row, role, world, clients):
    """What the role gets for the row: its cell, as the table writes it."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, transaction
    from django.urls import resolve

    from reports.auth import keys_forget

    which = "other" if row.target == "other" else "own"
    values = world.context(role, which)
    path = row.path.format(**values)
    url = path.split("?")[0]
    assert resolve(url.split(" ")[0]).view_name == row.route, f"{path} is not {row.route}"
    body = BODIES[row.data](world, role, which, values) if row.data else {}
    with transaction.atomic():
        if row.fast:
            keys_forget()
            for signal in (request_started, request_finished):
                signal.disconnect(close_old_connections)
            try:
                status, full_stack = _fast_path(row, path, world.keys.get(role), body)
            finally:
                keys_forget()  # the keys it looked up are rolled back below
                for signal in (request_started, request_finished):
                    signal.connect(close_old_connections)
            transaction.set_rollback(True)
            return f"{status} (full stack)" if full_stack and role in KEY_ROLES else str(status)
        client = clients[role]
        response = getattr(client, row.method.lower())(path, **body)
        cell = str(response.status_code)
        if response.status_code == 302:
            to_login = response["Location"].startswith("/accounts/login/")
            if to_login != (role not in SESSION_ROLES):
                cell += " (to login)" if to_login else f" (to {response['Location']})"
        elif 200 <= response.status_code < 300 and row.probe:
            cell += PROBES[row.probe](response, values)
        transaction.set_rollback(True)
    return cell


@pytest.fixture(scope="module")
def _schema_once():
    """The OpenAPI schema is the same for every reader (who may read it is the view's permission check, which
    runs for each request): generated once for the module instead of once per role."""
    from drf_spectacular.generators import SchemaGenerator

    original, generated = SchemaGenerator.get_schema, {}

    def get_schema(self, request=None, public=False):
        if public not in generated:
            generated[public] = original(self, request=request, public=public)
        return generated[public]

    SchemaGenerator.get_schema = get_schema
    yield
    SchemaGenerator.get_schema = original


@pytest.mark.django_db
@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_permission_matrix(row, world, clients, _schema_once):
    expected = {role: cell for role, cell in row.expect.items() if cell != "—"}
    got = {role: _cell(row, role, world, clients) for role in expected}
    wrong = {role: f"{got[role]} (table: {cell})" for role, cell in expected.items() if got[role] != cell}
    assert not wrong, f"{row.request} [{row.target}]: {wrong}"


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        write_readme()
    else:
        sys.stdout.write(render_table())
