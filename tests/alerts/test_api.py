"""The API of DESIGN.md §8: the shapes, the scoping of every list (404 outside one's scope, 403 for what one
may not do), bad input answered 400 naming the field, and fixed query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import Alert, Notification
from reports.models import DailyReport
from tests.alerts.conftest import assignment, history, local
from tests.reports.factories import make_report

pytestmark = pytest.mark.django_db
NOTIFICATION_KEYS = {"id", "rule", "title", "url", "alert", "created_at", "read"}
ALERT_KEYS = {"id", "rule", "threshold", "subject", "province", "agency", "since", "open", "closed_at", "notified"}


@pytest.fixture
def world(run, quiet, today, province_officer, outsider_province_officer, commune_clerk, other_agency_officer):
    """Hà Nội's and HCMC's T22 overdue for 15 days (escalated to BCA), Hà Nội's T29 blocked by TANDTC for 8
    days, support requests of Ba Đình and of an HCMC commune; one run."""
    from tests.tasks.conftest import set_deadline

    set_deadline("T22", -15)
    blocked = history(
        assignment("T29", province="01"),
        province_officer,
        [(local(today - datetime.timedelta(days=8), 9), "blocked", 10, "TANDTC")],
    )
    yesterday = today - datetime.timedelta(days=1)
    ba_dinh = make_report("00004", yesterday, support_needed=True)
    hcmc = make_report("25747", yesterday, support_needed=True)
    run(rules=["overdue", "blocked", "support_needed"])
    return {"blocked": blocked, "ba_dinh": ba_dinh, "hcmc": hcmc}


def results(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- notifications ----------------------------------------------------------------------------------------


def test_notifications_have_the_shape_of_the_contract_and_are_ones_own(world, api_for, province_officer, steering):
    rows = results(api_for(user=province_officer), "/api/v1/notifications/", unread="true")
    assert {row["rule"] for row in rows} == {"overdue", "support_needed"}
    assert all(set(row) == NOTIFICATION_KEYS for row in rows)
    support = next(r for r in rows if r["rule"] == "support_needed")
    assert support["url"] == f"http://testserver/alerts/support/{world['ba_dinh'].pk}/"
    assert support["read"] is False and "Phường Ba Đình (00004)" in support["title"]
    assert results(api_for(user=steering), "/api/v1/notifications/") == []


def test_marking_read_one_then_all(world, api_for, province_officer, outsider_province_officer):
    client = api_for(user=province_officer)
    first = results(client, "/api/v1/notifications/")[0]
    answer = client.post(f"/api/v1/notifications/{first['id']}/read/")
    assert answer.status_code == 200 and answer.json()["read"] is True
    assert len(results(client, "/api/v1/notifications/", unread="true")) == 1
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 1}
    assert results(client, "/api/v1/notifications/", unread="true") == []
    # Someone else's notification does not exist for you.
    theirs = Notification.objects.filter(user=outsider_province_officer).first()
    assert client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert client.post("/api/v1/notifications/nonsense/read/").status_code == 404


def test_api_keys_have_no_notifications(world, api_for, province_key):
    client = api_for(province_key[1])
    assert results(client, "/api/v1/notifications/") == []
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 0}


# --- alerts -------------------------------------------------------------------------------------------------


def test_an_alert_has_the_shape_of_the_contract(world, api_for, steering, other_agency_officer, today):
    rows = results(api_for(user=steering), "/api/v1/alerts/", rule="blocked", open="true")
    (alert,) = [r for r in rows if r["threshold"] == 7]
    assert set(alert) == ALERT_KEYS
    assert alert["subject"] == {
        "kind": "assignment",
        "id": world["blocked"].pk,
        "code": "T29",
        "label": "T29 · Thành phố Hà Nội",
    }
    assert (alert["province"], alert["agency"], alert["open"], alert["closed_at"]) == ("01", "TANDTC", True, None)
    assert alert["since"] == (today - datetime.timedelta(days=8)).isoformat()
    first = next(r for r in rows if r["threshold"] == 0)
    assert first["notified"] == [other_agency_officer.username]
    assert alert["notified"] == []  # the head is told by e-mail, not in the portal


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("steering", {"overdue": 68, "blocked": 2, "support_needed": 2}),
        ("province_officer", {"overdue": 2, "blocked": 2, "support_needed": 1}),
        ("outsider_province_officer", {"overdue": 2, "support_needed": 1}),
        ("commune_clerk", {"support_needed": 1}),
        ("other_commune_clerk", {}),
        # BCA leads T22: its escalations (and the assignments it may see)
        ("agency_officer", {"overdue": 68}),
        # TANDTC neither leads nor coordinates T29, but blocks it
        ("other_agency_officer", {"blocked": 2}),
    ],
)
def test_the_alerts_list_is_scoped_like_the_rest_of_the_portal(world, api_for, request, persona, expected):
    user = request.getfixturevalue(persona)
    rows = results(api_for(user=user), "/api/v1/alerts/", page_size=1000)
    counts = {}
    for row in rows:
        counts[row["rule"]] = counts.get(row["rule"], 0) + 1
    assert counts == expected


def test_an_alert_outside_ones_scope_is_not_found(world, api_for, outsider_province_officer, province_officer):
    hanoi = Alert.objects.filter(province_id="01").first()
    assert api_for(user=province_officer).get(f"/api/v1/alerts/{hanoi.pk}/").status_code == 200
    answer = api_for(user=outsider_province_officer).get(f"/api/v1/alerts/{hanoi.pk}/")
    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")


def test_alert_filters_and_their_bad_values(world, api_for, steering):
    client = api_for(user=steering)
    assert {r["province"] for r in results(client, "/api/v1/alerts/", province="79", page_size=1000)} == {"79"}
    assert {r["agency"] for r in results(client, "/api/v1/alerts/", agency="TANDTC")} == {"TANDTC"}
    for params, field in (({"province": "1"}, "province"), ({"rule": "late"}, "rule"), ({"open": "maybe"}, "open")):
        answer = client.get("/api/v1/alerts/", params)
        assert answer.status_code == 400 and field in answer.json()


def test_the_alerts_list_costs_the_same_queries_for_a_page_of_2_or_50(
    world, api_for, steering, django_assert_num_queries
):
    client = api_for(user=steering)
    # session, user, membership; count, page with its joins, who was told (with their usernames)
    for size in (2, 50):
        with django_assert_num_queries(6):
            assert len(results(client, "/api/v1/alerts/", page_size=size)) == size


# --- who was told: usernames only for those who may know them (issue 22, finding 8) --------------------------


@pytest.fixture
def told(run, quiet, today, province_officer, commune_clerk, agency_officer):
    """Ba Đình's support request, told to Hà Nội's two officers; T22 overdue for 15 days, escalated to BCA."""
    from tasks.models import Role
    from tests.conftest import make_user
    from tests.tasks.conftest import set_deadline

    second = make_user("officer-hanoi-2", Role.PROVINCE_OFFICER, province="01")
    set_deadline("T22", -15)
    make_report("00004", today - datetime.timedelta(days=1), support_needed=True)
    run(rules=["overdue", "support_needed"])
    assert set(Notification.objects.values_list("user__username", flat=True)) >= {
        province_officer.username,
        second.username,
        agency_officer.username,
    }
    return second


def notified_of(client, rule, **params):
    return [row["notified"] for row in results(client, "/api/v1/alerts/", rule=rule, page_size=1000, **params)]


def test_a_key_reads_no_username_only_roles_and_units(told, api_for, province_key, commune_key):
    """The red team's attack: a key holder read the officers' usernames in `notified`, enough to lock them out
    at the login form."""
    from django.contrib.auth import get_user_model

    usernames = set(get_user_model().objects.values_list("username", flat=True))
    for key in (province_key[1], commune_key[1]):
        response = api_for(key).get("/api/v1/alerts/", {"page_size": 1000})
        assert response.status_code == 200
        assert not any(name in response.text for name in usernames)
    (support,) = notified_of(api_for(commune_key[1]), "support_needed")
    assert support == ["Province officer, Thành phố Hà Nội"] * 2


def test_a_clerk_reads_the_officers_role_and_unit_in_its_language(told, api_for, commune_clerk):
    (support,) = notified_of(api_for(user=commune_clerk), "support_needed")
    assert support == ["Province officer, Thành phố Hà Nội"] * 2
    (support,) = notified_of(api_for(user=commune_clerk, language="vi"), "support_needed")
    assert support == ["Cán bộ cấp tỉnh Thành phố Hà Nội"] * 2


def test_an_officer_reads_its_own_units_usernames_and_labels_for_the_rest(
    told, api_for, province_officer, agency_officer
):
    (support,) = notified_of(api_for(user=province_officer), "support_needed")
    assert support == sorted([province_officer.username, told.username])
    overdue = notified_of(api_for(user=province_officer), "overdue")
    assert {name for row in overdue for name in row} == {
        province_officer.username,
        told.username,
        "Agency officer, Ministry of Public Security",  # BCA, by its name in English
    }
    overdue = notified_of(api_for(user=agency_officer), "overdue", province="01")
    assert {name for row in overdue for name in row} == {agency_officer.username, "Province officer, Thành phố Hà Nội"}


def test_national_roles_and_staff_read_every_username(told, api_for, steering, commune_clerk, province_officer):
    (support,) = notified_of(api_for(user=steering), "support_needed")
    assert support == sorted([province_officer.username, told.username])
    commune_clerk.is_staff = True
    commune_clerk.save(update_fields=["is_staff"])
    (support,) = notified_of(api_for(user=commune_clerk), "support_needed")
    assert support == sorted([province_officer.username, told.username])


def test_the_alerts_page_shows_the_same_names(told, client, commune_clerk, province_officer, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(commune_clerk)
    page = client.get("/alerts/", {"rule": "support_needed"})
    assert page.status_code == 200
    assert "Province officer, Thành phố Hà Nội; Province officer, Thành phố Hà Nội" in page.text
    assert province_officer.username not in page.text and told.username not in page.text


@pytest.mark.parametrize("reader", ["province_key", "province_officer"])
def test_labels_cost_no_query_per_alert(told, api_for, request, reader, django_assert_num_queries):
    """Who was told comes with their units in the one prefetch: the same queries for a page of 1 or of 3 —
    for a session, as for the steering member (session, user, membership; count, page, who was told)."""
    found = request.getfixturevalue(reader)
    client = api_for(found[1]) if reader.endswith("_key") else api_for(user=found)
    results(client, "/api/v1/alerts/", page_size=1)  # a key is looked up once, then known
    counts = []
    for size in (1, 3):
        with CaptureQueriesContext(connection) as captured:
            assert len(results(client, "/api/v1/alerts/", page_size=size)) == size
        counts.append(len(captured))
    assert counts[0] == counts[1]
    if reader == "province_officer":
        with django_assert_num_queries(6):
            results(client, "/api/v1/alerts/", page_size=3)


# --- blockers -------------------------------------------------------------------------------------------------


def test_the_blocker_register_says_who_blocks_whom_since_when(world, api_for, steering, commune_clerk, today):
    (row,) = results(api_for(user=steering), "/api/v1/blockers/")
    assert row == {
        "assignment": world["blocked"].pk,
        "task": "T29",
        "unit": {"kind": "province", "code": "01", "name": "Thành phố Hà Nội"},
        "province": "01",
        "blocking_agency": "TANDTC",
        "blocker": {"kind": "agency", "code": "TANDTC", "name": "Supreme People's Court"},
        "blocked_reason": "Waiting for guidance",
        "since": (today - datetime.timedelta(days=8)).isoformat(),
        "days_waiting": 8,
        "url": f"http://testserver/tasks/assignments/{world['blocked'].pk}/",
    }
    assert results(api_for(user=commune_clerk), "/api/v1/blockers/") == []
    client = api_for(user=steering)
    assert results(client, "/api/v1/blockers/", agency="BTC") == []
    assert len(results(client, "/api/v1/blockers/", agency="TANDTC", province="01", task="T29")) == 1
    assert client.get("/api/v1/blockers/", {"task": "T999"}).status_code == 400


# --- support requests ------------------------------------------------------------------------------------------


def test_support_requests_are_scoped(
    world, api_for, province_officer, outsider_province_officer, commune_clerk, agency_officer
):
    def ids(user):
        return [r["id"] for r in results(api_for(user=user), "/api/v1/support-requests/", open="true")]

    assert ids(province_officer) == [world["ba_dinh"].pk]
    assert ids(outsider_province_officer) == [world["hcmc"].pk]
    assert ids(commune_clerk) == [world["ba_dinh"].pk]
    assert ids(agency_officer) == []


def test_closing_a_support_request(
    world, api_for, province_officer, outsider_province_officer, commune_clerk, steering
):
    url = f"/api/v1/support-requests/{world['ba_dinh'].pk}/close/"
    officer = api_for(user=province_officer)
    for body, code in (({}, "required"), ({"resolution": "   "}, "blank")):
        answer = officer.post(url, body)
        assert answer.status_code == 400
        assert answer.json()["code"] == "invalid" and answer.json()["errors"]["resolution"][0]["code"] == code
    answer = officer.post(url, {"resolution": "ok", "note": "x"})
    assert answer.status_code == 400 and answer.json()["errors"]["note"][0]["code"] == "unknown_field"
    assert api_for(user=commune_clerk).post(url, {"resolution": "done"}).status_code == 403
    assert api_for(user=steering).post(url, {"resolution": "done"}).status_code == 403
    assert api_for(user=outsider_province_officer).post(url, {"resolution": "done"}).status_code == 404

    answer = officer.post(url, {"resolution": "A scanner was lent to the desk."})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["open"], body["resolution"], body["closed_by"]) == (
        False,
        "A scanner was lent to the desk.",
        "officer-hanoi",
    )
    assert not Alert.objects.open().filter(report=world["ba_dinh"]).exists()
    again = officer.post(url, {"resolution": "again"})
    assert (again.status_code, again.json()["code"]) == (409, "already_closed")
    seen = results(api_for(user=commune_clerk), "/api/v1/support-requests/", open="false")
    assert [(r["id"], r["resolution"]) for r in seen] == [(world["ba_dinh"].pk, "A scanner was lent to the desk.")]


def test_api_keys_read_support_requests_but_never_close_them(world, api_for, province_key):
    client = api_for(province_key[1])
    assert [r["id"] for r in results(client, "/api/v1/support-requests/")] == [world["ba_dinh"].pk]
    url = f"/api/v1/support-requests/{world['ba_dinh'].pk}/close/"
    assert client.post(url, {"resolution": "x"}).status_code == 403
    assert DailyReport.objects.filter(support_resolution__isnull=False).count() == 0
