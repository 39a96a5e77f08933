"""The benchmark runs end to end on a tiny dataset and prints its table (the full run is `make bench`)."""

import json
import os
import shutil
import subprocess
import sys
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.services


def test_bench_smoke_prints_the_table_and_writes_json():
    missing = [
        name
        for name, ok in (
            ("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql"),
            ("Redis (REDIS_URL)", bool(settings.REDIS_URL)),
            ("wrk", shutil.which("wrk") is not None),
        )
        if not ok
    ]
    if missing:
        if os.environ.get("PLAN02_REQUIRE_SERVICES") == "1":
            pytest.fail(f"the benchmark smoke test needs {', '.join(missing)}")
        pytest.skip(f"needs {', '.join(missing)}")
    db = urlparse(os.environ["DATABASE_URL"])
    redis = urlparse(settings.REDIS_URL)
    env = {
        **os.environ,
        "BENCH_PG": f"{db.scheme}://{db.netloc}",
        "BENCH_REDIS_URL": f"redis://{redis.netloc}/11",
    }
    results = settings.BASE_DIR / "bench" / "results"
    before = set(results.glob("bench-smoke-*.json"))
    run = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "what" in run.stdout and "floor" in run.stdout and "result" in run.stdout
    written = set(results.glob("bench-smoke-*.json")) - before
    assert len(written) == 1
    rows = json.loads(written.pop().read_text())["rows"]
    whats = " ".join(r["what"] for r in rows)
    for part in ("batch", "single POST", "full rebuild", "worker peak memory", "freshness", "two worker nodes"):
        assert part in whats
    for page in ("national", "phase", "provinces"):
        for kind in ("page", "JSON"):
            assert f"dashboard {page} {kind}: p95, 16 clients, page cache hit" in whats
            assert f"dashboard {page} {kind}: p95, 16 sessions, page cache miss" in whats
    assert "alerts_run" in whats
    assert "changes feed" in whats
    assert all(r["ours"] is not None for r in rows)
    # Every goal is a ratio to a floor measured in the same run, and says whether it was met.
    judged = [r for r in rows if r["pass"] is not None]
    assert judged and all(r["floor"] and r["ratio"] == r["ours"] / r["floor"] for r in judged)
    assert all(isinstance(r["pass"], bool) for r in judged)
    batch = next(r for r in rows if r["what"].startswith("batch"))
    assert "3,355 created" in batch["detail"]
