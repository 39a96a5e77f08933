import pytest


@pytest.mark.django_db
def test_pages_need_a_login(client):
    response = client.get("/tasks/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_login_page_is_served_in_vietnamese_by_default(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert 'lang="vi"' in response.text
    assert "Đăng nhập" in response.text


@pytest.mark.django_db
def test_language_switch_turns_the_portal_to_english(client, steering):
    client.force_login(steering)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.get("/")
    assert 'lang="en"' in response.text
    assert "Phases" in response.text


@pytest.mark.django_db
def test_home_shows_the_reference_data(client, steering):
    client.force_login(steering)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    counts = response.context["counts"]
    assert counts["provinces"] == 34
    assert counts["communes"] == 3321
    assert counts["tasks"] == 67
    assert 'data-testid="demo-banner"' in response.text


@pytest.mark.django_db
def test_task_list_says_the_catalogue_is_a_demo_only_while_unofficial_tasks_exist(client, steering):
    from tasks.models import Task

    client.force_login(steering)
    assert 'data-testid="demo-banner"' in client.get("/tasks/").text
    Task.objects.update(is_official=True)
    assert 'data-testid="demo-banner"' not in client.get("/tasks/").text


@pytest.mark.django_db
def test_navigation_follows_the_role(client, admin_user, commune_clerk):
    client.force_login(admin_user)
    assert "/admin/" in client.get("/").text
    client.force_login(commune_clerk)
    assert "/admin/" not in client.get("/").text


@pytest.mark.django_db
def test_province_page_lists_its_communes_paginated(client, steering, django_assert_max_num_queries):
    client.force_login(steering)
    with django_assert_max_num_queries(12):
        response = client.get("/localities/provinces/01/")
    assert response.status_code == 200
    page = response.context["page"]
    assert page.paginator.count == 126
    assert len(page.object_list) == 100
    assert "Phường Ba Đình" in response.text


@pytest.mark.django_db
def test_only_the_most_specific_navigation_item_is_current(client, agency_officer):
    client.force_login(agency_officer)
    text = client.get("/tasks/mine/").text
    assert text.count('aria-current="page"') == 1
    assert 'href="/tasks/mine/" aria-current="page"' in text
