"""GET /api/v1/changes/: the events other systems read, scoped, in an order that skips none, with a signed
cursor, a type filter and a 90-day retention (DESIGN.md §14)."""

import datetime
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from core import events
from core.models import Event
from integrations import feed, services
from integrations.models import FeedMark
from reports.models import DailyReport
from reports.services import api_client_issue
from tasks.roles import Role, Scope
from tests.reports.helpers import payload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _as_if_committed(monkeypatch):
    """On PostgreSQL the feed reads only transactions older than every one still open, and each test runs in
    a transaction that stays open: these tests read as if it had committed. The horizon itself is tested
    with real transactions (test_transactions_committing_out_of_order_…)."""
    monkeypatch.setattr(feed, "horizon", lambda: 2**62 if connection.vendor == "postgresql" else None)
    monkeypatch.setattr(feed, "state", lambda: (feed.horizon(), feed.purge_mark()))


FEED = "/api/v1/changes/"
REAL_HORIZON, REAL_STATE = feed.horizon, feed.state  # before _as_if_committed replaces them
PROBE = events.declare("test.feed_probe", "An event of the feed's tests")


def read_all(client, *, cursor=None, limit=None, **params):
    """Follow the cursor to the end: (every event, the last cursor, the number of pages)."""
    got, pages = [], 0
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {}), **({"limit": limit} if limit else {})}
        response = client.get(FEED, query)
        assert response.status_code == 200, response.content
        body = response.json()
        got += body["events"]
        cursor, pages = body["cursor"], pages + 1
        if not body["has_more"]:
            return got, cursor, pages


def probe(n, **where):
    with transaction.atomic():
        return [events.emit(PROBE, subject="probe", subject_id=i, **where) for i in range(n)]


def test_a_key_reads_its_own_reports_events_and_not_its_neighbours(
    api_for, commune_key, other_commune_key, province_key, outsider_province_key, national_key
):
    assert api_for(commune_key[1]).post("/api/v1/reports/daily/", payload("00004"), format="json").status_code == 201
    assert (
        api_for(other_commune_key[1]).post("/api/v1/reports/daily/", payload("00008"), format="json").status_code == 201
    )
    mine, _cursor, _pages = read_all(api_for(commune_key[1]))
    assert [(e["type"], e["commune"], e["province"]) for e in mine] == [("report.accepted", "00004", "01")]
    report = DailyReport.objects.get(locality="00004")
    assert mine[0]["subject_id"] == str(report.pk)
    assert mine[0]["data"] == {
        "locality": "00004",
        "date": payload()["date"],
        "receipt": report.receipt,
        "revision": 1,
        "late": report.late,
    }
    assert "actor" not in mine[0]  # who did it is the audit trail's, read by inspectors only
    assert {e["commune"] for e in read_all(api_for(province_key[1]))[0]} == {"00004", "00008"}
    assert read_all(api_for(outsider_province_key[1]))[0] == []
    assert len(read_all(api_for(national_key[1]))[0]) == 2


def test_sessions_are_scoped_like_every_list(
    api_for, steering, inspector, agency_officer, province_officer, commune_clerk, other_commune_clerk
):
    probe(1, province="01", commune="00004", agency="BCA")
    probe(1, province="79", commune="26734")
    probe(1)  # national: read-all readers only
    seen = {user.username: len(read_all(api_for(user=user))[0]) for user in (steering, inspector)}
    assert seen == {steering.username: 3, inspector.username: 3}
    assert len(read_all(api_for(user=agency_officer))[0]) == 1
    assert len(read_all(api_for(user=province_officer))[0]) == 1
    assert len(read_all(api_for(user=commune_clerk))[0]) == 1
    assert read_all(api_for(user=other_commune_clerk))[0] == []


def test_the_cursor_pages_through_every_event_once(api_for, steering):
    written = probe(7)
    client = api_for(user=steering)
    got, cursor, pages = read_all(client, limit=3)
    assert [e["id"] for e in got] == [e.pk for e in written]
    assert pages == 3
    # Nothing new: the same cursor comes back, with nothing; new events follow it.
    assert client.get(FEED, {"cursor": cursor}).json() == {"events": [], "cursor": cursor, "has_more": False}
    more = probe(2)
    assert [e["id"] for e in read_all(client, cursor=cursor)[0]] == [e.pk for e in more]


def test_types_filter(api_for, steering):
    probe(2)
    with transaction.atomic():
        events.emit(services.events.declared()["meeting.frozen"], subject="meeting", subject_id=1)
    client = api_for(user=steering)
    assert [e["type"] for e in read_all(client, types="meeting.frozen")[0]] == ["meeting.frozen"]
    assert len(read_all(client, types="meeting.frozen,test.feed_probe")[0]) == 3


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"cursor": "not-a-cursor"}, "cursor", "invalid_cursor"),
        ({"cursor": feed.Position(1, 2).encode()[:-3] + "AAA"}, "cursor", "invalid_cursor"),  # signature altered
        ({"types": "report.accepted,report.deleted"}, "types", "unknown_type"),
        ({"limit": "0"}, "limit", "invalid"),
        ({"limit": "1001"}, "limit", "invalid"),
        ({"limit": "ten"}, "limit", "invalid"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(api_for, steering, params, field, code):
    response = api_for(user=steering).get(FEED, params)
    assert response.status_code == 400
    assert response.json()["errors"][field][0]["code"] == code


def test_a_cursor_signed_with_another_key_is_refused(api_for, steering, settings):
    token = feed.Position(5, 5).encode()
    settings.SECRET_KEY = "another-" + "k" * 50
    assert api_for(user=steering).get(FEED, {"cursor": token}).json()["errors"]["cursor"][0]["code"] == "invalid_cursor"


def test_a_cursor_older_than_the_retention_answers_410_with_what_to_do(api_for, steering, settings):
    old = probe(3)
    Event.objects.filter(pk__in=[e.pk for e in old]).update(
        occurred_at=timezone.now() - datetime.timedelta(days=settings.EVENTS_RETENTION_DAYS + 1)
    )
    recent = probe(2)
    client = api_for(user=steering)
    first = client.get(FEED, {"limit": 1}).json()  # a reader that read one old event, then stopped
    assert services.events_purge() == 3
    response = client.get(FEED, {"cursor": first["cursor"]})
    assert response.status_code == 410
    body = response.json()
    assert body["code"] == "cursor_expired" and body["retention_days"] == settings.EVENTS_RETENTION_DAYS
    # Starting again without a cursor reads what is kept; a cursor past the purged events is still good.
    assert [e["id"] for e in read_all(client)[0]] == [e.pk for e in recent]
    assert services.events_purge() == 0


def test_the_python_and_sql_forms_of_visibility_agree():
    from tasks.models import Agency

    probe(1, province="01", commune="00004", agency="BCA")
    probe(1, province="01", agency="BCA")
    probe(1, province="79", commune="26734", agency="TANDTC")
    probe(1)
    bca = Agency.objects.get(code="BCA")
    scopes = [
        Scope(role=Role.STEERING),
        Scope(role=Role.PROVINCE_OFFICER, province_id="01"),
        Scope(role=Role.PROVINCE_OFFICER, province_id="79"),
        Scope(role=Role.COMMUNE_CLERK, commune_id="00004", commune_province_id="01"),
        Scope(role=Role.AGENCY_OFFICER, agency_id=bca.pk),
        Scope(),
    ]
    for scope in scopes:
        in_sql = set(feed.visible_to(Event.objects.all(), scope).values_list("pk", flat=True))
        in_python = {e["id"] for e in Event.objects.values() if feed.event_visible(scope, e, agency_code="BCA")}
        assert in_sql == in_python, scope


def test_the_documents_postgresql_writes_are_serialize_row_for_row(postgresql):
    """On PostgreSQL the feed's events are written by the database (feed._DOCUMENT_SQL); the webhooks send
    serialize()'s: the two must agree field for field, the time to the character (no fraction when it is
    zero, the zone's offset), text and nulls included."""
    with transaction.atomic():
        whole = events.emit(PROBE, subject="probe", subject_id="Phường Ba Đình", province="01", commune="00004")
        fraction = events.emit(PROBE, subject="probe", subject_id=2, payload={"lý do": "mất điện", "n": [1, None]})
        plain = events.emit(PROBE, subject="probe", subject_id=3, agency="BCA")
    Event.objects.filter(pk=whole.pk).update(occurred_at=datetime.datetime(2025, 7, 1, 1, 0, tzinfo=datetime.UTC))
    Event.objects.filter(pk=fraction.pk).update(
        occurred_at=datetime.datetime(2025, 12, 31, 16, 59, 59, 5, tzinfo=datetime.UTC)
    )
    page = feed.changes(scope=Scope(role=Role.STEERING))
    rows = feed.rows_after(Event.objects.all(), feed.START, until=feed.horizon(), limit=100)
    assert page.events == [feed.serialize(row) for row in rows]
    by_id = {event["id"]: event for event in page.events}
    assert by_id[whole.pk]["occurred_at"] == "2025-07-01T08:00:00+07:00"
    assert by_id[fraction.pk]["occurred_at"] == "2025-12-31T23:59:59.000005+07:00"
    assert (by_id[plain.pk]["province"], by_id[plain.pk]["agency"]) == (None, "BCA")


def test_one_query_gives_the_horizon_and_the_purge_mark(postgresql):
    """feed.state() answers what horizon() and purge_mark() answer one by one. The horizon never goes back,
    so state()'s lies between one taken before and one taken after."""
    FeedMark.objects.update_or_create(name=feed.PURGED, defaults={"txid": 7, "event_id": 42})
    before = REAL_HORIZON()
    until, purged = REAL_STATE()
    assert purged == feed.Position(7, 42) == feed.purge_mark()
    assert before <= until <= REAL_HORIZON()


@pytest.mark.django_db(transaction=True)
def test_transactions_committing_out_of_order_lose_no_event_and_repeat_none(postgresql, reference_data, monkeypatch):
    """Transaction A writes first and commits last; B writes after it and commits first. A reader following
    ids would read B's event, move past A's id, and never see A's. The feed waits for A."""
    monkeypatch.undo()  # the real horizon
    a_wrote, a_may_commit = threading.Event(), threading.Event()
    ids = {}

    def transaction_a():
        try:
            with transaction.atomic():
                ids["a"] = events.emit(PROBE, subject="probe", subject_id="a").pk
                a_wrote.set()
                assert a_may_commit.wait(30)
        finally:
            connection.close()

    scope = Scope(role=Role.STEERING)
    thread = threading.Thread(target=transaction_a)
    thread.start()
    try:
        assert a_wrote.wait(30)
        with transaction.atomic():
            ids["b"] = events.emit(PROBE, subject="probe", subject_id="b").pk
        assert ids["a"] < ids["b"]
        # B is committed and visible, A is not yet: a keyset on ids alone would hand out B now and skip A.
        assert list(Event.objects.filter(id__gt=0).values_list("id", flat=True)) == [ids["b"]]
        page = feed.changes(scope=scope)
        assert page.events == [] and page.cursor == feed.START  # the feed waits for A, which is older
    finally:
        a_may_commit.set()
        thread.join(30)
    page = feed.changes(scope=scope, position=page.cursor)
    assert [e["id"] for e in page.events] == [ids["a"], ids["b"]]
    assert feed.changes(scope=scope, position=page.cursor).events == []


def test_a_key_of_kind_national_reads_everything_and_writes_nothing(api_for, national_key, steering):
    client = api_for(national_key[1])
    assert client.get("/api/v1/reports/daily/?province=79").status_code == 200
    assert client.get("/api/v1/dashboard/national/").status_code == 200
    assert client.get("/api/v1/meetings/").status_code == 200
    response = client.post("/api/v1/reports/daily/", payload("00004"), format="json")
    assert response.status_code == 403
    assert client.post("/api/v1/meetings/", {"title": "x", "date": "2025-09-01"}, format="json").status_code == 403
    assert client.get("/api/v1/audit/").status_code == 403


def test_issue_key_national_from_the_command_line():
    from io import StringIO

    from django.core.management import call_command

    from reports.models import ApiClient

    out = StringIO()
    call_command("issue_key", "--national", "--name", "NMS", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    client = ApiClient.objects.get(key_prefix=key[:12])
    assert client.kind == "national" and client.province_id is None and client.commune_id is None
    assert client.as_scope().reads_all and client.as_scope().is_api_client


def test_a_national_key_has_no_locality_and_only_the_admin_issues_one(province_officer, admin_user):
    from django.core.exceptions import PermissionDenied, ValidationError

    from reports.models import ApiClient

    with pytest.raises(ValidationError):
        api_client_issue(name="x", locality="01", kind=ApiClient.Kind.NATIONAL)
    with pytest.raises(ValidationError):
        api_client_issue(name="x", kind="global")
    with pytest.raises(PermissionDenied):
        api_client_issue(name="x", kind=ApiClient.Kind.NATIONAL, created_by=province_officer)
    client, _key = api_client_issue(name="x", kind=ApiClient.Kind.NATIONAL, created_by=admin_user)
    assert client.created_by == admin_user


def test_the_admin_issues_a_national_key(client, admin_user, api_for):
    client.force_login(admin_user)
    response = client.post("/admin/reports/apiclient/add/", {"name": "NMS", "kind": "national", "locality": ""})
    assert response.status_code == 200
    key = response.context["key"]
    assert api_for(key).get(FEED).status_code == 200
    refused = client.post("/admin/reports/apiclient/add/", {"name": "NMS", "kind": "national", "locality": "01"})
    assert refused.status_code == 200 and "key" not in refused.context  # the form again, with the error
    assert refused.context["form"].non_field_errors()


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "x" * 100_000},
        {"cursor": feed.Position(1, 2).encode() + "\u0301"},
        {"types": ",".join(f"type.{n}" for n in range(5000))},
        {"types": "report.accepted\u200b"},
        {"limit": "１０"},  # full-width digits
        {"limit": "-1"},
    ],
)
def test_what_a_fuzzer_rarely_writes_is_a_short_400(api_for, national_key, params):
    response = api_for(national_key[1]).get(FEED, params)
    assert response.status_code == 400
    assert len(response.content) < 5000
    assert set(response.json()["errors"]) == set(params)


def test_a_forged_position_signed_properly_but_malformed_is_refused(api_for, steering):
    from django.core import signing

    for value in ([1], ["1", 2], [True, 1], [-1, 5], {"t": 1}, [2**64, 1]):
        token = signing.dumps(value, salt=feed.SALT, compress=False)
        response = api_for(user=steering).get(FEED, {"cursor": token})
        assert response.json()["errors"]["cursor"][0]["code"] == "invalid_cursor", value
