"""PostgreSQL restarted under a running deployment (DESIGN.md §10): while the database is down the API
answers 503 JSON with Retry-After — never a 500, never an HTML page — and nothing is stored; once it is
back, the same requests succeed without restarting gunicorn or the worker (connections are health-checked,
CONN_HEALTH_CHECKS), and a report accepted after the restart reaches the rollups through the worker.

Everything runs against a throwaway cluster (initdb, pg_ctl) migrated with `manage.py migrate` and
`load_reference`, served by gunicorn with the benchmark's command and a prefork worker."""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import psycopg
import pytest
from django.conf import settings

from reports.figures import INTEGER_FIELDS
from tests.faults.conftest import BIN, children, free_port, start_worker, wait_for
from tests.reports.helpers import days_ago, payload

pytestmark = pytest.mark.services


def manage(*argv, env):
    result = subprocess.run(
        [sys.executable, "manage.py", *argv],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(argv)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def gunicorn_argv(port):
    """bench/run.py's gunicorn(): plan02 is served by exactly this command there."""
    return [
        str(BIN / "gunicorn"),
        "plan02.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "4",
        "--worker-class",
        "sync",
        "--backlog",
        "256",
        "--log-level",
        "warning",
    ]


def http(method, url, *, key=None, body=None):
    """(status, headers, body bytes) of a request to the gunicorn this test started (http://127.0.0.1 only);
    an error status is an answer, not an exception."""
    headers = {"Content-Type": "application/json", "Accept-Language": "en"}
    if key:
        headers["Authorization"] = f"Token {key}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - see above
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def assert_clean_503(answer):
    status, headers, body = answer
    assert status == 503, (status, body[:500])
    assert headers["Content-Type"].startswith("application/json"), headers["Content-Type"]
    assert headers["Retry-After"] == "30"
    assert json.loads(body)["code"] == "service_unavailable"


def national_from_reports(cluster, day):
    """The national totals and completeness of `day`, summed from the cluster's raw reports in SQL."""
    sums = ", ".join(f"COALESCE(SUM({f}), 0)" for f in INTEGER_FIELDS)
    with psycopg.connect(cluster.url()) as conn:
        row = conn.execute(
            f"SELECT {sums}, COUNT(*), COUNT(*) FILTER (WHERE late) FROM reports_dailyreport WHERE date = %s",  # noqa: S608
            [day],
        ).fetchone()
        expected = conn.execute(
            "SELECT (SELECT COUNT(*) FROM localities_commune) + (SELECT COUNT(*) FROM localities_province)"
        ).fetchone()[0]
    totals = dict(zip(INTEGER_FIELDS, row[: len(INTEGER_FIELDS)], strict=True))
    received, late = row[len(INTEGER_FIELDS) :]
    completeness = {
        "expected": expected,
        "received": received,
        "on_time": received - late,
        "late": late,
        "missing": expected - received,
        "approved": 0,
    }
    return totals, completeness


def test_postgresql_restarted_gives_clean_503s_then_recovers_without_restarting_anything(
    postgres_cluster, redis_server, processes
):
    cluster = postgres_cluster
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE plan02")
    env = {**os.environ, "DATABASE_URL": cluster.url(), "REDIS_URL": redis_server.url}
    manage("migrate", "--noinput", env=env)
    manage("load_reference", env=env)
    key = manage("issue_key", "--locality", "01", "--name", "restart test", env=env).strip().splitlines()[-1]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = processes(gunicorn_argv(port), name="gunicorn", env=env)
    worker = start_worker(processes, "w1", redis_url=redis_server.url, database=cluster.url(), concurrency=1)

    def healthz():
        assert web.alive(), web.tail()
        try:
            return http("GET", f"{base}/healthz")[0] == 200
        except OSError:  # not listening yet
            return False

    wait_for(healthz, timeout=60, what="gunicorn to serve /healthz")
    day = days_ago(1)
    reports, national = f"{base}/api/v1/reports/daily/", f"{base}/api/v1/dashboard/national/?date={day}"

    def dashboard_received(count):
        def shown():
            status, _headers, body = http("GET", national, key=key)
            return status == 200 and json.loads(body)["completeness"]["received"] == count and json.loads(body)

        return shown

    assert http("POST", reports, key=key, body=payload("00004", day, returned=4))[0] == 201
    wait_for(dashboard_received(1), timeout=60, what="the first report on the national dashboard")
    serving = children(web.pid)
    assert len(serving) == 4

    cluster.stop()
    # More requests than gunicorn workers, so that each meets the outage (with or without a connection).
    for _ in range(12):
        assert_clean_503(http("POST", reports, key=key, body=payload("00025", day, returned=25)))
        assert_clean_503(http("GET", national, key=key))
    status, _headers, health = http("GET", f"{base}/healthz")
    assert status == 503 and json.loads(health)["database"].startswith("error")

    cluster.start()
    for _ in range(12):
        status, _headers, body = http("GET", national, key=key)
        assert status == 200, body[:500]
    accepted = http("POST", reports, key=key, body=payload("00008", day, returned=8))
    assert accepted[0] == 201, accepted[2][:500]
    body = wait_for(dashboard_received(2), timeout=60, what="the report accepted after the restart, via the worker")

    assert web.alive() and worker.alive()
    assert children(web.pid) == serving  # not one gunicorn worker was restarted
    totals, completeness = national_from_reports(cluster, day)
    assert (body["totals"], body["completeness"]) == (totals, completeness)
    assert totals["returned"] == 4 + 8  # the report refused during the outage was not stored
