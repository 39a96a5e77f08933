"""How cost grows with the reporting units (DESIGN.md §7, the last row): the same measurements on the 30-day
database (3,355 localities) and on a synthetic one with ten times the reporting units — every commune's one-stop
desks reporting on their own, 9 more per commune in its province (33,244 localities with the provinces' own 34;
§7 says 33,550, ten times every unit) — over the same 30 days:

- the batch: one national day through the batch endpoint (in chunks of REPORT_BATCH_MAX), into an empty day;
- the full rollup rebuild of the 30 days, next to the hand-written INSERT … SELECT … GROUP BY at each scale;
- each dashboard of bench.run.DASHBOARDS: p95 of the page cache's hit path, a cold build (its median) and its
  query count.

Each scale is measured by the project's own code in a process of its own (`manage.py shell`, the database's
DATABASE_URL), in-process through Django's test client: what is compared is our cost at 10× to our cost at 1×,
on the same machine in the same run. The goal is §7's: batch and rebuild grow at most 11× (linear), the
dashboards' p95 and query counts stay as at 1×.

The synthetic desks are communes of the database only (codes from 40000 up, named after their commune, slots
after the province's last): `manage.py shell -c "from bench.scale import desks_add; desks_add(9)"`.
"""

import datetime
import json
import os
import statistics
import subprocess
import time

DESKS_FIRST_CODE = 40000


def desks_add(per_commune: int) -> int:
    """Add `per_commune` synthetic reporting units (communes of this database) beside every commune, in its
    province. Returns how many were added."""
    from django.db import transaction

    from localities.models import COMMUNE_CODE_LENGTH, Commune

    communes = list(Commune.objects.order_by("province_id", "code"))
    highest = max(int(c.code) for c in communes)
    if highest >= DESKS_FIRST_CODE:
        raise SystemExit(f"commune code {highest} is in the synthetic range (from {DESKS_FIRST_CODE})")
    next_slot: dict[str, int] = {}
    for commune in communes:
        next_slot[commune.province_id] = max(next_slot.get(commune.province_id, 0), commune.slot + 1)
    code = DESKS_FIRST_CODE
    desks = []
    for commune in communes:
        for n in range(2, per_commune + 2):
            desks.append(
                Commune(
                    code=str(code).zfill(COMMUNE_CODE_LENGTH),
                    name=f"{commune.name} · điểm {n}",
                    codename=f"{commune.codename}-{n}",
                    division_type=commune.division_type,
                    province_id=commune.province_id,
                    slot=next_slot[commune.province_id],
                    data_version="synthetic (bench/scale.py)",
                )
            )
            next_slot[commune.province_id] += 1
            code += 1
    with transaction.atomic():
        Commune.objects.bulk_create(desks, batch_size=2000)
    return len(desks)


def scale_database(server: str, db: str, *, days: int, per_commune: int, log) -> str:
    """The synthetic database (built when missing or stale, as the 30-day one); returns its DATABASE_URL."""
    from bench.run import PYTHON, ROOT, psql

    url = f"{server}/{db}"
    exists = psql(server, f"SELECT 1 FROM pg_database WHERE datname = '{db}'")
    try:
        latest = psql(server, "SELECT max(date) FROM reports_dailyreport", db=db)[0][0] if exists else None
    except Exception:  # a half-built database (no table yet) is rebuilt like a stale one
        latest = None
    env = {**os.environ, "DATABASE_URL": url}
    if latest is None or latest < datetime.date.today() - datetime.timedelta(days=10):
        log(f"{'rebuilding' if exists else 'creating'} {db}: {per_commune + 1}× the reporting units, {days} days")
        psql(server, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        psql(server, f'CREATE DATABASE "{db}"')
        for argv in (
            ["migrate", "--noinput"],
            ["bootstrap", "--days", "0"],
            ["shell", "-c", f"from bench.scale import desks_add; desks_add({per_commune})"],
            ["seed_demo", "--days", str(days), "--no-progress"],
        ):
            subprocess.run([PYTHON, "manage.py", *argv], cwd=ROOT, env=env, check=True, capture_output=True)
        psql(server, "VACUUM ANALYZE", db=db)
    else:
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True
        )
    return url


MEASURE_SCRIPT = "from bench.scale import measure; measure({rounds})"


def measure(rounds: int) -> None:
    """Run in a `manage.py shell` on one database: prints one JSON line with what this scale costs."""
    import random

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bench.purge import reports_purge
    from bench.run import DASHBOARDS, payloads_for, query_counts
    from dashboards import cache as dashboard_cache
    from dashboards.rollups import rollup_rebuild_range
    from reports.demo import units
    from reports.figures import INTEGER_FIELDS
    from reports.models import DailyReport
    from tasks.demo import demo_users_ensure

    # Each scale starts from an empty cache (they share the benchmark's Redis database).
    cache.clear()
    today = timezone.localdate()
    demo_users_ensure()
    User = get_user_model()
    rng = random.Random(42)
    all_units = units(rng)
    out: dict = {"units": len(all_units)}

    # The batch: a national day into today (never seeded), emptied before each run.
    admin = Client()
    admin.force_login(User.objects.get(username="admin"))
    batch = payloads_for(today, all_units, rng)
    runs = []
    for _ in range(2):
        reports_purge(queryset=DailyReport.objects.filter(date=today))
        started = time.perf_counter()
        created = 0
        for i in range(0, len(batch), settings.REPORT_BATCH_MAX):
            response = admin.post(
                "/api/v1/reports/daily/batch/",
                {"reports": batch[i : i + settings.REPORT_BATCH_MAX]},
                content_type="application/json",
                HTTP_HOST="127.0.0.1",
            )
            assert response.status_code == 200, response.content[:300]
            created += sum(1 for r in response.json()["results"] if r["status"] == "created")
        runs.append(time.perf_counter() - started)
        assert created == len(batch), (created, len(batch))
    out["batch"] = min(runs)
    reports_purge(queryset=DailyReport.objects.filter(date=today))

    # The full rebuild of the stored days, and its floor.
    first, last = DailyReport.objects.order_by("date").values_list("date", flat=True)[:1][0], today
    sums = ", ".join(f"SUM({f})" for f in INTEGER_FIELDS)
    named = ", ".join(f"SUM({f}) AS {f}" for f in INTEGER_FIELDS)
    ours, floor = [], []
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_floor_rollup")
        cursor.execute(
            f"CREATE TABLE bench_floor_rollup AS SELECT province_id, date, {named}, COUNT(*) AS n "
            "FROM reports_dailyreport WHERE false GROUP BY province_id, date"
        )
    for _ in range(3):
        started = time.perf_counter()
        rollup_rebuild_range(start=first, end=last)
        ours.append(time.perf_counter() - started)
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE bench_floor_rollup")
            started = time.perf_counter()
            cursor.execute(
                f"INSERT INTO bench_floor_rollup SELECT province_id, date, {sums}, COUNT(*) "
                "FROM reports_dailyreport GROUP BY province_id, date"
            )
            floor.append(time.perf_counter() - started)
    out["rebuild"], out["rebuild_floor"], out["days"] = min(ours), min(floor), (last - first).days + 1

    # The dashboards: the page cache's hit path (p95), a cold build (median), the query count.
    day = today - datetime.timedelta(days=1)
    steering = Client()
    steering.force_login(User.objects.get(username="steering"))
    out["counts"] = query_counts(CaptureQueriesContext, connection, Client, day)
    out["hit"], out["miss"] = {}, {}
    for name, template, marker in DASHBOARDS:
        path = template.format(day=day)
        cold = []
        for _ in range(5):
            dashboard_cache.invalidate()
            started = time.perf_counter()
            response = steering.get(path, HTTP_HOST="127.0.0.1")
            cold.append(time.perf_counter() - started)
            assert response.status_code == 200 and marker in response.content.decode(), (path, response.status_code)
        hits = []
        for _ in range(rounds):
            started = time.perf_counter()
            response = steering.get(path, HTTP_HOST="127.0.0.1")
            hits.append(time.perf_counter() - started)
            assert response.status_code == 200
        out["hit"][name] = statistics.quantiles(hits, n=20)[-1] * 1000
        out["miss"][name] = statistics.median(cold) * 1000
    print(json.dumps(out))


def _measure_in(url: str, rounds: int) -> dict:
    from bench.run import PYTHON, ROOT

    result = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", MEASURE_SCRIPT.format(rounds=rounds)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"measuring on {url} failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def scale_rows(row, *, server: str, args, base_url: str, log) -> None:
    """The rows of how cost grows: `base_url` is the 1× database with the same days (the 30-day one). A smoke
    run grows the units 2× only, over its own few days, against a 1× database of those days: it checks that the
    rows work."""
    per_commune = 1 if args.smoke else 9
    days = args.days if args.smoke else 30
    if args.smoke:
        base_url = scale_database(server, f"{args.db}_1x", days=days, per_commune=0, log=log)
    url = scale_database(server, f"{args.db}_{per_commune + 1}x", days=days, per_commune=per_commune, log=log)
    rounds = 40 if args.smoke else 400
    one, many = _measure_in(base_url, rounds), _measure_in(url, rounds)
    factor = many["units"] / one["units"]
    what = f"{one['units']:,} → {many['units']:,} localities ({factor:.0f}×)"
    bound = round(factor * 1.1, 1)  # linear, with a tenth to spare: §7's 11× at 10×
    row(
        f"{factor:.0f}× units: batch, one national day, in-process, best of 2",
        many["batch"],
        one["batch"],
        f"≤ {bound}× the same at 1× (linear)",
        None,
        "s",
        f"{what}; through the batch endpoint in chunks of the batch limit; floor: the same at 1×",
        ratio_goal=("≤", bound),
    )
    row(
        f"{factor:.0f}× units: full rebuild, {many['days']} days, in-process, best of 3",
        many["rebuild"],
        one["rebuild"],
        f"≤ {bound}× the same at 1× (linear)",
        None,
        "s",
        f"{what}; floor: the same at 1×; against the hand-written INSERT … SELECT … GROUP BY at each scale: "
        f"{one['rebuild'] / one['rebuild_floor']:.2f}× at 1× ({one['rebuild_floor']:.3f} s), "
        f"{many['rebuild'] / many['rebuild_floor']:.2f}× at {factor:.0f}× ({many['rebuild_floor']:.3f} s)",
        ratio_goal=("≤", bound),
    )
    for name in one["hit"]:
        same_queries = many["counts"][name] == one["counts"][name]
        row(
            f"{factor:.0f}× units: dashboard {name}, p95 of {rounds} page cache hits; queries",
            many["hit"][name],
            one["hit"][name],
            "≤ 1.5× the same at 1× (as at 1×, within the noise); queries the same",
            same_queries and many["hit"][name] <= 1.5 * one["hit"][name],
            "ms",
            f"queries {one['counts'][name]} at 1×, {many['counts'][name]} at {factor:.0f}×; a cold build "
            f"(median of 5, not judged) {one['miss'][name]:.1f} ms at 1×, {many['miss'][name]:.1f} ms at "
            f"{factor:.0f}×; floor: the same at 1×",
        )
