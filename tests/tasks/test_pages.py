"""Task pages: "My tasks", the task page, the province officer's communes, the update form (with and without
HTMX) and evidence downloads."""

import datetime
import re

import pytest
from django.conf import settings

from tasks.models import Assignment, StatusUpdate
from tasks.services import assignment_update
from tests.tasks.conftest import PDF_BYTES, set_deadline

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _english(client):
    """These pages are read by someone who chose English (the portal opens in Vietnamese otherwise)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


HTMX = {"HTTP_HX_REQUEST": "true", **EN}


@pytest.fixture
def browse(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def form_data(assignment, **changes):
    return {"status": "in_progress", "progress": 10, "version": assignment.version, **changes}


def complete(assignment, actor, day):
    return assignment_update(
        assignment=assignment,
        actor=actor,
        version=assignment.version,
        status="completed",
        progress=100,
        completed_on=day,
    )


# --- My tasks and the assignment list ----------------------------------------------------------------------


@pytest.mark.django_db
def test_my_tasks_lists_the_agencys_assignments_with_status_deadline_and_last_update(
    browse, agency_officer, bca_assignment
):
    assignment_update(assignment=bca_assignment, actor=agency_officer, version=1, status="in_progress", progress=35)
    response = browse(agency_officer).get("/tasks/mine/", **EN)
    assert response.status_code == 200
    page = response.context["page"]
    assert page.paginator.count == Assignment.objects.filter(agency__code="BCA").count()
    assert {a.agency.code for a in page} == {"BCA"}
    row = next(a for a in page if a.pk == bca_assignment.pk)
    assert (row.display_status, row.progress, row.updated_by) == ("on_track", 35, agency_officer)
    assert 'data-status="on_track"' in response.text and "30 days left" in response.text
    assert f'data-testid="edit-{bca_assignment.pk}"' in response.text


@pytest.mark.django_db
def test_my_tasks_of_a_province_officer_starts_with_the_province_and_filters_to_its_communes(browse, province_officer):
    client = browse(province_officer)
    own = client.get("/tasks/mine/", **EN).context["page"]
    assert own.paginator.count == 16  # the demo catalogue's province-level tasks
    communes = client.get("/tasks/mine/", {"level": "commune"}, **EN).context["page"]
    assert communes.paginator.count == 126 * 7
    assert len(communes.object_list) == 50


@pytest.mark.django_db
def test_my_tasks_uses_the_shared_filters_and_sorting(browse, agency_officer, bca_assignment):
    client = browse(agency_officer)
    page = client.get("/tasks/mine/", {"task": "T15"}, **EN).context["page"]
    assert [a.pk for a in page] == [bca_assignment.pk]
    page = client.get("/tasks/mine/", {"overdue": "false"}, **EN).context["page"]
    assert [a.pk for a in page] == [bca_assignment.pk]
    page = client.get("/tasks/mine/", {"ordering": "-deadline"}, **EN).context["page"]
    assert page[0].pk == bca_assignment.pk  # the only deadline in the future


@pytest.mark.django_db
def test_read_only_roles_are_sent_from_my_tasks_to_all_assignments(browse, steering):
    client = browse(steering)
    response = client.get("/tasks/mine/")
    assert response.status_code == 302 and response["Location"] == "/tasks/assignments/"
    page = client.get("/tasks/assignments/", {"task": "T23"}, **EN).context["page"]
    assert page.paginator.count == 3321 and len(page.object_list) == 50
    assert 'data-testid="edit-' not in client.get("/tasks/assignments/", **EN).text


@pytest.mark.django_db
def test_my_tasks_runs_a_fixed_number_of_queries(browse, agency_officer, commune_clerk, django_assert_num_queries):
    # session, user, membership; the filter form's choices (group, phase, task, agency, province, working group);
    # count, page; the demo banner; the bell's unread count; the user's sub-tasks of local plans (one query,
    # DESIGN.md §13).
    for user, rows in ((agency_officer, 16), (commune_clerk, 7)):
        client = browse(user)
        with django_assert_num_queries(14):
            response = client.get("/tasks/mine/", **EN)
        assert len(response.context["page"].object_list) == rows


# --- task page -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_task_page_shows_assignments_rollup_and_history(browse, steering, agency_officer, bca_assignment, today):
    complete(bca_assignment, agency_officer, today)
    response = browse(steering).get("/tasks/T15/", **EN)
    assert response.status_code == 200
    rollup = response.context["rollup"]
    assert (rollup.total, rollup.status, rollup.progress) == (1, "completed_on_time", 100)
    assert [a.pk for a in response.context["page"]] == [bca_assignment.pk]
    history = response.context["history"]
    assert [(u.actor, u.new_status) for u in history] == [(agency_officer, "completed")]
    assert "Roadmap to connect security and traffic cameras" in response.text


@pytest.mark.django_db
def test_commune_level_task_page_shows_green_shares_and_not_done_communes_paginated(
    browse, steering, commune_clerk, other_commune_clerk, outsider_province_officer, today
):
    task = set_deadline("T30", 30)
    for clerk, code in ((commune_clerk, "00004"), (other_commune_clerk, "00008")):
        complete(Assignment.objects.get(task=task, commune_id=code), clerk, today)

    response = browse(steering).get("/tasks/T30/", **EN)
    nation, provinces = response.context["nation"], response.context["provinces"]
    assert (nation.total, nation.green) == (3321, 2)
    assert len(provinces) == 34
    hanoi = next(p for p in provinces if p.code == "01")
    assert (hanoi.total, hanoi.green, hanoi.not_done) == (126, 2, 124)
    assert response.context["rollup"].green == 2
    page = response.context["page"]
    assert page.paginator.count == 3319 and len(page.object_list) == 50  # never one row per commune on a page

    drill = browse(steering).get("/tasks/T30/", {"province": "01", "page": 3}, **EN).context["page"]
    assert drill.paginator.count == 124
    assert {a.province_id for a in drill} == {"01"} and "00004" not in {a.commune_id for a in drill}

    # An officer of another province sees its own communes only, and cannot drill into Hà Nội.
    client = browse(outsider_province_officer)
    assert client.get("/tasks/T30/", **EN).context["nation"].total == 168
    assert client.get("/tasks/T30/", {"province": "01"}, **EN).status_code == 404


@pytest.mark.django_db
def test_commune_level_task_page_runs_a_fixed_number_of_queries(
    browse, steering, commune_clerk, province_officer, django_assert_num_queries, today
):
    # session, user, membership; task, its coordinating agencies; rollup; history count and page; province
    # shares; not-done count and page; demo banner; the bell — whatever the number of communes and of history rows.
    client = browse(steering)
    task = set_deadline("T23", 10)
    complete(Assignment.objects.get(task=task, commune_id="00004"), commune_clerk, today)
    with django_assert_num_queries(13):
        client.get("/tasks/T23/", **EN)
    for assignment in Assignment.objects.filter(task=task, province_id="01", status="not_started")[:39]:
        complete(assignment, province_officer, today)
    with django_assert_num_queries(13):
        response = client.get("/tasks/T23/", {"province": "01", "hpage": 2}, **EN)
    assert response.context["history"].paginator.count == 40
    assert response.context["page"].paginator.count == 86


@pytest.mark.django_db
def test_task_list_shows_each_tasks_rolled_up_status(browse, steering, django_assert_num_queries):
    client = browse(steering)
    # + the one rollup query for the whole page, + the bell, + the working groups' switch (the groups and the
    # task groups they follow) and the filter's choice of working group.
    with django_assert_num_queries(16):
        response = client.get("/tasks/", **EN)
    rows = dict((task.code, rollup) for task, rollup in response.context["rows"])
    assert rows["T23"].total == 3321 and rows["T23"].status == "overdue"


# --- province officer's communes ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_province_officer_sees_each_commune_task_and_updates_a_commune_on_its_behalf(
    browse, province_officer, commune_clerk, badinh_t30, today
):
    complete(Assignment.objects.get(task__code="T30", commune_id="00008"), province_officer, today)
    client = browse(province_officer)
    response = client.get("/tasks/communes/", {"task": "T30"}, **EN)
    assert response.status_code == 200
    summary = next(s for s in response.context["summaries"] if s.task.code == "T30")
    assert (summary.total, summary.green) == (126, 1)
    assert len(response.context["summaries"]) == 7
    rows = response.context["page"]
    assert rows.paginator.count == 126 and all(a.may_update for a in rows)
    not_done = client.get("/tasks/communes/", {"task": "T30", "show": "not_done"}, **EN).context["page"]
    assert not_done.paginator.count == 125

    response = client.post(
        f"/tasks/assignments/{badinh_t30.pk}/update/", form_data(badinh_t30, progress=40, layout="communes"), **HTMX
    )
    assert response.status_code == 200
    update = StatusUpdate.objects.get(assignment=badinh_t30)
    assert update.on_behalf and update.actor == province_officer
    assert "on the commune's behalf" in client.get("/tasks/communes/", {"task": "T30"}, **EN).text


@pytest.mark.django_db
def test_communes_page_is_for_province_officers_and_read_all_roles(browse, agency_officer, commune_clerk, inspector):
    assert browse(agency_officer).get("/tasks/communes/").status_code == 403
    assert browse(commune_clerk).get("/tasks/communes/").status_code == 403
    client = browse(inspector)
    assert "?province=01" in client.get("/tasks/communes/", **EN).text
    assert client.get("/tasks/communes/", {"province": "79"}, **EN).context["province"].code == "79"


@pytest.mark.django_db
def test_communes_page_runs_a_fixed_number_of_queries(browse, province_officer, django_assert_num_queries):
    client = browse(province_officer)
    # session, user, membership; province; commune tasks; summary; count, page; demo banner; the bell.
    with django_assert_num_queries(10):
        client.get("/tasks/communes/", {"task": "T23"}, **EN)


# --- the update form -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_update_without_javascript_redirects_back_with_a_message(browse, agency_officer, bca_assignment, today):
    client = browse(agency_officer)
    response = client.get(f"/tasks/assignments/{bca_assignment.pk}/update/", **EN)
    assert response.status_code == 200 and 'name="version" value="1"' in response.text
    data = form_data(
        bca_assignment, status="completed", progress=100, completed_on=today.isoformat(), next="/tasks/mine/"
    )
    response = client.post(f"/tasks/assignments/{bca_assignment.pk}/update/", data, follow=True, **EN)
    assert response.redirect_chain == [("/tasks/mine/", 302)]
    assert "Saved:" in response.text and "(version 2)" in response.text
    assert Assignment.objects.get(pk=bca_assignment.pk).status == "completed"


@pytest.mark.django_db
def test_form_refuses_an_unsafe_next_url(browse, agency_officer, bca_assignment):
    response = browse(agency_officer).post(
        f"/tasks/assignments/{bca_assignment.pk}/update/", form_data(bca_assignment, next="https://evil.example/")
    )
    assert response["Location"] == f"/tasks/assignments/{bca_assignment.pk}/"


@pytest.mark.django_db
def test_invalid_update_shows_the_errors_by_field_with_400(browse, agency_officer, bca_assignment, today):
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    response = browse(agency_officer).post(
        f"/tasks/assignments/{bca_assignment.pk}/update/",
        form_data(bca_assignment, status="completed", progress=80, completed_on=tomorrow),
        **EN,
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["progress"] == ["A completed assignment has progress 100."]
    assert form.errors["completed_on"] == ["The completion date cannot be in the future."]
    assert not StatusUpdate.objects.exists()


@pytest.mark.django_db
def test_form_ignores_the_date_and_blocking_fields_of_other_statuses(browse, agency_officer, bca_assignment, today):
    response = browse(agency_officer).post(
        f"/tasks/assignments/{bca_assignment.pk}/update/",
        form_data(bca_assignment, progress=20, completed_on=today.isoformat(), blocked_by="BTC", blocked_reason="x"),
    )
    assert response.status_code == 302
    stored = Assignment.objects.get(pk=bca_assignment.pk)
    assert (stored.completed_on, stored.blocked_by, stored.blocked_reason) == (None, None, "")


@pytest.mark.django_db
def test_stale_save_is_refused_showing_what_changed(browse, agency_officer, second_agency_officer, bca_assignment):
    assignment_update(
        assignment=bca_assignment, actor=second_agency_officer, version=1, status="in_progress", progress=60, note="hi"
    )
    response = browse(agency_officer).post(
        f"/tasks/assignments/{bca_assignment.pk}/update/", form_data(bca_assignment, progress=20, version=1), **EN
    )
    assert response.status_code == 409
    text = response.text
    assert 'data-testid="stale-message"' in text
    assert "You edited version 1; it is now at version 2." in text
    assert "<strong>Progress (%)</strong>: 0 → 60" in text
    assert 'name="version" value="2"' in text  # saving again is now a deliberate choice
    assert 'name="progress" value="20"' in text  # and what was typed is kept
    assert Assignment.objects.get(pk=bca_assignment.pk).progress == 60


@pytest.mark.django_db
def test_htmx_form_is_a_fragment_and_a_save_returns_the_new_row(browse, agency_officer, bca_assignment, today):
    client = browse(agency_officer)
    response = client.get(f"/tasks/assignments/{bca_assignment.pk}/update/", {"layout": "full"}, **HTMX)
    assert response.text.startswith(f'<tr id="edit-{bca_assignment.pk}"') and "<html" not in response.text
    data = form_data(bca_assignment, status="completed", progress=100, completed_on=today.isoformat(), layout="full")
    response = client.post(f"/tasks/assignments/{bca_assignment.pk}/update/", data, **HTMX)
    assert response.status_code == 200
    assert 'data-testid="saved-message"' in response.text
    assert f'<tr id="asg-{bca_assignment.pk}"' in response.text and 'hx-swap-oob="true"' in response.text
    assert 'data-status="completed_on_time"' in response.text


@pytest.mark.django_db
def test_htmx_stale_save_answers_409_with_the_form_fragment(
    browse, agency_officer, second_agency_officer, bca_assignment
):
    assignment_update(
        assignment=bca_assignment, actor=second_agency_officer, version=1, status="in_progress", progress=5
    )
    response = browse(agency_officer).post(
        f"/tasks/assignments/{bca_assignment.pk}/update/", form_data(bca_assignment, version=1), **HTMX
    )
    assert response.status_code == 409
    assert response.text.startswith(f'<tr id="edit-{bca_assignment.pk}"')
    assert 'data-testid="stale-message"' in response.text
    oob_row = re.search(rf'<tr id="asg-{bca_assignment.pk}"[^>]*>', response.text).group(0)
    assert 'data-status="in_progress"' in oob_row and 'hx-swap-oob="true"' in oob_row  # the row shows theirs


@pytest.mark.django_db
def test_edit_form_is_404_for_what_one_may_not_see_and_403_for_what_one_may_not_change(
    browse, other_agency_officer, coordinating_officer, steering, commune_clerk
):
    t01_bca = Assignment.objects.get(task__code="T01", agency__code="BCA")
    url = f"/tasks/assignments/{t01_bca.pk}/update/"
    assert browse(other_agency_officer).get(url).status_code == 404
    assert browse(other_agency_officer).get(f"/tasks/assignments/{t01_bca.pk}/").status_code == 404
    for user in (coordinating_officer, steering):
        client = browse(user)
        assert client.get(url).status_code == 403
        assert client.post(url, form_data(t01_bca)).status_code == 403
        page = client.get(f"/tasks/assignments/{t01_bca.pk}/", **EN)
        assert page.status_code == 200 and page.context["form"] is None
    assert browse(commune_clerk).post(url, form_data(t01_bca)).status_code == 404
    assert not StatusUpdate.objects.exists()


# --- evidence ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_evidence_file_is_uploaded_with_the_form_and_downloaded_only_by_those_who_see_it(
    browse, agency_officer, outsider_province_officer, bca_assignment, pdf_file, media_root
):
    client = browse(agency_officer)
    response = client.post(
        f"/tasks/assignments/{bca_assignment.pk}/update/",
        {**form_data(bca_assignment, progress=50), "evidence_file": pdf_file("minutes.pdf")},
    )
    assert response.status_code == 302
    update = StatusUpdate.objects.get(assignment=bca_assignment)
    download = client.get(f"/tasks/evidence/{update.pk}/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == PDF_BYTES
    assert browse(outsider_province_officer).get(f"/tasks/evidence/{update.pk}/").status_code == 404
    page = browse(agency_officer).get(f"/tasks/assignments/{bca_assignment.pk}/", **EN)
    assert f"/tasks/evidence/{update.pk}/" in page.text


@pytest.fixture
def urls_built_with_debug(settings):
    """plan02.urls as `make run` builds it (DEBUG on): media must not be served there either."""
    import importlib

    from django.urls import clear_url_caches

    import plan02.urls

    settings.DEBUG = True
    importlib.reload(plan02.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(plan02.urls)
    clear_url_caches()


@pytest.mark.django_db
def test_evidence_is_reached_only_through_the_scoped_view_never_through_media(
    client,
    browse,
    agency_officer,
    outsider_province_officer,
    bca_assignment,
    pdf_file,
    media_root,
    urls_built_with_debug,
):
    update = assignment_update(
        assignment=bca_assignment,
        actor=agency_officer,
        version=1,
        status="in_progress",
        progress=40,
        evidence_file=pdf_file("minutes.pdf"),
    )
    assert (media_root / update.evidence_file.name).exists()
    media_url = f"/media/{update.evidence_file.name}"
    assert client.get(media_url).status_code == 404
    outsider = browse(outsider_province_officer)
    assert outsider.get(media_url).status_code == 404
    assert outsider.get(f"/tasks/evidence/{update.pk}/").status_code == 404
    owner = browse(agency_officer)
    assert owner.get(media_url).status_code == 404
    download = owner.get(f"/tasks/evidence/{update.pk}/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="minutes.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Type"] == "application/pdf"


@pytest.mark.django_db
def test_an_evidence_file_of_another_type_is_served_as_bytes_never_as_a_page(
    browse, agency_officer, bca_assignment, media_root
):
    from django.core.files.base import ContentFile
    from django.utils import timezone

    # A file the upload checks would refuse today (stored before them, or put there by hand).
    update = StatusUpdate.objects.create(
        assignment=bca_assignment,
        actor=agency_officer,
        created_at=timezone.now(),
        old_status="not_started",
        new_status="not_started",
        old_progress=0,
        new_progress=0,
        note="legacy",
        version=2,
        evidence_file=ContentFile(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "x.svg"),
    )
    download = browse(agency_officer).get(f"/tasks/evidence/{update.pk}/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_evidence_file_errors_are_clear(browse, agency_officer, bca_assignment, pdf_file, settings):
    settings.EVIDENCE_MAX_BYTES = 1024
    response = browse(agency_officer).post(
        f"/tasks/assignments/{bca_assignment.pk}/update/",
        {**form_data(bca_assignment), "evidence_file": pdf_file("scan.pdf", b"%PDF-" + b"0" * 3067)},
        **EN,
    )
    assert response.status_code == 400
    assert response.context["form"].errors["evidence_file"] == ["The file is 3.0\xa0KB; the limit is 1.0\xa0KB."]
