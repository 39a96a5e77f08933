"""plan02 benchmarks: ours next to the floor measured in the same run, on the same machine and PostgreSQL.

    make bench                 # the national dataset: 510 days, 3,355 localities (~1.7 M reports)
    make bench-smoke           # a tiny dataset: checks that everything runs and prints the table

Needs PostgreSQL (DATABASE_URL's server, default postgres://postgres@127.0.0.1:5432) and Redis (REDIS_URL,
default redis://127.0.0.1:6379/12), wrk, and gunicorn/celery from the project's virtualenv. The benchmark
database (plan02_bench, or plan02_bench_smoke) is rebuilt unless --reuse finds the same dataset there.

Prints one table (what, ours, floor, ratio, goal, pass/fail) and writes it as JSON under bench/results/.
"""

import argparse
import datetime
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
BIN = Path(sys.executable).parent
CLIENTS = 16
GUNICORN_WORKERS = 4


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


# --- environment and dataset --------------------------------------------------------------------------


def configure(args):
    server = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    os.environ.update(
        {
            "DATABASE_URL": f"{server}/{args.db}",
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"),
            "DJANGO_SETTINGS_MODULE": "plan02.settings",
            "DJANGO_DEBUG": "False",
            "DJANGO_SECRET_KEY": "plan02-bench-" + "x" * 40,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_COOKIES": "false",
            "DJANGO_SECURE_SSL_REDIRECT": "false",  # the benchmark speaks plain HTTP to gunicorn
            "PLAN02_ALLOW_DEMO_DATA": "true",  # bootstrap and seed_demo fill this throwaway database
            "PLAN02_LOG_LEVEL": "WARNING",
            # The load test sends thousands of reports a minute per province key.
            "PLAN02_API_KEY_RATE": "1000000/min",
        }
    )
    return server


def psql(server, sql, db="postgres"):
    import psycopg

    with psycopg.connect(f"{server}/{db}", autocommit=True) as conn:
        return conn.execute(sql).fetchall() if sql.lstrip().upper().startswith("SELECT") else conn.execute(sql)


def manage(*argv, quiet=True):
    result = subprocess.run(
        [PYTHON, "manage.py", *argv], cwd=ROOT, env=os.environ, capture_output=quiet, text=True, check=False
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def dataset(args, server):
    """(Re)build the benchmark database with the project's own commands; returns the seconds it took."""
    exists = psql(server, f"SELECT 1 FROM pg_database WHERE datname = '{args.db}'")
    if args.reuse and exists:
        manage("migrate", "--noinput")  # the code may have new tables since the dataset was built
        import django

        django.setup()
        from django.db import connection
        from django.utils import timezone

        from reports.models import DailyReport

        days = DailyReport.objects.dates("date", "day").count()
        latest = DailyReport.objects.order_by("-date").values_list("date", flat=True).first()
        # A run replaces the reports of the last days (fresh slots for its POSTs): some may be missing. A dataset
        # whose last report is older than that is stale (built on an earlier day): rebuilt, so "the last N days"
        # and the lock window mean what they say.
        fresh = latest is not None and latest >= timezone.localdate() - datetime.timedelta(days=10)
        if days >= args.days - 7 and fresh:
            log(f"reusing {args.db}: {DailyReport.objects.count():,} reports over {days} days")
            return None
        log(f"{args.db} is stale or short ({days} days, the last {latest}): rebuilding it")
        connection.close()  # DROP DATABASE … WITH (FORCE) below would end it under our feet
    log(f"creating {args.db} and seeding {args.days} days (manage.py seed_demo)")
    started = time.perf_counter()
    psql(server, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
    psql(server, f'CREATE DATABASE "{args.db}"')
    manage("migrate", "--noinput")
    manage("bootstrap", "--days", "0")
    manage("seed_demo", "--days", str(args.days), "--no-progress")
    return time.perf_counter() - started


# --- processes ------------------------------------------------------------------------------------------


class Process:
    def __init__(self, argv, name, env=None):
        self.name = name
        self.log = open(RESULTS / f"{name}.log", "w")
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=env or os.environ, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def gunicorn(app, port, name, env=None):
    """plan02 and the floor are served by exactly this command."""
    return Process(
        [
            str(BIN / "gunicorn"),
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(GUNICORN_WORKERS),
            "--worker-class",
            "sync",
            "--backlog",
            "256",
            "--log-level",
            "warning",
        ],
        name,
        env=env,
    )


def worker(pool, node=None):
    """A Celery worker: `solo` (one process, for the rebuild's memory) or a `prefork` node of concurrency 2."""
    name = node or pool
    argv = [str(BIN / "celery"), "-A", "plan02", "worker", "--pool", pool, "-n", f"{name}@%h"]
    if pool == "prefork":
        argv += ["--concurrency", "2"]
    # INFO: a retried job says so ("retry:"), which counts as a failure of the freshness row.
    argv += ["--without-gossip", "--without-mingle", "--loglevel", "INFO"]
    return Process(argv, f"worker-{name}")


def wait_workers(count, timeout=60):
    from plan02.celery import app

    deadline = time.monotonic() + timeout
    while len(app.control.ping(timeout=1)) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count} worker nodes did not answer within {timeout}s")


def peak_rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


# --- HTTP helpers ---------------------------------------------------------------------------------------


def login(base, username, password):
    """A session cookie header for `username`, through the real login form (CSRF included)."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/accounts/login/")
    token = next(c.value for c in jar if c.name == "csrftoken")
    data = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    opener.open(urllib.request.Request(f"{base}/accounts/login/", data=data.encode(), headers={"Referer": base}))
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        raise RuntimeError(f"could not log in as {username}")
    return cookies


def post_json(url, body, headers):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    for k, v in headers.items():
        request.add_header(k, v)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            payload = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        payload, status = exc.read(), exc.code
    return status, json.loads(payload or b"null"), time.perf_counter() - started


def wrk(url, *, script, duration, env):
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{CLIENTS}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "bench" / "wrk" / script),
            url,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("{"))
    data = json.loads(line)
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    data["errors"] = data["socket_errors"] + data["non_2xx"]
    return data


# --- payloads -------------------------------------------------------------------------------------------


def payloads_for(day, units, rng):
    from reports.demo import report_payload

    return [report_payload(rng, unit, day) for unit in units]


def write_requests(path, rows):
    with open(path, "w") as fh:
        for header, body in rows:
            fh.write(f"{header}\t{json.dumps(body, separators=(',', ':'))}\n")


# --- the benchmark --------------------------------------------------------------------------------------


class Table:
    """The rows of the table: every figure next to its floor, measured in the same run."""

    def __init__(self):
        self.rows, self.notes = [], []

    def row(self, what, ours, floor, goal, ok, unit="", detail="", *, ratio_goal=None):
        """`ratio_goal` ("≤", 5): the goal is ours / floor ≤ 5 (or ≥); `ok` then defaults to that test."""
        ratio = ours / floor if ours is not None and floor else None
        if ratio_goal is not None and ok is None and ratio is not None:
            sign, bound = ratio_goal
            ok = ratio <= bound if sign == "≤" else ratio >= bound
        self.rows.append(
            {
                "what": what,
                "ours": ours,
                "floor": floor,
                "ratio": ratio,
                "unit": unit,
                "goal": goal,
                "pass": ok,
                "detail": detail,
            }
        )


def run(args):
    server = configure(args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    table = Table()
    row, notes = table.row, table.notes

    seed_seconds = dataset(args, server)
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from bench.purge import reports_purge
    from dashboards.rollups import rollup_rebuild_range
    from localities.models import Commune, Province
    from reports.demo import units
    from reports.models import DailyReport, RollupRequest
    from reports.services import api_client_issue
    from tasks.demo import demo_users_ensure

    today = timezone.localdate()
    n_reports = DailyReport.objects.count()
    first_day = DailyReport.objects.order_by("date").values_list("date", flat=True).first()
    notes.append(
        f"dataset: {n_reports:,} reports, {first_day} – {today - datetime.timedelta(days=1)}, "
        f"{Commune.objects.count():,} communes + {Province.objects.count()} provinces; {os.cpu_count()} cores"
    )
    if seed_seconds is not None:
        row("dataset: seed_demo", seed_seconds, None, "informational", None, "s")

    psql(server, "VACUUM ANALYZE", db=args.db)

    # Fresh slots: today (never seeded) for the batch; the last days of the lock window for the single POSTs
    # and the freshness rounds (their seeded reports are removed, then rebuilt into the rollups).
    recent = [today - datetime.timedelta(days=i) for i in range(1, 7)]
    reports_purge(queryset=DailyReport.objects.filter(date__gte=recent[-1]))
    rollup_rebuild_range(start=recent[-1], end=today)

    password = "bench-" + "p" * 12
    from django.contrib.auth import get_user_model

    demo_users_ensure(password=password)
    for user in get_user_model().objects.filter(username__in=["admin", "steering", "commune"]):
        user.set_password(password)
        user.save(update_fields=["password"])
    keys = {
        p: api_client_issue(name=f"bench {p}", locality=p)[1] for p in Province.objects.values_list("code", flat=True)
    }

    manage("collectstatic", "--noinput")
    floor_tables(connection)

    ours_port, floor_port = free_port(), free_port()
    web = gunicorn("plan02.wsgi", ours_port, "gunicorn-plan02")
    floor_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.floorsite.settings"}
    floor_web = gunicorn("bench.floorsite.wsgi", floor_port, "gunicorn-floor", env=floor_env)
    solo = worker("solo")
    nodes = []
    base, floor_base = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{floor_port}"
    try:
        wait_http(f"{base}/healthz")
        wait_http(f"{floor_base}/hello/")
        rng = random.Random(42)
        all_units = units(rng)
        key_of = {u.code: keys[u.province_id] for u in all_units}
        admin = session_header(base, "admin", password)
        steering = session_header(base, "steering", password)

        if wanted(args, "batch"):
            measure_batch(table, args, base, admin, payloads_for(today, all_units, rng), today)
            drain(RollupRequest)
        if wanted(args, "single"):
            measure_single(table, args, base, floor_base, key_of, all_units, recent[:5], rng)
            drain(RollupRequest)
        if wanted(args, "rebuild"):
            # A fresh solo worker: its peak memory is then the rebuild's, not that of the jobs the intake rows
            # queued before (the desk's notifications, the rollups of each POST).
            solo.stop()
            solo = worker("solo", node="solo-rebuild")
            wait_workers(1)
            measure_rebuild(table, first_day, today, solo, connection)
        solo.stop()

        if wanted(args, "freshness") or wanted(args, "burst"):
            # Two worker nodes (prefork, concurrency 2 each), as in production.
            nodes = [worker("prefork", node=f"node{i}") for i in (1, 2)]
            wait_workers(len(nodes))
        if wanted(args, "freshness"):
            measure_freshness(table, args, base, steering, key_of, all_units, recent[5], rng, nodes)
        if wanted(args, "burst"):
            measure_burst(table, args, base, floor_base, steering, key_of, all_units, recent[5], rng, nodes)

        if wanted(args, "dashboards"):
            measure_dashboards(table, args, base, floor_base, steering, recent[0])
            measure_dashboards_miss(table, args, base, floor_base, password, recent[0])
        if wanted(args, "counts"):
            measure_counts(table, args, server, recent[0])
        if wanted(args, "weak"):
            # Slow 3G in Chromium: the report form, My tasks and the national dashboard (bench/weak.py).
            from bench.weak import weak_rows

            weak_rows(row, base, floor_base, password)
    finally:
        for process in (web, floor_web, solo, *nodes):
            process.stop()
    # Early warning: alerts_run at national scale with 30 days of reports (the 30-day database; the smoke
    # dataset itself), then a second run that must send nothing.
    from bench.alerts import alerts_rows
    from bench.changes import changes_rows

    if wanted(args, "changes"):
        changes_rows(row, count=10_000 if args.smoke else 100_000)
    if wanted(args, "quality"):
        from bench.quality import quality_rows

        quality_rows(row)
    if wanted(args, "alerts"):
        alerts_rows(
            row, database_url=thirty_day_database(server, args) if args.days > 30 else os.environ["DATABASE_URL"]
        )
    if wanted(args, "scale"):
        from bench.scale import scale_rows

        # 10× the reporting units against the 30-day database.
        base_url = thirty_day_database(server, args) if args.days > 30 else os.environ["DATABASE_URL"]
        scale_rows(row, server=server, args=args, base_url=base_url, log=log)
    report(table.rows, notes, args)
    return table.rows


GROUPS = (
    "batch",
    "single",
    "rebuild",
    "freshness",
    "burst",
    "dashboards",
    "counts",
    "alerts",
    "changes",
    "quality",
    "weak",
    "scale",
)


# The single-POST floor's tables (bench/floorsite): copies of the reports, their revisions and the rollup requests,
# with their rows, indexes, checks and foreign keys (NOT VALID: new rows are checked, as ours are), so the floor's
# writes cost what ours do on tables of the same size.
FLOOR_TABLES = [
    ("bench_floor_reports", "reports_dailyreport"),
    ("bench_floor_revisions", "reports_reportrevision"),
    ("bench_floor_rollup_requests", "reports_rolluprequest"),
]
FLOOR_KEYS = [
    ("bench_floor_reports", "province_id", "localities_province (code)"),
    ("bench_floor_reports", "commune_id", "localities_commune (code)"),
    ("bench_floor_revisions", "report_id", "bench_floor_reports (id)"),
    ("bench_floor_rollup_requests", "province_id", "localities_province (code)"),
]


def floor_tables(connection):
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for copy, _table in reversed(FLOOR_TABLES):
            cursor.execute(f"DROP TABLE IF EXISTS {copy}")
        for copy, table in FLOOR_TABLES:
            cursor.execute(f"CREATE TABLE {copy} (LIKE {table} INCLUDING ALL)")
            cursor.execute(f"INSERT INTO {copy} SELECT * FROM {table}")
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{copy}', 'id'), coalesce(max(id), 0) + 1) FROM {copy}"
            )
        for copy, column, target in FLOOR_KEYS:
            cursor.execute(
                f"ALTER TABLE {copy} ADD FOREIGN KEY ({column}) REFERENCES {target} DEFERRABLE INITIALLY DEFERRED "
                "NOT VALID"
            )
        cursor.execute(f"ANALYZE {', '.join(copy for copy, _t in FLOOR_TABLES)}")
    log(f"floor tables copied ({time.perf_counter() - started:.1f} s)")


def wanted(args, group):
    if group == "scale" and args.smoke and not args.only:
        # Two more databases to build (bootstrap, seed): minutes, more than the smoke run's whole budget in
        # `make test`; `--smoke --only scale` runs it (tests/bench/test_scale.py checks its synthetic units).
        return False
    return not args.only or group in args.only


def session_header(base, username, password):
    cookies = login(base, username, password)
    return {"cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "csrf": cookies["csrftoken"]}


def measure_batch(table, args, base, admin, batch, day):
    """One national day through the batch endpoint, end to end over HTTP, next to a bare psycopg upsert of
    the same rows into the copy of the reports table (same size, indexes, checks and foreign keys: floor_tables);
    best of 3 each, each into an empty day."""
    import psycopg

    from bench.purge import reports_purge
    from localities.models import Commune, Province
    from reports.figures import INTEGER_FIELDS
    from reports.models import DailyReport

    province_of = dict(Commune.objects.values_list("code", "province_id"))
    province_of.update({code: code for code in Province.objects.values_list("code", flat=True)})
    columns = ["locality", "date", *INTEGER_FIELDS, "difficulties", "proposals", "support_needed"]
    floor_rows = [[*(p[c] for c in columns), province_of[p["locality"]]] for p in batch]
    marks = ", ".join(["%s"] * len(columns))
    floor_sql = (
        f"INSERT INTO bench_floor_reports ({', '.join(columns)}, outage_systems, province_id, receipt, "
        f"payload_hash, revision, late, received_at, updated_at) VALUES ({marks}, "
        "'[]', %s, '', '', 1, false, now(), now()) ON CONFLICT (locality, date) DO NOTHING"
    )
    runs, floor_runs = [], []
    for _attempt in range(3):
        reports_purge(queryset=DailyReport.objects.filter(date=day))
        status, body, seconds = post_json(
            f"{base}/api/v1/reports/daily/batch/",
            {"reports": batch},
            {"Cookie": admin["cookie"], "X-CSRFToken": admin["csrf"], "Referer": base},
        )
        created = sum(1 for r in (body or {}).get("results", []) if r.get("status") == "created")
        runs.append((seconds, status, created))
        with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
            conn.execute("DELETE FROM bench_floor_reports WHERE date = %s", [day])
            conn.commit()
            started = time.perf_counter()
            with conn.cursor() as cur:
                cur.executemany(floor_sql, floor_rows)
            conn.commit()
            floor_runs.append(time.perf_counter() - started)
    seconds, status, created = min(runs)
    complete = all(s == 200 and c == len(batch) for _t, s, c in runs)
    table.row(
        f"batch: one national day ({len(batch):,} reports), HTTP end to end, best of 3",
        seconds,
        min(floor_runs),
        "≤ 3× floor",
        None if complete else False,
        "s",
        f"HTTP {status}, {created:,} created; runs {', '.join(f'{t:.2f}' for t, _s, _c in runs)} s; floor: bare "
        f"psycopg executemany upsert of the same rows into a copy of the table at the same size, "
        f"runs {', '.join(f'{t:.3f}' for t in floor_runs)} s",
        ratio_goal=("≤", 3),
    )


def measure_single(table, args, base, floor_base, key_of, all_units, days, rng):
    """The single-report POST under 16 clients, each request a new report, next to a bare Django view making
    the same durable writes (bench/floorsite: report, revision, rollup request, one transaction, tables of the
    same size) served by the same gunicorn command."""
    requests_ours = []
    # As in real life, everyone sends the same day's report: the most recent day first, localities in random
    # order within a day.
    for day in days:
        day_requests = [(f"Token {key_of[p['locality']]}", p) for p in payloads_for(day, all_units, rng)]
        rng.shuffle(day_requests)
        requests_ours.extend(day_requests)
    # The floor serves several times our rate: enough distinct rows (earlier years) to insert for the whole
    # run, never an ON CONFLICT that writes nothing.
    requests_floor = [
        ("Token -", {**p, "date": f"{int(p['date'][:4]) - shift}{p['date'][4:]}"})
        for shift in range(1, 7)
        for _h, p in requests_ours
    ]
    write_requests(RESULTS / "requests-ours.txt", requests_ours)
    write_requests(RESULTS / "requests-floor.txt", requests_floor)
    floor = wrk(
        f"{floor_base}/report/",
        script="post.lua",
        duration=args.duration,
        env={"BENCH_REQUESTS": str(RESULTS / "requests-floor.txt")},
    )
    ours = wrk(
        f"{base}/api/v1/reports/daily/",
        script="post.lua",
        duration=args.duration,
        env={"BENCH_REQUESTS": str(RESULTS / "requests-ours.txt")},
    )
    if ours["requests"] > len(requests_ours):
        table.notes.append("single POST: more requests than fresh reports; later ones were replays (200)")
    table.row(
        "single POST: requests/s, 16 clients, zero errors",
        ours["rps"],
        floor["rps"],
        "≥ 0.7× floor, 0 errors",
        False if ours["errors"] else None,
        "req/s",
        f"{ours['requests']:,} requests, {ours['errors']} errors (socket {ours['socket_errors']}, non-2xx "
        f"{ours['non_2xx']}); p50 {ours['p50_ms']:.1f} ms, p95 {ours['p95_ms']:.1f} ms (floor {floor['p95_ms']:.1f}); "
        "floor: bare Django view, the same durable writes (report, revision, rollup request, one transaction, "
        "tables of the same size), same gunicorn",
        ratio_goal=("≥", 0.7),
    )


def measure_rebuild(table, first_day, today, solo, connection):
    """The full rebuild through the real worker (solo pool: its peak memory is the process's), next to the
    hand-written INSERT … SELECT … GROUP BY of the same sums; and one (province, day), next to the same
    statement for one (province, day)."""
    from django.utils import timezone

    from dashboards.jobs import rollup_range
    from dashboards.models import NationDayRollup
    from dashboards.rollups import rollup_rebuild
    from localities.models import Province
    from reports.figures import INTEGER_FIELDS

    start, end = first_day, today
    full_runs = []
    for _attempt in range(3):  # best of 3
        mark = timezone.now()
        started = time.perf_counter()
        rollup_range.delay(start.isoformat(), end.isoformat())
        deadline = time.monotonic() + 600
        while not NationDayRollup.objects.filter(date=end, built_at__gte=mark).exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the full rebuild did not finish within 10 minutes")
            time.sleep(0.02)
        full_runs.append(time.perf_counter() - started)
    worker_mb = peak_rss_mb(solo.proc.pid)
    sums = ", ".join(f"SUM({f})" for f in INTEGER_FIELDS)
    named_sums = ", ".join(f"SUM({f}) AS {f}" for f in INTEGER_FIELDS)
    floor_sql = f"INSERT INTO bench_floor_rollup SELECT province_id, date, {sums}, COUNT(*) FROM reports_dailyreport"
    floor_runs = []
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_floor_rollup")
        cursor.execute(
            f"CREATE TABLE bench_floor_rollup AS SELECT province_id, date, {named_sums}, COUNT(*) AS n "
            "FROM reports_dailyreport WHERE false GROUP BY province_id, date"
        )
        for _attempt in range(3):
            cursor.execute("TRUNCATE bench_floor_rollup")
            started = time.perf_counter()
            cursor.execute(f"{floor_sql} GROUP BY province_id, date")
            floor_runs.append(time.perf_counter() - started)
    days = (end - start).days + 1
    table.row(
        f"rollup: full rebuild, {days} days, through the worker, best of 3; worker peak memory",
        min(full_runs),
        min(floor_runs),
        "≤ 1.3× floor; ≤ 300 MB",
        False if worker_mb is None or worker_mb > 300 else None,
        "s",
        f"runs {', '.join(f'{t:.2f}' for t in full_runs)} s; worker peak {worker_mb:.0f} MB (VmHWM, solo pool); "
        f"floor runs {', '.join(f'{t:.2f}' for t in floor_runs)} s: one INSERT … SELECT … GROUP BY of the same sums",
        ratio_goal=("≤", 1.3),
    )
    rng = random.Random(7)
    provinces = list(Province.objects.values_list("code", flat=True))
    ours, floor = [], []
    with connection.cursor() as cursor:
        for _ in range(40):
            province, day = rng.choice(provinces), start + datetime.timedelta(days=rng.randrange(days - 1))
            t = time.perf_counter()
            rollup_rebuild(province_id=province, day=day)
            ours.append(time.perf_counter() - t)
            cursor.execute("TRUNCATE bench_floor_rollup")
            t = time.perf_counter()
            cursor.execute(
                f"{floor_sql} WHERE province_id = %s AND date = %s GROUP BY province_id, date", [province, day]
            )
            floor.append(time.perf_counter() - t)
    p95 = sorted(ours)[int(len(ours) * 0.95) - 1] * 1000
    floor_p95 = sorted(floor)[int(len(floor) * 0.95) - 1] * 1000
    table.row(
        "rollup: one (province, day) rebuild, p95 of 40",
        p95,
        floor_p95,
        "informational",
        None,
        "ms",
        f"median {statistics.median(ours) * 1000:.1f} ms; floor: the same INSERT … SELECT for one (province, day), "
        "in autocommit",
    )


def measure_freshness(table, args, base, steering, key_of, all_units, day, rng, nodes):
    """Reports from every province at once (one commune each, 34 POSTs in parallel), then the national JSON
    read until it shows all of them: from the first acceptance to the moment the last number is visible.
    Two worker nodes (prefork, concurrency 2 each). Floor: the same 34 POSTs and one read of the JSON."""
    import concurrent.futures
    import threading

    from bench.purge import reports_purge
    from dashboards.rollups import rollup_rebuild_range
    from reports.models import DailyReport, RollupRequest

    by_province = {}
    for unit in all_units:
        if unit.commune_id and unit.province_id not in by_province:
            by_province[unit.province_id] = unit
    chosen = list(by_province.values())
    rounds = 1 if args.smoke else 3
    waits, floors, jobs = [], [], []
    for _round in range(rounds):
        reports_purge(queryset=DailyReport.objects.filter(date=day, locality__in=[u.code for u in chosen]))
        rollup_rebuild_range(start=day, end=day)
        before = dashboard_total(base, day, steering["cookie"])
        payloads = payloads_for(day, chosen, rng)
        for payload in payloads:
            payload["received_direct"] += 1000  # a change big enough to see
        expected = before + sum(p["received_direct"] for p in payloads)
        barrier = threading.Barrier(len(payloads))

        def send(payload, barrier=barrier):
            barrier.wait()
            status, _body, seconds = post_json(
                f"{base}/api/v1/reports/daily/", payload, {"Authorization": f"Token {key_of[payload['locality']]}"}
            )
            return status, time.perf_counter(), seconds

        with concurrent.futures.ThreadPoolExecutor(len(payloads)) as pool:
            results = list(pool.map(send, payloads))
        if any(status != 201 for status, _t, _s in results):
            raise RuntimeError(f"freshness POSTs answered {sorted({s for s, _t, _s in results})}")
        first_accepted = min(t for _s, t, _d in results)
        deadline = time.perf_counter() + 30
        while (total := dashboard_total(base, day, steering["cookie"])) != expected:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"the national dashboard showed {total}, not {expected}, after 30 s")
            time.sleep(0.01)
        waits.append(time.perf_counter() - first_accepted)
        t = time.perf_counter()
        dashboard_total(base, day, steering["cookie"])
        floors.append(max(s for _st, _t, s in results) + time.perf_counter() - t)
        drain(RollupRequest)
    failed = failed_jobs(nodes)
    jobs.append(failed)
    table.row(
        "freshness: every province at once → national dashboard, two worker nodes",
        max(waits),
        max(floors),
        "≤ 2 s, no job fails",
        max(waits) <= 2 and not failed,
        "s",
        f"worst of {rounds} rounds of {len(chosen)} parallel POSTs: {', '.join(f'{w:.2f}' for w in waits)} s; "
        f"{len(failed)} failed job(s){': ' + '; '.join(failed[:3]) if failed else ''}; "
        "floor: the slowest of the POSTs plus one read of the JSON, without waiting for a rollup",
    )


def measure_burst(table, args, base, floor_base, steering, key_of, all_units, day, rng, nodes):
    """The 08:00 burst: every locality (3,321 communes and 34 provinces) sends its report of one day once, 16
    clients as fast as they are answered, two worker nodes rolling up behind; then the national JSON read until
    it counts every one of them. The floor: the same burst of fresh rows against the bare Django view that makes
    the same durable writes (bench/floorsite)."""
    from bench.purge import reports_purge
    from dashboards.rollups import rollup_rebuild_range
    from reports.models import DailyReport, RollupRequest

    reports_purge(queryset=DailyReport.objects.filter(date=day))
    rollup_rebuild_range(start=day, end=day)
    drain(RollupRequest)
    requests_ours = [(f"Token {key_of[p['locality']]}", p) for p in payloads_for(day, all_units, rng)]
    rng.shuffle(requests_ours)
    requests_floor = [("Token -", {**p, "date": f"{int(p['date'][:4]) - 7}{p['date'][4:]}"}) for _h, p in requests_ours]
    floor = burst(f"{floor_base}/report/", requests_floor)
    ours = burst(f"{base}/api/v1/reports/daily/", requests_ours)
    answered = time.perf_counter()
    expected = len(requests_ours)
    deadline = answered + 60
    while (received := dashboard_received(base, day, steering["cookie"])) < expected:
        if time.perf_counter() > deadline:
            break
        time.sleep(0.01)
    current = time.perf_counter() - answered
    stored = DailyReport.objects.filter(date=day).count()
    revised = DailyReport.objects.filter(date=day, revision__gt=1).count()
    seconds = ours["seconds"]
    drain(RollupRequest)
    failed = failed_jobs(nodes)
    ok = (
        not ours["errors"]
        and stored == expected
        and not revised
        and received >= expected
        and current <= 2
        and seconds <= 60
        and not failed
    )
    table.row(
        "08:00 burst: every locality once, 16 clients, two worker nodes: p95",
        ours["p95_ms"],
        floor["p95_ms"],
        "≤ 3× floor, 0 errors, all within 60 s, dashboard current ≤ 2 s after the last answer",
        ok and ours["p95_ms"] <= 3 * floor["p95_ms"],
        "ms",
        f"{expected:,} reports in {seconds:.1f} s ({expected / seconds:.0f} req/s; floor {floor['seconds']:.1f} s); "
        f"p50 {ours['p50_ms']:.1f} ms (floor {floor['p50_ms']:.1f}); {ours['errors']} errors (statuses "
        f"{ours['statuses']}); stored {stored:,}, corrected {revised}; national "
        f"dashboard counted {received:,} of {expected:,} {current:.2f} s after the last answer; {len(failed)} failed "
        "job(s); floor: bare Django view, the same durable writes, same gunicorn; both driven by the same "
        "Python client (16 threads, one keep-alive connection each, every request once)",
        ratio_goal=("≤", 3),
    )


def burst(url, requests):
    """Send each (authorization, body) of `requests` exactly once over CLIENTS keep-alive connections, as fast
    as they are answered (wrk cannot stop at the end of a list). Latencies, statuses and the wall time."""
    import http.client
    import queue
    import threading
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    work = queue.SimpleQueue()
    for header, body in requests:
        work.put((header, json.dumps(body, separators=(",", ":")).encode()))
    latencies, statuses = [], {}
    lock = threading.Lock()

    def client():
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        mine = []
        while True:
            try:
                header, data = work.get_nowait()
            except queue.Empty:
                break
            started = time.perf_counter()
            try:
                connection.request(
                    "POST", parts.path, data, {"Content-Type": "application/json", "Authorization": header}
                )
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = 0  # a socket error
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
            mine.append(((time.perf_counter() - started) * 1000, status))
        connection.close()
        with lock:
            for ms, status in mine:
                latencies.append(ms)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "seconds": seconds,
        "p50_ms": statistics.median(latencies),
        "p95_ms": cuts[94],
        "statuses": dict(sorted(statuses.items())),
        "errors": sum(n for status, n in statuses.items() if not 200 <= status < 300),
    }


def dashboard_received(base, day, cookie):
    request = urllib.request.Request(f"{base}/api/v1/dashboard/national/?date={day.isoformat()}")
    request.add_header("Cookie", cookie)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["completeness"]["received"]


def failed_jobs(nodes):
    """Lines of the worker nodes' logs that say a job failed (or was retried after an error)."""
    lines = []
    for node in nodes:
        node.log.flush()
        text = (RESULTS / f"{node.name}.log").read_text(errors="replace")
        lines += [line for line in text.splitlines() if " ERROR" in line or "Traceback" in line or "retry:" in line]
    return lines


# (name, URL, a marker the answer must hold: a 302 to the login page or an error page is no dashboard)
DASHBOARDS = [
    ("national page", "/dashboard/?date={day}", 'data-testid="target-cards"'),
    ("phase page", "/dashboard/phases/", 'data-testid="coverage"'),
    ("provinces page", "/dashboard/provinces/?date={day}", 'data-testid="province-ranking"'),
    ("national JSON", "/api/v1/dashboard/national/?date={day}", '"completeness"'),
    ("phase JSON", "/api/v1/dashboard/phases/", '"deadline"'),
    ("provinces JSON", "/api/v1/dashboard/provinces/?date={day}", '"province"'),
]


def measure_dashboards(table, args, base, floor_base, steering, day):
    """Each dashboard under 16 clients, p95, next to a bare Django view (no middleware, no database) measured
    just before it: the machine drifts, so each row has its own floor. One steering session, warmed up: this is
    the page cache's hit path, and the row says so. A response is good only with status 200 and the
    dashboard's marker in its body (bench/wrk/get.lua)."""
    cookie = {"BENCH_COOKIE": steering["cookie"]}
    for name, template, marker in DASHBOARDS:
        url = f"{base}{template.format(day=day)}"
        env = {**cookie, "BENCH_MARKER": marker}
        wrk(url, script="get.lua", duration=1, env=env)  # every gunicorn worker learns the page (warm-up)
        hello = wrk(f"{floor_base}/hello/", script="get.lua", duration=args.duration, env={"BENCH_MARKER": "ok"})
        result = wrk(url, script="get.lua", duration=args.duration, env=env)
        table.row(
            f"dashboard {name}: p95, 16 clients, page cache hit",
            result["p95_ms"],
            hello["p95_ms"],
            "≤ 2× floor, 0 errors",
            False if result["errors"] else None,
            "ms",
            f"{result['rps']:.0f} req/s (floor {hello['rps']:.0f}), {result['errors']} errors (not 200, or no "
            f"{marker}); p50 {result['p50_ms']:.1f} ms; one warmed-up steering session (the page cache's hit "
            "path); floor: bare Django view, no middleware, no database",
            ratio_goal=("≤", 2),
        )


def _round_latencies(url, cookies, rounds, before_round):
    """`rounds` rounds of one GET per session, all at once; `before_round()` runs before each. Latencies in ms,
    and how many answers were not a 200."""
    from concurrent.futures import ThreadPoolExecutor

    def get(cookie):
        request = urllib.request.Request(url)
        if cookie:
            request.add_header("Cookie", cookie)
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        return (time.perf_counter() - started) * 1000, status

    latencies, bad = [], 0
    with ThreadPoolExecutor(max_workers=len(cookies)) as pool:
        for _ in range(rounds):
            before_round()
            for ms, status in pool.map(get, cookies):
                latencies.append(ms)
                bad += status != 200
    return latencies, bad


def measure_dashboards_miss(table, args, base, floor_base, password, day):
    """The page cache's miss path: 16 sessions (each its own login) ask at once, right after the rollups changed
    (the dashboards' cache generation is bumped before each round, as a rebuild does). The floor: the same
    rounds against the bare Django view."""
    from dashboards import cache as dashboard_cache

    cookies = [session_header(base, "steering", password)["cookie"] for _ in range(CLIENTS)]
    rounds = 3 if args.smoke else 20
    for name, template, _marker in DASHBOARDS:
        url = f"{base}{template.format(day=day)}"
        floor, _ = _round_latencies(f"{floor_base}/hello/", [""] * CLIENTS, rounds, lambda: None)
        ours, bad = _round_latencies(url, cookies, rounds, dashboard_cache.invalidate)
        p95 = statistics.quantiles(ours, n=20)[-1]
        floor_p95 = statistics.quantiles(floor, n=20)[-1]
        table.row(
            f"dashboard {name}: p95, 16 sessions, page cache miss",
            p95,
            floor_p95,
            "reported (no goal in §7), 0 errors",
            False if bad else None,
            "ms",
            f"{rounds} rounds of {CLIENTS} sessions at once, the cache generation bumped before each round; {bad} "
            "errors; floor: the same rounds against a bare Django view",
        )


def measure_counts(table, args, server, day):
    """Queries of each dashboard built cold (right after the rollups changed), at 30 days of history and at
    the full history."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts = query_counts(CaptureQueriesContext, connection, Client, day)
    short = counts_at_30_days(server, args) if args.days > 30 else None
    for name, n in counts.items():
        if short is None:
            table.row(f"dashboard {name}: queries at {args.days} days", n, None, "fixed", None, "queries")
        else:
            table.row(
                f"dashboard {name}: queries, 30 days of history / {args.days} days",
                short[name],
                n,
                "the same",
                short[name] == n,
                "queries",
                "30 days: a second database seeded with seed_demo --days 30",
            )


COUNTS_SCRIPT = """
import json, datetime
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from bench.run import query_counts
print(json.dumps(query_counts(CaptureQueriesContext, connection, Client,
                              timezone.localdate() - datetime.timedelta(days=1))))
"""


def thirty_day_database(server, args):
    """A second database with 30 days of history up to yesterday (the dashboards' query counts at 30 days, the
    early-warning rows): built when missing, rebuilt when stale (its last report older than 10 days), else
    reused. Returns its DATABASE_URL."""
    db = f"{args.db}_30"
    url = f"{server}/{db}"
    exists = psql(server, f"SELECT 1 FROM pg_database WHERE datname = '{db}'")
    try:
        latest = psql(server, "SELECT max(date) FROM reports_dailyreport", db=db)[0][0] if exists else None
    except Exception:  # a half-built database (no table yet) is rebuilt like a stale one
        latest = None
    fresh = latest is not None and latest >= datetime.date.today() - datetime.timedelta(days=10)
    if not fresh:
        log(f"{'rebuilding' if exists else 'creating'} {db} with 30 days of history")
        psql(server, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        psql(server, f'CREATE DATABASE "{db}"')
        env = {**os.environ, "DATABASE_URL": url}
        for argv in (
            ["migrate", "--noinput"],
            ["bootstrap", "--days", "0"],
            ["seed_demo", "--days", "30", "--no-progress"],
        ):
            subprocess.run([PYTHON, "manage.py", *argv], cwd=ROOT, env=env, check=True, capture_output=True)
    else:
        # Reused: the code may have new tables or columns since it was built, as for the national dataset.
        env = {**os.environ, "DATABASE_URL": url}
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True
        )
    return url


def counts_at_30_days(server, args):
    """Dashboard query counts on the 30-day database."""
    env = {**os.environ, "DATABASE_URL": thirty_day_database(server, args)}
    out = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", COUNTS_SCRIPT],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def drain(RollupRequest, timeout=300):
    """Wait until the broker queue is empty and no rollup request is pending."""
    import redis

    broker = redis.Redis.from_url(os.environ["REDIS_URL"])
    deadline = time.monotonic() + timeout
    while broker.llen("celery") or RollupRequest.objects.exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the worker did not drain its queue")
        time.sleep(0.2)


def dashboard_total(base, day, cookie):
    request = urllib.request.Request(f"{base}/api/v1/dashboard/national/?date={day.isoformat()}")
    request.add_header("Cookie", cookie)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["totals"]["received_direct"]


def query_counts(CaptureQueriesContext, connection, Client, day):
    """Queries of each dashboard of DASHBOARDS, built cold: right after the rollups changed."""
    from django.contrib.auth import get_user_model

    from dashboards import cache as dashboard_cache

    client = Client()
    client.force_login(get_user_model().objects.get(username="steering"))
    counts = {}
    for _name, template, _marker in DASHBOARDS:  # warm-up: what a process loads once (the form's versions, …)
        client.get(template.format(day=day), HTTP_HOST="127.0.0.1")
    for name, template, _marker in DASHBOARDS:
        path = template.format(day=day)
        dashboard_cache.invalidate()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, HTTP_HOST="127.0.0.1")
        assert response.status_code == 200, (path, response.status_code)
        counts[name] = len(queries.captured_queries)
    return counts


def fmt(value, unit):
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.3f}" if unit == "s" else f"{value:,.1f}"
    return f"{value:,}"


def report(rows, notes, args):
    headers = ["what", "ours", "floor", "ratio", "goal", "result"]
    table = []
    for r in rows:
        ratio = r.get("ratio")
        result = "—" if r["pass"] is None else ("pass" if r["pass"] else "FAIL")
        table.append(
            [
                r["what"],
                f"{fmt(r['ours'], r['unit'])} {r['unit']}".strip(),
                f"{fmt(r['floor'], r['unit'])} {r['unit']}".strip() if r["floor"] is not None else "—",
                f"{ratio:.2f}×" if ratio is not None else "—",
                r["goal"],
                result,
            ]
        )
    widths = [max(len(str(row[i])) for row in [headers, *table]) for i in range(len(headers))]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print()
    print(line)
    print("  ".join("-" * w for w in widths))
    for row in table:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    for note in notes:
        print(f"note: {note}")
    for r in rows:
        if r["detail"]:
            print(f"  {r['what']}: {r['detail']}")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"bench-{'smoke-' if args.smoke else ''}{stamp}.json"
    path.write_text(
        json.dumps(
            {
                "when": stamp,
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "args": vars(args),
                "notes": notes,
                "rows": rows,
            },
            indent=2,
            default=str,
        )
    )
    print(f"written: {path.relative_to(ROOT)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=510)
    parser.add_argument("--duration", type=int, default=10, help="seconds of each load test")
    parser.add_argument("--db", default=None)
    parser.add_argument("--reuse", action="store_true", help="keep the database when it has the dataset already")
    parser.add_argument("--smoke", action="store_true", help="tiny dataset and short runs: checks that it works")
    parser.add_argument(
        "--only", action="append", choices=GROUPS, help="measure only these rows (repeatable; for profiling and A/B)"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.days, args.duration = min(args.days, 3), min(args.duration, 1)
    args.db = args.db or ("plan02_bench_smoke" if args.smoke else "plan02_bench")
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    rows = run(args)
    failed = [r["what"] for r in rows if r["pass"] is False]
    if failed and not args.smoke:
        sys.exit(f"{len(failed)} goal(s) not reached: {', '.join(failed)}")


if __name__ == "__main__":
    main()
