"""The audit trail (DESIGN.md §10; audit): every write records who and when, and inspectors and the
national admin read it in one place — each source through its real write path, then the filters, who may
read it, its fixed number of queries, the export, and the secrets it never records."""

import csv
import datetime
import io

import pytest
from auditlog.models import LogEntry as RecordChange
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.utils import timezone, translation
from openpyxl import load_workbook

from audit.registry import audited_models
from audit.trail import TrailFilter, audit_trail, describe
from dashboards.models import Meeting, Target, TargetValue
from localities.models import DataVersion
from reports.models import ApiClient, LockException, ReportRevision
from reports.services import api_client_issue, daily_report_submit
from tasks.models import Agency, Assignment, CatalogueImport, Membership, Role, StatusUpdate
from tests.conftest import DEMO_CATALOGUE, make_user
from tests.reports.helpers import days_ago, payload

pytestmark = pytest.mark.django_db

API = "/api/v1/audit/"
PAGE = "/audit/"


@pytest.fixture
def browser(client):
    """The test client as a reader who chose English (the portal opens in Vietnamese otherwise)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def vpcp_officer(db):
    """An officer of the Government Office (VPCP), which enters the values of the portal targets."""
    return make_user("officer-vpcp", Role.AGENCY_OFFICER, agency="VPCP")


@pytest.fixture
def bca_assignment(db):
    return Assignment.objects.select_related("task").get(task__code="T15", agency__code="BCA")


def trail(**filters):
    return [describe(row) for row in audit_trail(TrailFilter(**filters))]


def latest(kind, **filters):
    events = trail(kind=kind, **filters)
    assert events, f"no {kind} in the trail"
    return events[0]


# --- each source, through its real write path, shows who and when ------------------------------------------


def test_an_assignment_update_shows_its_officer_and_time(api_for, agency_officer, bca_assignment):
    body = {"status": "in_progress", "progress": 40, "version": bca_assignment.version, "note": "Started"}
    response = api_for(user=agency_officer).post(
        f"/api/v1/assignments/{bca_assignment.pk}/updates/", body, format="json"
    )
    assert response.status_code == 201
    update = StatusUpdate.objects.get(assignment=bca_assignment)
    event = latest("assignment_update")
    assert (event["actor"], event["at"]) == ("officer-bca", update.created_at)
    assert event["object"]["code"] == "T15" and event["object"]["url"] == f"/tasks/assignments/{bca_assignment.pk}/"
    assert event["object"]["label"].startswith("BCA")
    assert [(c["old"], c["new"]) for c in event["changes"]] == [("not started", "in progress"), ("0", "40")]
    assert event["note"] == "Started"


def test_a_report_sent_with_a_key_and_corrected_by_the_province(browser, api_for, commune_key, province_officer):
    client, key = commune_key
    assert api_for(key).post("/api/v1/reports/daily/", payload(), format="json").status_code == 201
    submitted = latest("report_submitted")
    first = ReportRevision.objects.get(number=1)
    assert submitted["actor"] is None and submitted["at"] == first.created_at
    assert submitted["api_client"] == {"key_prefix": client.key_prefix, "name": client.name}
    assert submitted["object"]["code"] == "00004"
    assert submitted["object"]["url"] == f"/reports/00004/{days_ago(1).isoformat()}/"

    browser.force_login(province_officer)
    url = f"/reports/00004/{days_ago(1).isoformat()}/correct/"
    data = {k: str(v) for k, v in payload(returned=6).items() if k not in ("outage_systems", "support_needed")}
    response = browser.post(url, {**data, "outage_systems": ["vneid"], "reason": "Counted twice"})
    assert response.status_code == 302
    corrected = latest("report_corrected")
    second = ReportRevision.objects.get(number=2)
    assert (corrected["actor"], corrected["at"], corrected["note"]) == (
        "officer-hanoi",
        second.created_at,
        "Counted twice",
    )
    assert corrected["api_client"] is None and "revision 2" in corrected["summary"]
    assert [e["kind"] for e in trail(q="00004", kind="report_submitted")] == ["report_submitted"]
    assert [e["kind"] for e in trail(q="00004", kind="report_corrected")] == ["report_corrected"]


def test_a_catalogue_import_shows_who_imported_it(admin_user):
    call_command("import_tasks", str(DEMO_CATALOGUE), "--apply", "--user", "nat-admin", stdout=io.StringIO())
    with translation.override("en"):
        event = latest("catalogue_import", actor="nat-admin")
    assert event["at"] == CatalogueImport.objects.latest("imported_at").imported_at
    assert event["object"]["code"] == "demo_tasks.csv" and "67 unchanged" in event["summary"]


def test_keys_issued_and_revoked_by_a_province_officer(browser, province_officer):
    browser.force_login(province_officer)
    issued = browser.post("/reports/keys/", {"name": "Ba Đình desk", "locality": "00004"})
    key = issued.context["key"]
    client = ApiClient.objects.get(name="Ba Đình desk")
    assert browser.post(f"/reports/keys/{client.pk}/revoke/").status_code == 302
    client.refresh_from_db()
    issue, revoke = latest("key_issued"), latest("key_revoked")
    assert (issue["actor"], issue["at"]) == ("officer-hanoi", client.created_at)
    assert (revoke["actor"], revoke["at"]) == ("officer-hanoi", client.revoked_at)
    assert issue["object"]["code"] == key[:12] and issue["object"]["label"] == "00004"
    # The key's creation is the "key issued" event, not a second "record changed" line.
    assert not trail(kind="record_change", q="Ba Đình desk")
    assert key not in str(trail()) and client.key_hash not in str(trail())


def test_a_lock_exception_shows_the_officer_who_granted_it(browser, province_officer):
    browser.force_login(province_officer)
    old = days_ago(20)
    response = browser.post(
        "/reports/province/exceptions/", {"locality": "00004", "date": old.isoformat(), "reason": "flood"}
    )
    assert response.status_code == 302
    event = latest("lock_exception")
    exception = LockException.objects.get()
    assert (event["actor"], event["at"], event["note"]) == ("officer-hanoi", exception.granted_at, "flood")
    assert (event["object"]["code"], event["object"]["label"]) == ("00004", old.isoformat())


def test_a_meeting_shows_the_member_who_froze_it(api_for, steering):
    response = api_for(user=steering).post(
        "/api/v1/meetings/", {"title": "Phiên họp tháng 11", "date": days_ago(1).isoformat()}, format="json"
    )
    assert response.status_code == 201
    meeting = Meeting.objects.get()
    event = latest("meeting_frozen")
    assert (event["actor"], event["at"]) == ("steering-member", meeting.created_at)
    assert (
        event["object"]["code"] == "Phiên họp tháng 11"
        and event["object"]["url"] == f"/dashboard/meetings/{meeting.pk}/"
    )


def test_a_target_value_shows_the_officer_who_entered_it(browser, vpcp_officer):
    browser.force_login(vpcp_officer)
    response = browser.post(
        "/dashboard/targets/e_result_services/",
        {"value": "981", "measured_on": days_ago(1).isoformat(), "evidence_url": "https://x.gov.vn/e", "note": "Q3"},
    )
    assert response.status_code == 302
    value = TargetValue.objects.get()
    event = latest("target_value")
    assert (event["actor"], event["at"], event["note"]) == ("officer-vpcp", value.entered_at, "Q3")
    assert event["object"]["code"] == "e_result_services"
    assert event["object"]["url"] == "/dashboard/targets/e_result_services/"


def test_a_role_changed_in_the_admin_shows_the_admin_and_the_old_and_new_role(browser, admin_user, inspector, api_for):
    membership = Membership.objects.get(user=inspector)
    browser.force_login(admin_user)
    url = f"/admin/tasks/membership/{membership.pk}/change/"
    assert browser.get(url).status_code == 200
    form = {"user": inspector.pk, "role": Role.STEERING, "agency": "", "province": "", "commune": "", "_save": "Save"}
    response = browser.post(url, form)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    entry = RecordChange.objects.get_for_object(membership).latest("timestamp")
    assert entry.actor == admin_user
    body = api_for(user=admin_user).get(API, {"kind": "record_change", "actor": "nat-admin"}).json()
    event = body["results"][0]
    assert event["object"]["type"] == "tasks.membership" and event["action"] == "update"
    assert event["changes"] == [{"field": "role", "old": "inspector", "new": "steering committee"}]
    assert event["at"] == timezone.localtime(entry.timestamp).isoformat()


def test_the_admins_other_changes_are_in_the_trail_too(browser, admin_user):
    """Records auditlog does not keep field by field still show what the admin did to them (Django's own
    admin log), e.g. a catalogue import's record deleted."""
    record = CatalogueImport.objects.create(
        imported_by="x", filename="old.csv", checksum="0", created=0, updated=0, unchanged=0
    )
    browser.force_login(admin_user)
    response = browser.post(f"/admin/tasks/catalogueimport/{record.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    event = trail(kind="record_change", actor="nat-admin")[0]
    assert event["object"]["type"] == "tasks.catalogueimport" and event["action"] == "delete"
    assert event["object"]["code"] == str(record)


# --- what is never recorded ---------------------------------------------------------------------------------


def _everything_recorded():
    rows = RecordChange.objects.values_list("changes", "changes_text", "serialized_data", "object_repr")
    return str(list(rows)) + str(list(LogEntry.objects.values_list("change_message", "object_repr")))


def test_passwords_and_key_hashes_never_reach_the_trail(browser, admin_user, commune_clerk):
    browser.force_login(admin_user)
    change = browser.post(
        f"/admin/auth/user/{commune_clerk.pk}/password/",
        {"password1": "An0ther-secret-pass", "password2": "An0ther-secret-pass", "usable_password": "true"},
    )
    assert change.status_code == 302
    commune_clerk.refresh_from_db()
    issued = browser.post("/admin/reports/apiclient/add/", {"name": "Ba Đình desk", "locality": "00004"})
    key = issued.context["key"]
    client = ApiClient.objects.get(name="Ba Đình desk")
    renamed = browser.post(
        f"/admin/reports/apiclient/{client.pk}/change/", {"name": "Ba Đình one-stop desk", "_save": "Save"}
    )
    assert renamed.status_code == 302
    recorded = _everything_recorded()
    export = browser.get(PAGE, {"export": "csv"}).getvalue().decode()
    for secret in (commune_clerk.password, commune_clerk.password.split("$")[-1], key, client.key_hash):
        assert secret not in recorded and secret not in export
    assert "pbkdf2" not in recorded and "key_hash" not in recorded
    # That a password was set, by whom and when, is recorded (by the admin's own log), without the password.
    password_set = trail(kind="record_change", q=str(commune_clerk.pk), actor="nat-admin")
    assert [e["object"]["type"] for e in password_set] == ["auth.user"]
    assert "password" in password_set[0]["summary"].lower()
    rename = trail(kind="record_change", q=str(client.pk))[0]
    assert [c["field"] for c in rename["changes"]] == ["name"] and rename["actor"] == "nat-admin"


def test_the_audited_models_include_every_record_people_edit():
    labels = {model._meta.label for model in audited_models()}
    assert {
        "auth.User",
        "tasks.Membership",
        "tasks.Agency",
        "tasks.Phase",
        "tasks.TaskGroup",
        "tasks.Task",
        "reports.ApiClient",
        "reports.LockException",
        "dashboards.Target",
        "localities.Province",
        "localities.Commune",
    } <= labels


def test_a_login_leaves_no_entry(client, commune_clerk):
    before = RecordChange.objects.count()
    response = client.post("/accounts/login/", {"username": "clerk-badinh", "password": "pw-" + "x" * 12})
    assert response.status_code == 302
    commune_clerk.refresh_from_db()
    assert commune_clerk.last_login is not None  # the login saved the user, and left no entry
    assert RecordChange.objects.count() == before


# --- filters ------------------------------------------------------------------------------------------------


def local(day, hour, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def dated_history(agency_officer, province_officer, vpcp_officer, bca_assignment):
    """Three events on three days of September 2025, long before everything the fixtures record today."""
    StatusUpdate.objects.create(
        assignment=bca_assignment,
        actor=agency_officer,
        created_at=local(datetime.date(2025, 9, 1), 23, 30),  # late in the day, local time
        old_status="not_started",
        new_status="in_progress",
        old_progress=0,
        new_progress=10,
        version=2,
    )
    exception = LockException.objects.create(
        locality="00004", date=datetime.date(2025, 8, 20), granted_by=province_officer
    )
    LockException.objects.filter(pk=exception.pk).update(granted_at=local(datetime.date(2025, 9, 3), 9))
    TargetValue.objects.create(
        target=Target.objects.get(code="e_result_services"),
        value=900,
        measured_on=datetime.date(2025, 9, 4),
        entered_by=vpcp_officer,
        entered_at=local(datetime.date(2025, 9, 5), 8),
    )


def _kinds(events):
    return [event["kind"] for event in events]


def test_filters_by_day_in_local_time(dated_history):
    sept = {"date_after": datetime.date(2025, 9, 1), "date_before": datetime.date(2025, 9, 30)}
    assert _kinds(trail(**sept)) == ["target_value", "lock_exception", "assignment_update"]
    assert _kinds(trail(date_before=datetime.date(2025, 9, 1))) == ["assignment_update"]
    assert _kinds(trail(date_after=datetime.date(2025, 9, 2), date_before=datetime.date(2025, 9, 4))) == [
        "lock_exception"
    ]


def test_filters_by_kind_actor_and_object(dated_history):
    sept = {"date_after": datetime.date(2025, 9, 1), "date_before": datetime.date(2025, 9, 30)}
    assert _kinds(trail(kind="target_value")) == ["target_value"]
    assert _kinds(trail(actor="OFFICER-HANOI", **sept)) == ["lock_exception"]
    assert _kinds(trail(q="00004", **sept)) == ["lock_exception"]
    assert _kinds(trail(q="t15", **sept)) == ["assignment_update"]
    assert _kinds(trail(q="BCA", kind="assignment_update")) == ["assignment_update"]
    assert trail(actor="nobody") == []


def test_the_api_takes_the_same_filters_and_names_a_bad_one(api_for, inspector, dated_history):
    api = api_for(user=inspector)
    body = api.get(API, {"date_after": "2025-09-01", "date_before": "2025-09-30", "actor": "officer-vpcp"}).json()
    assert body["count"] == 1 and body["results"][0]["kind"] == "target_value"
    bad = api.get(API, {"date_after": "01/09/2025", "kind": "everything"})
    assert bad.status_code == 400
    errors = bad.json()["errors"]
    assert errors["date_after"][0]["code"] == "invalid_date" and errors["kind"][0]["code"] == "invalid_choice"
    backwards = api.get(API, {"date_after": "2025-09-02", "date_before": "2025-09-01"})
    assert backwards.status_code == 400 and "date_before" in backwards.json()["errors"]


def test_the_page_shows_the_filtered_trail_with_links(browser, inspector, dated_history, bca_assignment):
    browser.force_login(inspector)
    page = browser.get(PAGE, {"date_after": "2025-09-01", "date_before": "2025-09-30"})
    assert page.status_code == 200
    assert [event["kind"] for event in page.context["events"]] == [
        "target_value",
        "lock_exception",
        "assignment_update",
    ]
    assert f'href="/tasks/assignments/{bca_assignment.pk}/"' in page.text and "officer-hanoi" in page.text
    assert browser.get(PAGE, {"date_after": "soon"}).status_code == 400


# --- who may read it ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["inspector", "admin_user"])
def test_inspectors_and_the_admin_read_the_trail(request, browser, api_for, persona):
    user = request.getfixturevalue(persona)
    browser.force_login(user)
    page = browser.get("/")
    assert {"url": PAGE, "label": "Audit trail", "active": False} in page.context["nav_items"]
    assert browser.get(PAGE).status_code == 200
    assert api_for(user=user).get(API).status_code == 200


@pytest.mark.parametrize("persona", ["steering", "agency_officer", "province_officer", "commune_clerk"])
def test_other_roles_may_not_read_the_trail(request, browser, api_for, persona):
    user = request.getfixturevalue(persona)
    browser.force_login(user)
    assert PAGE not in [item["url"] for item in browser.get("/").context["nav_items"]]
    assert browser.get(PAGE).status_code == 403
    assert browser.get(PAGE, {"export": "csv"}).status_code == 403
    response = api_for(user=user).get(API)
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


@pytest.mark.parametrize("key", ["commune_key", "province_key"])
def test_api_keys_may_not_read_the_trail(request, api_for, key):
    assert api_for(request.getfixturevalue(key)[1]).get(API).status_code == 403


def test_the_trail_needs_a_login(client):
    assert client.get(PAGE).status_code == 302
    assert client.get(API).status_code == 401


# --- a fixed number of queries, whatever the size of the history -------------------------------------------


def _grow(n, *, agency_officer, province_officer, steering, vpcp_officer, assignment):
    """n more events of every source."""
    client, _key = api_client_issue(name=f"desk {ApiClient.objects.count()}", locality="00004")
    start = StatusUpdate.objects.filter(assignment=assignment).count() + 2
    target = Target.objects.get(code="e_result_services")
    agency = Agency.objects.get(code="BCA")
    data_version = ContentType.objects.get_for_model(DataVersion)
    now = timezone.now()
    for i in range(n):
        StatusUpdate.objects.create(
            assignment=assignment,
            actor=agency_officer,
            created_at=now,
            old_status="in_progress",
            new_status="in_progress",
            old_progress=i % 100,
            new_progress=(i + 1) % 100,
            version=start + i,
            note="=SUM(A1)" if i == 0 else "",
        )
        daily_report_submit(payload=payload(day=days_ago(1 + (StatusUpdate.objects.count() % 6))), client=client)
        CatalogueImport.objects.create(
            imported_by="nat-admin", filename=f"c{i}.csv", checksum="0", created=0, updated=0, unchanged=0
        )
        api_client_issue(name=f"desk {ApiClient.objects.count()}", locality="00008")
        LockException.objects.create(
            locality="00008", date=days_ago(30 + ApiClient.objects.count()), granted_by=province_officer
        )
        Meeting.objects.create(title=f"M{i}", date=days_ago(1), content={}, created_by=steering, created_at=now)
        TargetValue.objects.create(
            target=target, value=i, measured_on=days_ago(1), entered_by=vpcp_officer, entered_at=now
        )
        agency.short_name = f"B{ApiClient.objects.count()}"
        agency.save()
        LogEntry.objects.create(
            user=steering,
            content_type=data_version,
            object_id="1",
            object_repr="v",
            action_flag=CHANGE,
            change_message="[]",
        )


@pytest.fixture
def grow(agency_officer, province_officer, steering, vpcp_officer, bca_assignment):
    def more(n):
        _grow(
            n,
            agency_officer=agency_officer,
            province_officer=province_officer,
            steering=steering,
            vpcp_officer=vpcp_officer,
            assignment=bca_assignment,
        )

    return more


# Session, user, membership (the scope), the count, the page, the bell's unread count.
PAGE_QUERIES = 6
API_QUERIES = 5


def test_the_page_runs_the_same_queries_at_two_sizes_of_history(browser, inspector, grow, django_assert_num_queries):
    browser.force_login(inspector)
    grow(2)
    with django_assert_num_queries(PAGE_QUERIES):
        small = browser.get(PAGE)
    grow(40)
    with django_assert_num_queries(PAGE_QUERIES):
        large = browser.get(PAGE, {"page": "2"})
    assert len(small.context["events"]) == len(large.context["events"]) == 50
    assert large.context["page"].paginator.count >= small.context["page"].paginator.count + 8 * 40


def test_the_api_runs_the_same_queries_at_two_sizes_of_history(api_for, admin_user, grow, django_assert_num_queries):
    api = api_for(user=admin_user)
    grow(2)
    with django_assert_num_queries(API_QUERIES):
        small = api.get(API).json()
    grow(40)
    with django_assert_num_queries(API_QUERIES):
        large = api.get(API, {"page": 3}).json()
    assert len(small["results"]) == len(large["results"]) == 50
    assert large["count"] > small["count"]
    kinds = {event["kind"] for event in api.get(API, {"page_size": 1000}).json()["results"]}
    assert kinds >= {
        "assignment_update",
        "report_submitted",
        "catalogue_import",
        "key_issued",
        "lock_exception",
        "meeting_frozen",
        "target_value",
        "record_change",
    }


def test_pages_never_overlap(api_for, admin_user, grow):
    """Events of one instant keep one order (time, then kind, then the source's id), page after page."""
    grow(10)
    api = api_for(user=admin_user)
    first = api.get(API, {"page_size": 30}).json()["results"]
    second = api.get(API, {"page_size": 30, "page": 2}).json()["results"]
    both = api.get(API, {"page_size": 60}).json()["results"]
    assert first + second == both


# --- export -------------------------------------------------------------------------------------------------


def test_the_export_keeps_a_formula_like_note_as_text(browser, inspector, grow):
    grow(1)
    browser.force_login(inspector)
    response = browser.get(PAGE, {"export": "csv", "kind": "assignment_update"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.getvalue().decode().lstrip("\ufeff"))))
    header, first = rows[0], rows[1]
    assert header[:3] == ["time", "kind", "who"] and len(rows) == 2
    assert first[header.index("note")] == "'=SUM(A1)" and first[2] == "officer-bca"

    response = browser.get(PAGE, {"export": "xlsx", "kind": "assignment_update"})
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows())
    note = rows[1][[cell.value for cell in rows[0]].index("note")]
    assert note.value == "=SUM(A1)" and note.data_type == "s" and note.quotePrefix
