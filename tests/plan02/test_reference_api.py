import pytest


@pytest.fixture
def api(client, steering):
    client.force_login(steering)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/provinces/",
        "/api/v1/communes/",
        "/api/v1/groups/",
        "/api/v1/phases/",
        "/api/v1/agencies/",
        "/api/v1/tasks/",
    ],
)
def test_reference_api_needs_authentication(client, url):
    response = client.get(url)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_provinces_list_all_34_with_commune_counts(api, django_assert_num_queries):
    with django_assert_num_queries(4):  # session, user, count, page
        body = api.get("/api/v1/provinces/").json()
    assert body["count"] == 34
    hanoi = next(p for p in body["results"] if p["code"] == "01")
    assert hanoi["name"] == "Thành phố Hà Nội"
    assert hanoi["commune_count"] == 126


@pytest.mark.django_db
def test_communes_are_paginated_and_filtered_by_province(api):
    body = api.get("/api/v1/communes/", {"province": "01", "page_size": 200}).json()
    assert body["count"] == 126
    assert len(body["results"]) == 126
    assert all(c["province"] == "01" for c in body["results"])
    assert api.get("/api/v1/communes/").json()["count"] == 3321
    assert len(api.get("/api/v1/communes/").json()["results"]) == 50


@pytest.mark.django_db
def test_unknown_filter_value_is_a_400_naming_the_filter(api):
    response = api.get("/api/v1/communes/", {"province": "77"})
    assert response.status_code == 400
    assert "province" in response.json()


@pytest.mark.django_db
def test_commune_detail_by_padded_code(api):
    body = api.get("/api/v1/communes/00004/").json()
    assert body == {
        "code": "00004",
        "name": "Phường Ba Đình",
        "codename": "phuong_ba_dinh",
        "division_type": "phường",
        "province": "01",
        "data_version": "vietnam-provinces 2026.9.0",
    }


@pytest.mark.django_db
def test_groups_flag_the_six_pillars(api):
    body = api.get("/api/v1/groups/").json()
    assert body["count"] == 8
    assert [g["number"] for g in body["results"] if g["is_pillar"]] == [1, 2, 3, 4, 5, 6]
    assert api.get("/api/v1/groups/", {"is_pillar": "false"}).json()["count"] == 2


@pytest.mark.django_db
def test_phases_carry_their_deadlines(api):
    body = api.get("/api/v1/phases/").json()
    assert [(p["code"], p["deadline"]) for p in body["results"]] == [
        ("urgent", "2025-06-30"),
        ("breakthrough", "2025-12-31"),
    ]


@pytest.mark.django_db
def test_tasks_filter_by_group_phase_level_and_agency(api, django_assert_num_queries):
    with django_assert_num_queries(5):  # session, user, count, page, coordinating agencies
        body = api.get("/api/v1/tasks/", {"page_size": 100}).json()
    assert body["count"] == 67
    assert all(t["is_official"] is False for t in body["results"])
    urgent_commune = api.get("/api/v1/tasks/", {"phase": "urgent", "level": "commune"}).json()
    assert urgent_commune["count"] >= 1
    assert all(t["phase"] == "urgent" and t["level"] == "commune" for t in urgent_commune["results"])
    bca = api.get("/api/v1/tasks/", {"agency": "BCA", "page_size": 100}).json()["results"]
    assert all(t["lead_agency"] == "BCA" or "BCA" in t["coordinating_agencies"] for t in bca)
    assert {t["code"] for t in bca} >= {"T01", "T15", "T19"}
    assert api.get("/api/v1/tasks/", {"group": "8"}).json()["count"] == 7


@pytest.mark.django_db
def test_openapi_schema_and_offline_swagger_ui(api):
    schema = api.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/provinces/" in schema.content
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.text
    assert "cdn" not in docs.text.lower()


@pytest.mark.django_db
def test_the_schema_is_refused_to_anonymous_callers_in_json(client):
    response = client.get("/api/schema/", {"format": "json"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert b"/api/v1/" not in response.content


@pytest.mark.django_db
def test_the_docs_page_sends_an_anonymous_browser_to_the_login_page(client):
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/api/docs/"
    assert client.get("/api/docs/?script=").status_code == 302  # its init script too


@pytest.mark.django_db
def test_api_key_holders_read_the_schema(client):
    from reports.services import api_client_issue

    _client, key = api_client_issue(name="Ba Đình desk", locality="00004")
    response = client.get("/api/schema/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert b"/api/v1/reports/daily/" in response.content
    assert client.get("/api/schema/", HTTP_AUTHORIZATION="Token p02_not-a-key").status_code == 401
