"""Redis stopped (DESIGN.md §10, "nothing accepted is lost"): with the broker and the cache gone, daily
reports and an assignment update are still accepted, stored with their outbox rows pending, the per-key
throttle lets requests through instead of refusing them, and `manage.py rollup --pending` then brings the
dashboards to the numbers of the raw reports — with Redis still down.

The web side runs in this process with REDIS_URL pointing at a throwaway redis-server the test starts and
stops (no worker: nothing but the catch-up may build the rollups)."""

import logging

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from dashboards.models import ProvinceDayRollup, SnapshotRequest, TaskSnapshot
from reports.models import DailyReport, ReportRevision, RollupRequest
from reports.services import api_client_issue
from tasks.models import Assignment, Role, StatusUpdate
from tests.conftest import make_user
from tests.faults import expected
from tests.reports.helpers import days_ago, payload
from tests.tasks.conftest import set_deadline

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

REPORTS = "/api/v1/reports/daily/"


def test_reports_and_updates_accepted_while_redis_is_stopped_reach_the_dashboards_after_rollup_pending(
    reference_data, redis_server, use_redis, settings, caplog, client, frozen_throttle_window
):
    use_redis(redis_server.url)
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_key": "2/min"}}
    hanoi = APIClient()
    hanoi.credentials(HTTP_AUTHORIZATION=f"Token {api_client_issue(name='Hà Nội system', locality='01')[1]}")
    hcm = APIClient()
    hcm.credentials(HTTP_AUTHORIZATION=f"Token {api_client_issue(name='HCMC system', locality='79')[1]}")
    day, before = days_ago(1), days_ago(2)

    # Redis up: the throttle counts there, so the key's third request in the window is refused.
    assert hanoi.post(REPORTS, payload("00004", day, returned=1), format="json").status_code == 201
    assert hanoi.post(REPORTS, payload("00008", day, returned=2), format="json").status_code == 201
    refused = hanoi.post(REPORTS, payload("00025", day, returned=3), format="json")
    assert refused.status_code == 429 and refused["Retry-After"]

    redis_server.stop()
    caplog.set_level(logging.WARNING)
    sent = [
        (hanoi, payload("00025", day, returned=3)),  # over the rate: the throttle cannot count, lets it in
        (hanoi, payload("01", day, received_direct=400)),
        (hanoi, payload("00070", before, received_online=7, received_fully_online=7)),
        (hcm, payload("25747", day, resolved_late=9)),
        (hcm, payload("79", before, documents_issued=0, documents_e_signed=0)),
    ]
    for api, body in sent:
        response = api.post(REPORTS, body, format="json")
        assert response.status_code == 201, response.content
    replay = hanoi.post(REPORTS, sent[1][1], format="json")
    assert replay.status_code == 200 and replay.json()["status"] == "unchanged"
    assert "throttle cache unavailable; request let through" in caplog.text
    assert "broker unreachable" in caplog.text

    officer = make_user("officer-bca", Role.AGENCY_OFFICER, agency="BCA")
    set_deadline("T15", 30)
    assignment = Assignment.objects.get(task__code="T15", agency__code="BCA")
    session = APIClient()
    session.force_login(officer)
    update = session.post(
        f"/api/v1/assignments/{assignment.pk}/updates/",
        {"status": "in_progress", "progress": 40, "note": "Drafting", "version": assignment.version},
        format="json",
    )
    assert update.status_code == 201, update.content

    # Stored, every one, with its revision and its rollup request; nothing is rolled up yet.
    assert DailyReport.objects.count() == ReportRevision.objects.count() == 7
    assert set(RollupRequest.objects.values_list("province_id", "date")) == {
        ("01", day),
        ("01", before),
        ("79", day),
        ("79", before),
    }
    assert not ProvinceDayRollup.objects.exists()
    assert StatusUpdate.objects.filter(assignment=assignment).count() == 1
    assert SnapshotRequest.objects.exists()
    client.force_login(make_user("steering-member", Role.STEERING))
    assert client.get("/api/v1/dashboard/national/", {"date": day}).json()["completeness"]["received"] == 0

    call_command("rollup", "--pending")

    assert not RollupRequest.objects.exists() and not SnapshotRequest.objects.exists()
    for d in (day, before):
        national = client.get("/api/v1/dashboard/national/", {"date": d})
        assert national.status_code == 200
        assert expected.shown(national.json()) == expected.national(d)
        provinces = {p["province"]: p for p in client.get("/api/v1/dashboard/provinces/", {"date": d}).json()}
        for code in ("01", "79"):
            assert expected.shown(provinces[code]) == expected.province(code, d)
    assert expected.national(day)["completeness"]["received"] == 5
    snapshot = TaskSnapshot.objects.get(date=timezone.localdate(), dimension="task", key="T15")
    assert (snapshot.on_track, snapshot.not_started) == (1, 0)


def test_dashboards_caught_up_during_the_outage_are_not_hidden_by_the_cache_when_redis_comes_back(
    reference_data, persistent_redis_server, use_redis, client, steering
):
    """A Redis that keeps its data (the default configuration saves it on shutdown) comes back with the
    pages it cached before the outage; the rebuilds made meanwhile could not renew the cache generation."""
    use_redis(persistent_redis_server.url)
    client.force_login(steering)
    key = api_client_issue(name="Ba Đình desk", locality="00004")[1]
    day = days_ago(1)
    national = "/api/v1/dashboard/national/"
    assert client.get(national, {"date": day}).json()["completeness"]["received"] == 0  # cached

    persistent_redis_server.stop()
    response = client.post(
        REPORTS, payload("00004", day), content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}"
    )
    assert response.status_code == 201
    call_command("rollup", "--pending")
    assert client.get(national, {"date": day}).json()["completeness"]["received"] == 1

    persistent_redis_server.start()
    assert client.get(national, {"date": day}).json()["completeness"]["received"] == 1
