"""Backup and restore (DESIGN.md §10, README "Backup and restore"): a `pg_dump -Fc` of a seeded database,
restored with `pg_restore` into an empty database, then `migrate` and `rollup --pending` as the README
says, shows the same numbers on every dashboard (national, provinces, phases and targets JSON) as the
original; the append-only triggers come back with it.

The dump is taken while a rollup request is still pending (a report accepted after the last rebuild), as a
nightly backup can be: the restore's `rollup --pending` catches it up, as the original's catch-up does."""

import json
import os
import subprocess
import sys

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from localities.models import Commune
from reports.models import DailyReport, RollupRequest
from tasks.models import Role
from tests.conftest import make_user
from tests.faults.conftest import database_url, postgresql_binary, raw_connection, require
from tests.reports.factories import make_report
from tests.reports.helpers import days_ago

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

DAYS = 3

# Run by `manage.py shell` against one database: every dashboard JSON of the seeded days, as a steering
# member reads them through the API (as_of, the time of a build or of the answer, is not a number shown).
DASHBOARDS = """
import json, os
from django.contrib.auth import get_user_model
from django.test import Client

def without_as_of(value):
    if isinstance(value, dict):
        return {k: without_as_of(v) for k, v in value.items() if k != "as_of"}
    if isinstance(value, list):
        return [without_as_of(v) for v in value]
    return value

client = Client(HTTP_ACCEPT_LANGUAGE="en")
client.force_login(get_user_model().objects.get(username=os.environ["DASHBOARD_USER"]))
shown = {}
for day in os.environ["DASHBOARD_DAYS"].split(","):
    for name in ("dashboard/national", "dashboard/provinces", "dashboard/phases", "targets"):
        response = client.get(f"/api/v1/{name}/", {"date": day})
        assert response.status_code == 200, (name, day, response.content[:300])
        shown[f"{name} {day}"] = without_as_of(response.json())
shown["dashboard/phases"] = without_as_of(client.get("/api/v1/dashboard/phases/").json())
print(json.dumps(shown, sort_keys=True))
"""


def run(argv, *, env=None):
    result = subprocess.run(
        argv, cwd=settings.BASE_DIR, env=env or os.environ, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, f"{' '.join(argv)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def django_env(name):
    """The environment of a plan02 process on database `name` of the test server, with a cache of its own
    (no REDIS_URL: two databases must not share the dashboards' cache generation)."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["DATABASE_URL"] = database_url(NAME=name)
    return env


def dashboards(name, *, user, days):
    env = {**django_env(name), "DASHBOARD_USER": user, "DASHBOARD_DAYS": ",".join(d.isoformat() for d in days)}
    return json.loads(run([sys.executable, "manage.py", "shell", "-c", DASHBOARDS], env=env).strip().splitlines()[-1])


def test_a_pg_dump_restored_into_an_empty_database_shows_the_same_dashboards(reference_data, tmp_path):
    require(*((tool, bool(postgresql_binary(tool))) for tool in ("pg_dump", "pg_restore")))
    call_command("seed_demo", "--days", str(DAYS), "--no-progress")
    steering = make_user("steering-backup", Role.STEERING)
    day = days_ago(1)
    silent = Commune.objects.exclude(code__in=DailyReport.objects.filter(date=day).values("locality")).first()
    make_report(silent.code, day, received_direct=500)
    RollupRequest.objects.create(province_id=silent.province_id, date=day, requested_at=timezone.now())

    db = connection.settings_dict
    server = ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"]]
    tools = {**os.environ, **({"PGPASSWORD": db["PASSWORD"]} if db.get("PASSWORD") else {})}
    dump = tmp_path / "plan02.dump"
    run([postgresql_binary("pg_dump"), "-Fc", *server, "-d", db["NAME"], "-f", str(dump)], env=tools)

    restored = f"plan02_restore_{os.getpid()}"
    with raw_connection(NAME="postgres") as admin:
        admin.execute(f'CREATE DATABASE "{restored}"')
    try:
        run([postgresql_binary("pg_restore"), "--exit-on-error", *server, "-d", restored, str(dump)], env=tools)
        assert "No migrations to apply." in run([sys.executable, "manage.py", "migrate"], env=django_env(restored))
        caught_up = run([sys.executable, "manage.py", "rollup", "--pending"], env=django_env(restored))
        assert "rebuilt 1 pending rollup(s)" in caught_up
        call_command("rollup", "--pending")  # the original's catch-up, as its beat would run it

        days = [days_ago(n) for n in range(1, DAYS + 1)]
        original = dashboards(db["NAME"], user=steering.username, days=days)
        assert original == dashboards(restored, user=steering.username, days=days)
        national = original[f"dashboard/national {day.isoformat()}"]
        assert national["completeness"]["received"] == DailyReport.objects.filter(date=day).count() > 3000
        assert original["dashboard/phases"][0]["tasks"]

        # The history stays append-only on the restored database, for every SQL client.
        with raw_connection(NAME=restored) as copy, pytest.raises(psycopg.errors.InsufficientPrivilege):
            copy.execute("DELETE FROM reports_dailyreport WHERE locality = %s", [silent.code])
    finally:
        with raw_connection(NAME="postgres") as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
