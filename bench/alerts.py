"""The early-warning rows of the benchmark (DESIGN.md §7): `alerts_run` at national scale — every assignment of
the catalogue (the commune-level tasks alone are 7 × 3,321), every commune's last 30 days of reports — within
3× its floor, and a second run that raises and sends nothing.

`measure()` runs in the benchmark database's own process (bench/run.py starts it with `manage.py shell`, like
the dashboards' query counts): it starts from no alert at all, loads the demo contacts so heads are mailed too,
times a first run with its digests (sent through Django's in-memory backend), then a second run. The floor, in
bare SQL: the reads the detections need (open assignments with their task's deadline, each commune's last
report, open support requests) and the same inserts as the first run — its alerts, notifications, digests,
digest items and events, the same rows into copies of those tables with the same indexes, one transaction.
It does not re-implement the rules' logic in SQL (the deadlines' thresholds, the missing-report ladder, the
incidents' office hours): that part of our time has no floor, and the ratio says how much it costs.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_RATIO = 3

FLOOR_SQL = [
    # the assignment rules: open assignments and their task's deadline
    "SELECT a.id, a.status, a.blocked_by_id, a.updated_at, t.deadline FROM tasks_assignment a "
    "JOIN tasks_task t ON t.id = a.task_id WHERE a.status <> 'completed'",
    # the missing-report ladder: each commune's last report
    "SELECT commune_id, MAX(date) FROM reports_dailyreport WHERE commune_id IS NOT NULL AND date >= %s "
    "GROUP BY commune_id",
    # open support requests
    "SELECT r.id FROM reports_dailyreport r LEFT JOIN alerts_supportresolution s ON s.report_id = r.id "
    "WHERE r.support_needed AND s.report_id IS NULL",
]


def _floor_seconds(reports_from) -> float:
    from django.db import connection

    runs = []
    for _attempt in range(3):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for sql in FLOOR_SQL:
                cursor.execute(sql, [reports_from] if "%s" in sql else [])
                cursor.fetchall()
        runs.append(time.perf_counter() - started)
    return min(runs)


# The tables a run writes, and which of their rows are the first run's (bench: its run id, the events after a mark).
RUN_TABLES = [
    ("alerts_alert", "run_id = %(run)s"),
    ("alerts_notification", "run_id = %(run)s"),
    ("alerts_digest", "run_id = %(run)s"),
    ("alerts_digestitem", "digest_id IN (SELECT id FROM alerts_digest WHERE run_id = %(run)s)"),
    ("core_event", "id > %(events_before)s AND id <= %(events_after)s"),
]


def _floor_inserts_seconds(marks: dict) -> tuple[float, dict]:
    """Best of 3: the detections' reads, then the first run's rows inserted again into copies of the tables (same
    indexes), in one transaction. Returns the seconds and the rows each table got."""
    from django.conf import settings
    from django.db import connection, transaction

    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        for table, _where in RUN_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS bench_floor_{table}")
            cursor.execute(f"CREATE TABLE bench_floor_{table} (LIKE {table} INCLUDING ALL)")
            cursor.execute(f"CREATE TEMPORARY TABLE bench_rows_{table} AS SELECT * FROM {table} WHERE {_where}", marks)
    runs = []
    for _attempt in range(3):
        with connection.cursor() as cursor:
            for table, _where in RUN_TABLES:
                cursor.execute(f"TRUNCATE bench_floor_{table}")
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            for sql in FLOOR_SQL:
                cursor.execute(sql, [settings.ALERTS_REPORTS_EXPECTED_FROM] if "%s" in sql else [])
                cursor.fetchall()
            for table, _where in RUN_TABLES:
                cursor.execute(f"INSERT INTO bench_floor_{table} SELECT * FROM bench_rows_{table}")
                counts[table] = cursor.rowcount
        runs.append(time.perf_counter() - started)
    with connection.cursor() as cursor:
        for table, _where in RUN_TABLES:
            cursor.execute(f"DROP TABLE bench_floor_{table}")
            cursor.execute(f"DROP TABLE bench_rows_{table}")
    return min(runs), counts


def measure() -> dict:
    """Time a first and a second run from an empty early-warning state. Writes to the current database."""
    from django.conf import settings
    from django.core import mail
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    from alerts.contacts import plan_contacts
    from alerts.models import Alert, AlertRun, Digest, DigestItem, Notification, SupportResolution
    from alerts.services.contacts import contacts_import
    from alerts.services.delivery import digests_send
    from alerts.services.runs import alerts_run
    from localities.models import Commune
    from reports.models import DailyReport
    from tasks.models import Assignment

    for model in (DigestItem, Digest, Notification, Alert, AlertRun, SupportResolution):
        model.objects.all().delete()
    plan = plan_contacts(ROOT / "fixtures" / "demo_contacts.csv")
    contacts_import(plan=plan, imported_by="bench", filename="demo_contacts.csv")
    mail.outbox = []
    from core.models import Event

    marks = {"events_before": Event.objects.order_by("-id").values_list("id", flat=True).first() or 0}
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        runs = []
        for index in range(2):
            sent_before = len(mail.outbox)
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                result = alerts_run(trigger="bench")
                sent = digests_send()
                seconds = time.perf_counter() - started
            runs.append(
                {
                    "seconds": seconds,
                    "queries": len(queries.captured_queries),
                    "raised": result.raised,
                    "closed": result.closed,
                    "notifications": result.notifications,
                    "digests": result.digests,
                    "sent": sent.sent,
                    "mails": len(mail.outbox) - sent_before,
                }
            )
            if index == 0:
                marks["run"] = result.run.pk
                marks["events_after"] = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    floor, floor_rows = _floor_inserts_seconds(marks)
    return {
        "first": runs[0],
        "second": runs[1],
        "floor": floor,
        "floor_rows": floor_rows,
        "detections_floor": _floor_seconds(settings.ALERTS_REPORTS_EXPECTED_FROM),
        "assignments": Assignment.objects.count(),
        "commune_assignments": Assignment.objects.filter(level="commune").count(),
        "communes": Commune.objects.count(),
        "report_days": DailyReport.objects.dates("date", "day").count(),
        "reports": DailyReport.objects.count(),
    }


SCRIPT = "import json; from bench.alerts import measure; print(json.dumps(measure()))"


def _rows(counts: dict) -> str:
    return ", ".join(f"{n:,} {table.split('_', 1)[1]}" for table, n in counts.items())


def alerts_rows(row, *, database_url: str) -> dict:
    """Add the early-warning rows to the benchmark's table; `database_url` is the database to measure."""
    env = {**os.environ, "DATABASE_URL": database_url}
    for argv in (["migrate", "--noinput"], ["shell", "-c", SCRIPT]):
        result = subprocess.run(
            [sys.executable, "manage.py", *argv], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode:
            raise RuntimeError(f"manage.py {argv[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    data = json.loads(result.stdout.strip().splitlines()[-1])
    first, second = data["first"], data["second"]
    scale = (
        f"{data['assignments']:,} assignments ({data['commune_assignments']:,} commune-level), "
        f"{data['communes']:,} communes, {data['report_days']} days of reports"
    )
    row(
        "alerts_run: national scale, first run",
        first["seconds"],
        data["floor"],
        f"≤ {GOAL_RATIO}× floor",
        None,
        "s",
        f"{scale}; {first['raised']:,} alerts raised, {first['notifications']:,} notifications, "
        f"{first['sent']:,} e-mail digests sent; {first['queries']} queries; floor: the detections' reads in bare "
        f"SQL ({data['detections_floor']:.3f} s alone) and the same inserts ({_rows(data['floor_rows'])}) into "
        "copies of the tables, one transaction; the rules' logic has no floor",
        ratio_goal=("≤", GOAL_RATIO),
    )
    quiet = second["raised"] == second["notifications"] == second["sent"] == second["mails"] == 0
    row(
        "alerts_run: second run sends nothing",
        second["seconds"],
        data["floor"],
        f"≤ {GOAL_RATIO}× floor, nothing raised or sent",
        quiet and second["seconds"] <= GOAL_RATIO * data["floor"],
        "s",
        f"{second['raised']} raised, {second['notifications']} notifications, {second['mails']} e-mails; "
        f"{second['queries']} queries; floor: the first run's",
    )
    return data
