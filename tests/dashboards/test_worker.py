"""A real Celery worker against Redis and PostgreSQL processes an accepted report end to end."""

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection, transaction

from dashboards.models import ProvinceDayRollup
from plan02.celery import app
from reports.models import RollupRequest
from reports.outbox import request_rollups
from reports.services import api_client_issue
from tests.reports.factories import figures, make_report, yesterday

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _services_or_skip():
    missing = []
    if connection.vendor != "postgresql":
        missing.append("DATABASE_URL=postgres://…")
    if not settings.REDIS_URL:
        missing.append("REDIS_URL=redis://…")
    if missing:
        if os.environ.get("PLAN02_REQUIRE_SERVICES") == "1":
            pytest.fail(f"needs {' and '.join(missing)}")
        pytest.skip(f"needs {' and '.join(missing)}")


@pytest.fixture
def worker(tmp_path):
    _services_or_skip()
    db = connection.settings_dict
    env = {
        **os.environ,
        # The worker must use the test database this test writes to.
        "DATABASE_URL": f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }
    log = open(tmp_path / "worker.log", "w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "plan02",
            "worker",
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield process, tmp_path / "worker.log"
    process.terminate()
    process.wait(timeout=20)
    log.close()


def wait_for(predicate, *, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_worker_rebuilds_the_rollup_of_a_committed_report(reference_data, worker):
    process, log = worker
    day = yesterday()
    app.conf.task_always_eager = False
    try:
        with transaction.atomic():
            report = make_report("00004", day)
            request_rollups([("01", day)])
            # Not enqueued before commit: the worker could otherwise read a report that is not there yet.
            assert not ProvinceDayRollup.objects.filter(province_id="01", date=day).exists()
    finally:
        app.conf.task_always_eager = True

    def built():
        if process.poll() is not None:
            raise AssertionError(f"worker exited: {log.read_text()[-2000:]}")
        return ProvinceDayRollup.objects.filter(province_id="01", date=day, localities_received=1).exists()

    wait_for(built, timeout=60, what="the worker to build the rollup")
    row = ProvinceDayRollup.objects.get(province_id="01", date=day)
    assert row.received_online == report.received_online
    assert not RollupRequest.objects.exists()


def test_a_report_posted_to_the_api_reaches_the_national_dashboard(reference_data, worker, client, steering):
    """End to end: key → POST → commit → Redis → worker → rollup → the dashboard's JSON."""
    process, log = worker
    day = yesterday()
    _client, key = api_client_issue(name="worker test", locality="00004")
    payload = {"locality": "00004", "date": day.isoformat(), **figures(received_direct=777)}
    app.conf.task_always_eager = False
    try:
        response = client.post(
            "/api/v1/reports/daily/", payload, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}"
        )
    finally:
        app.conf.task_always_eager = True
    assert response.status_code == 201, response.content
    client.force_login(steering)

    def on_dashboard():
        if process.poll() is not None:
            raise AssertionError(f"worker exited: {log.read_text()[-2000:]}")
        body = client.get("/api/v1/dashboard/national/", {"date": day.isoformat()}).json()
        return body["totals"]["received_direct"] == 777 and body["completeness"]["received"] == 1

    wait_for(on_dashboard, timeout=60, what="the report to show on the national dashboard")
