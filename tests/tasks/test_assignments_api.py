"""/api/v1/assignments/ (DESIGN.md §5): scoped lists and details, updates with optimistic concurrency, history."""

import datetime

import pytest
from django.test import Client

from reports.auth import hash_key
from reports.models import ApiClient
from tasks.models import Assignment, StatusUpdate

URL = "/api/v1/assignments/"


def updates_url(assignment):
    return f"{URL}{assignment.pk}/updates/"


def post(client, assignment, **body):
    payload = {"status": "in_progress", "progress": 10, "version": assignment.version, **body}
    return client.post(updates_url(assignment), payload, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def commune_key(db):
    """An API key of Phường Ba Đình (for daily reports): may read its assignments, never change them."""
    key = "k-" + "b" * 40
    ApiClient.objects.create(
        name="Ba Đình one-stop desk", commune_id="00004", key_prefix=key[:8], key_hash=hash_key(key)
    )
    return key


# --- lists and details -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_needs_authentication(client):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_read_all_roles_see_every_assignment_and_may_update_none(as_user, steering):
    body = as_user(steering).get(URL).json()
    assert body["count"] == Assignment.objects.count()
    assert not any(row["may_update"] for row in body["results"])
    assert as_user(steering).get(URL, {"mine": "true"}).json()["count"] == 0


@pytest.mark.django_db
def test_mine_lists_the_assignments_the_caller_may_update(
    as_user, agency_officer, province_officer, commune_clerk, today
):
    bca = as_user(agency_officer).get(URL, {"mine": "true", "page_size": 100}).json()
    assert bca["count"] == Assignment.objects.filter(agency__code="BCA").count() > 0
    assert {row["unit"]["code"] for row in bca["results"]} == {"BCA"}
    assert all(row["may_update"] for row in bca["results"])

    hanoi = as_user(province_officer).get(URL, {"mine": "true"}).json()
    assert hanoi["count"] == Assignment.objects.filter(province_id="01").count()  # the province and its communes

    badinh = as_user(commune_clerk).get(URL, {"mine": "true"}).json()
    assert badinh["count"] == 7  # the seven commune-level tasks of the demo catalogue
    row = badinh["results"][0]
    assert row["unit"] == {"kind": "commune", "code": "00004", "name": "Phường Ba Đình"}
    assert row["commune"] == "00004" and row["province"] == "01"
    assert row["days_left"] == (datetime.date.fromisoformat(row["task"]["deadline"]) - today).days


@pytest.mark.django_db
def test_outsiders_do_not_see_another_units_assignments(as_user, outsider_province_officer, other_agency_officer):
    badinh = Assignment.objects.filter(commune_id="00004").first()
    client = as_user(outsider_province_officer)
    assert client.get(URL, {"province": "01"}).json()["count"] == 0
    assert client.get(f"{URL}{badinh.pk}/").status_code == 404
    assert client.get(updates_url(badinh)).status_code == 404

    t01_bca = Assignment.objects.get(task__code="T01", agency__code="BCA")
    response = as_user(other_agency_officer).get(f"{URL}{t01_bca.pk}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_filters_are_the_shared_filterset(as_user, steering, bca_assignment):
    client = as_user(steering)
    assert client.get(URL, {"task": "T23", "province": "01"}).json()["count"] == 126
    assert client.get(URL, {"commune": "00004"}).json()["count"] == 7
    assert client.get(URL, {"level": "province", "group": 8}).json()["count"] == 34 * 3  # T62, T65, T66
    # BCA leads T01, T15, T19, T28, T61 and coordinates T41 in the urgent phase.
    assert client.get(URL, {"agency": "BCA", "phase": "urgent"}).json()["count"] == 6
    # T15 was given a future deadline: on track, not overdue; every other not-started demo assignment is overdue.
    on_track = client.get(URL, {"display_status": "not_started"}).json()
    assert [row["id"] for row in on_track["results"]] == [bca_assignment.pk]
    assert client.get(URL, {"overdue": "false"}).json()["count"] == 1
    assert client.get(URL, {"overdue": "true"}).json()["count"] == Assignment.objects.count() - 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [({"province": "77"}, "province"), ({"commune": "4"}, "commune"), ({"display_status": "late"}, "display_status")],
)
def test_a_bad_filter_value_is_a_400_naming_the_filter(as_user, steering, params, field):
    response = as_user(steering).get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.django_db
def test_ordering_by_progress(as_user, agency_officer, second_agency_officer, bca_assignment):
    post(as_user(second_agency_officer), bca_assignment, progress=90)
    rows = as_user(agency_officer).get(URL, {"mine": "true", "ordering": "-progress"}).json()["results"]
    assert rows[0]["id"] == bca_assignment.pk and rows[0]["progress"] == 90


@pytest.mark.django_db
def test_list_runs_a_fixed_number_of_queries(as_user, steering, province_officer, django_assert_num_queries):
    # session, user, membership, count, page — whether 50 rows of 23,000 or 7 rows of a commune; a filter
    # naming an object adds the one query that checks it (here the task).
    client = as_user(steering)
    with django_assert_num_queries(5):
        assert len(client.get(URL).json()["results"]) == 50
    client = as_user(province_officer)
    with django_assert_num_queries(5):
        assert len(client.get(URL, {"commune": "00004", "page_size": 1000}).json()["results"]) == 7
    with django_assert_num_queries(6):
        assert len(client.get(URL, {"task": "T23", "page_size": 1000}).json()["results"]) == 126


# --- updates -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_update_answers_201_with_the_new_version_and_the_history_row(as_user, agency_officer, bca_assignment, today):
    response = post(
        as_user(agency_officer),
        bca_assignment,
        status="completed",
        progress=100,
        completed_on=today.isoformat(),
        note="Roadmap signed",
        evidence_url="https://example.gov.vn/roadmap.pdf",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["version"], body["status"], body["display_status"], body["colour"]) == (
        2,
        "completed",
        "completed_on_time",
        "green",
    )
    assert body["update"]["actor"]["username"] == "officer-bca"
    assert (body["update"]["old_status"], body["update"]["new_status"]) == ("not_started", "completed")
    assert body["update"]["evidence_url"] == "https://example.gov.vn/roadmap.pdf"


@pytest.mark.django_db
def test_history_lists_who_when_and_old_to_new(as_user, agency_officer, second_agency_officer, bca_assignment):
    post(as_user(agency_officer), bca_assignment, progress=30, note="started")
    bca_assignment.refresh_from_db()
    post(as_user(second_agency_officer), bca_assignment, progress=70)

    body = as_user(agency_officer).get(updates_url(bca_assignment)).json()
    assert body["count"] == 2
    newest, oldest = body["results"]
    assert (newest["version"], newest["actor"]["username"], newest["old_progress"], newest["new_progress"]) == (
        3,
        "officer-bca-2",
        30,
        70,
    )
    assert (oldest["old_status"], oldest["new_status"], oldest["note"]) == ("not_started", "in_progress", "started")
    assert oldest["created_at"]


@pytest.mark.django_db
def test_stale_version_is_a_409_with_the_changes_field_by_field(
    as_user, agency_officer, second_agency_officer, bca_assignment
):
    assert post(as_user(second_agency_officer), bca_assignment, progress=60).status_code == 201
    response = post(as_user(agency_officer), bca_assignment, progress=20, version=1)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "stale_version"
    assert (body["your_version"], body["current_version"]) == (1, 2)
    assert body["changes"] == [
        {"field": "status", "old": "not_started", "new": "in_progress"},
        {"field": "progress", "old": 0, "new": 60},
    ]
    assert [u["actor"]["username"] for u in body["updates_since"]] == ["officer-bca-2"]
    assert body["current"]["progress"] == 60 and body["current"]["version"] == 2
    assert Assignment.objects.get(pk=bca_assignment.pk).progress == 60


@pytest.mark.django_db
def test_invalid_update_is_a_400_naming_each_field(as_user, agency_officer, bca_assignment, today):
    client = as_user(agency_officer)
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    body = post(client, bca_assignment, status="completed", progress=90, completed_on=tomorrow).json()
    assert body["code"] == "invalid"
    assert {field: [e["code"] for e in errors] for field, errors in body["errors"].items()} == {
        "progress": ["completed_progress"],
        "completed_on": ["future"],
    }
    assert body["errors"]["completed_on"][0]["message"] == "The completion date cannot be in the future."

    response = post(client, bca_assignment, status="blocked", progress=10)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"blocked_by", "blocked_reason"}

    response = post(client, bca_assignment, progress=101, version="x", colour="green")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"colour"}  # unknown fields are refused first

    response = post(client, bca_assignment, progress=101, blocked_by="NOPE")
    assert {f: [e["code"] for e in errs] for f, errs in response.json()["errors"].items()} == {
        "progress": ["max_value"],
        "blocked_by": ["does_not_exist"],
    }
    assert not StatusUpdate.objects.exists()


@pytest.mark.django_db
def test_read_only_roles_and_other_units_get_403_or_404(
    as_user, steering, inspector, admin_user, coordinating_officer, other_agency_officer
):
    t01_bca = Assignment.objects.get(task__code="T01", agency__code="BCA")
    for user in (steering, inspector, admin_user, coordinating_officer):
        response = post(as_user(user), t01_bca)
        assert response.status_code == 403, user
        assert response.json()["code"] == "permission_denied"
    assert post(as_user(other_agency_officer), t01_bca).status_code == 404
    assert not StatusUpdate.objects.exists()


@pytest.mark.django_db
def test_api_keys_read_their_assignments_but_never_change_them(client, commune_key, badinh_t30):
    auth = {"HTTP_AUTHORIZATION": f"Token {commune_key}"}
    assert client.get(URL, **auth).json()["count"] == 7
    response = client.post(
        updates_url(badinh_t30),
        {"status": "in_progress", "progress": 10, "version": 1},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 403
    assert not StatusUpdate.objects.exists()


@pytest.mark.django_db
def test_session_writes_need_the_csrf_token(commune_clerk, badinh_t30):
    client = Client(enforce_csrf_checks=True)
    client.force_login(commune_clerk)
    response = client.post(
        updates_url(badinh_t30),
        {"status": "in_progress", "progress": 10, "version": 1},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


@pytest.mark.django_db
def test_province_officer_update_of_a_commune_is_recorded_on_its_behalf(as_user, province_officer, badinh_t30):
    response = post(as_user(province_officer), badinh_t30, progress=50)
    assert response.status_code == 201
    assert response.json()["update"]["on_behalf"] is True


@pytest.mark.django_db
def test_openapi_schema_documents_the_update_answers(client, agency_officer):
    client.force_login(agency_officer)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    post_op = schema["paths"]["/api/v1/assignments/{id}/updates/"]["post"]
    assert set(post_op["responses"]) == {"201", "400", "403", "404", "409"}
    get_op = schema["paths"]["/api/v1/assignments/{id}/updates/"]["get"]
    assert "200" in get_op["responses"]
    params = {p["name"] for p in schema["paths"]["/api/v1/assignments/"]["get"]["parameters"]}
    assert {"mine", "group", "phase", "level", "display_status", "overdue", "agency", "province", "commune"} <= params


# --- bad input (issue 12) -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_lone_surrogate_in_an_update_names_the_field(as_user, agency_officer, bca_assignment):
    import json

    body = {"status": "in_progress", "progress": 10, "version": 1, "note": "half \ud800 done"}
    response = as_user(agency_officer).post(
        updates_url(bca_assignment), json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["errors"]) == ["note"]
    assert not StatusUpdate.objects.exists()


@pytest.mark.django_db
def test_json_nested_100000_deep_is_a_parse_error(as_user, agency_officer, bca_assignment):
    deep = "[" * 100_000 + "]" * 100_000
    response = as_user(agency_officer).post(updates_url(bca_assignment), deep, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
