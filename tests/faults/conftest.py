"""Fault tests (DESIGN.md §10, issue 12): the failures a deployment meets, made for real.

Each test starts what it breaks — a throwaway redis-server, a throwaway PostgreSQL cluster, Celery workers,
gunicorn — as processes it owns, on free ports, and stops exactly those at the end: a process by its pid,
with its children through its process group (each is started in a session of its own, so the group holds
nothing else), a cluster with `pg_ctl stop`. The shared PostgreSQL and Redis are never stopped or
reconfigured.

Marked `services`, like the other tests that need the real PostgreSQL (DATABASE_URL) and Redis (REDIS_URL);
they also need the binaries they start. Without them they are skipped, unless PLAN02_REQUIRE_SERVICES=1
(CI), where a missing prerequisite is a failure.

Waits poll a condition until a deadline (`wait_for`); nothing sleeps for a fixed time, nothing asserts a
duration.
"""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from kombu import pools

from plan02.celery import app as celery_app
from tests.conftest import require

BIN = Path(sys.executable).parent
REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


# --- prerequisites ------------------------------------------------------------------------------------


def services():
    """What every test here needs: the services configuration of the suite."""
    return [
        ("PostgreSQL (DATABASE_URL=postgres://…)", connection.vendor == "postgresql"),
        ("Redis (REDIS_URL=redis://…)", bool(settings.REDIS_URL)),
    ]


@pytest.fixture(autouse=True)
def _services():
    require(*services())


def postgresql_binary(name):
    """pg_ctl and initdb are not on Debian's PATH: take them from the newest /usr/lib/postgresql/*/bin."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(Path(p).parts[-3]))
    return found[-1] if found else shutil.which(name)


# --- waiting --------------------------------------------------------------------------------------------


def wait_for(predicate, *, timeout, what, interval=0.05):
    """Poll `predicate` until it returns something true (returned) or `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- processes ------------------------------------------------------------------------------------------


def group_members(pgid):
    """Pids of the live processes in process group `pgid` (from /proc)."""
    members = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(Path(stat).parent.name))
    return members


def children(pid):
    """Pids of the live children of `pid` (from /proc)."""
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.append(int(Path(stat).parent.name))
    return sorted(found)


class Process:
    """A process this test started, leader of a session (so of a process group) of its own, its output in a
    log file. Signals go to its group: the process and the children it forked, nothing else."""

    def __init__(self, argv, *, name, log_dir, env=None):
        self.name = name
        self.argv = argv
        self.log_path = Path(log_dir) / f"{name}.log"
        self._log = open(self.log_path, "ab")  # closed in stop()
        self.popen = subprocess.Popen(
            argv,
            cwd=settings.BASE_DIR,
            env=env if env is not None else os.environ.copy(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def log(self):
        return self.log_path.read_text(errors="replace")

    def signal_group(self, signum):
        if group_members(self.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signum)

    def kill(self):
        """SIGKILL to the whole group at once (no shutdown of any kind), then reap the leader."""
        self.signal_group(signal.SIGKILL)
        self.popen.wait(timeout=30)
        wait_for(lambda: not group_members(self.pid), timeout=30, what=f"{self.name}'s processes to be gone")

    def stop(self, *, timeout=30):
        """SIGTERM to the group; SIGKILL to what is left of it after `timeout` seconds."""
        if self.alive() or group_members(self.pid):
            self.signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
                wait_for(lambda: not group_members(self.pid), timeout=timeout, what=f"{self.name} to exit")
            except (subprocess.TimeoutExpired, AssertionError):
                self.kill()
        if not self._log.closed:
            self._log.close()

    def tail(self, characters=3000):
        return f"--- {self.name} ({' '.join(map(str, self.argv[:4]))} …) ---\n{self.log()[-characters:]}"


@pytest.fixture
def processes(tmp_path):
    """start(argv, name=…, env=…, service=False) -> Process; every process started is stopped at the end of
    the test, services (Redis) after the others."""
    started = []

    def start(argv, *, name, env=None, service=False):
        process = Process(argv, name=name, log_dir=tmp_path, env=env)
        process.is_service = service
        started.append(process)
        return process

    yield start
    # Services last (a worker shuts down cleanly while its broker is still there).
    for process in sorted(reversed(started), key=lambda p: p.is_service):
        process.stop()


def database_url(**settings_dict):
    """DATABASE_URL of the test database (or of another database on its server, by NAME)."""
    db = {**connection.settings_dict, **settings_dict}
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_argv(name, *, concurrency=2):
    """A worker node as deployed (`make worker`, the README's systemd unit): prefork, late acknowledgement."""
    return [
        str(BIN / "celery"),
        "-A",
        "plan02",
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        str(concurrency),
        "-n",
        f"{name}@%h",
        "--loglevel",
        "INFO",
    ]


def start_worker(start, name, *, redis_url, database=None, concurrency=2):
    """A Celery worker node against `redis_url` and the test database; returns once it consumes."""
    env = {**os.environ, "DATABASE_URL": database or database_url(), "REDIS_URL": redis_url}
    worker = start(worker_argv(name, concurrency=concurrency), name=name, env=env)

    def ready():
        if not worker.alive():
            raise AssertionError(f"worker {name} exited\n{worker.tail()}")
        return f"{name}@" in worker.log() and " ready." in worker.log()

    wait_for(ready, timeout=60, what=f"worker {name} to be ready")
    return worker


# --- a throwaway Redis ----------------------------------------------------------------------------------


class RedisServer:
    """redis-server on a free port of 127.0.0.1. Without persistence (as the shared one runs) stopping it
    loses every queued job and cached page, as a crash of an unpersisted Redis does; with `persist_in` (a
    directory) it saves its data when stopped and loads it when started again, as Redis's default
    configuration does."""

    def __init__(self, start, *, persist_in=None):
        self._start = start
        self.port = free_port()
        self.process = None
        self.runs = 0
        self.persistence = ["--save", "", "--appendonly", "no"]
        if persist_in is not None:
            # A save point makes SIGTERM save the data set before exiting; the file is read at start.
            self.persistence = ["--save", "3600 1", "--appendonly", "no", "--dir", str(persist_in)]

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.runs += 1
        self.process = self._start(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                *self.persistence,
                "--daemonize",
                "no",
            ],
            name=f"redis-{self.runs}",
            service=True,
        )
        wait_for(self.answers, timeout=30, what=f"redis-server on port {self.port}")
        return self

    def answers(self):
        if not self.process.alive():
            raise AssertionError(f"redis-server exited\n{self.process.tail()}")
        try:
            return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1).ping()
        except redis.ConnectionError:
            return False

    def stop(self):
        """The outage: SIGTERM to this redis-server (by its pid), waited for."""
        self.process.stop()


@pytest.fixture
def redis_server(processes):
    """A started throwaway Redis (RedisServer); stopped at the end of the test if it still runs."""
    require(("redis-server", shutil.which("redis-server") is not None))
    return RedisServer(processes).start()


@pytest.fixture
def persistent_redis_server(processes, tmp_path):
    """The same, keeping its data across a stop and a start."""
    require(("redis-server", shutil.which("redis-server") is not None))
    return RedisServer(processes, persist_in=tmp_path).start()


@pytest.fixture
def use_redis(settings):
    """use_redis(url): from now on this process uses that Redis as its broker and cache, as a web node with
    REDIS_URL=url does — jobs are really enqueued (not run in-process, as in the rest of the suite)."""
    from core import throttling

    saved = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    urls = []

    def use(url):
        urls.append(url)
        settings.REDIS_URL = url
        settings.CACHES = {"default": {**settings.CACHES["default"], "BACKEND": REDIS_CACHE, "LOCATION": url}}
        settings.CELERY_TASK_ALWAYS_EAGER = False
        celery_app.conf.broker_url = url
        celery_app.conf.task_always_eager = False
        _forget_broker_connections()

    yield use
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = saved
    _forget_broker_connections()
    for url in urls:
        throttling._redis.pop(url, None)


def _forget_broker_connections():
    """Celery keeps its producer connections in pools made for the broker URL it first saw."""
    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


# --- the database, seen from the outside ----------------------------------------------------------------


def raw_connection(*, autocommit=True, **settings_dict):
    """A psycopg connection of the test's own to the test database (outside Django's connection handling)."""
    import psycopg

    db = {**connection.settings_dict, **settings_dict}
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=autocommit,
    )


@contextlib.contextmanager
def day_locked(day):
    """Hold the rollup rebuild lock of `day` (dashboards.locks) on a connection of this test's own until the
    block ends: a rebuild of that day waits inside its transaction, in a worker's pool process, for as long
    as the test needs it in flight — no timing, no large dataset."""
    from dashboards.locks import ROLLUP_DAY

    with raw_connection() as holder:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", [ROLLUP_DAY, day.toordinal()])
        yield
        holder.execute("SELECT pg_advisory_unlock(%s, %s)", [ROLLUP_DAY, day.toordinal()])


def lock_waiters():
    """Backends of the test database waiting for an advisory lock (rebuilds held by day_locked)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND wait_event = 'advisory' ORDER BY pid"
        )
        return [pid for (pid,) in cursor.fetchall()]


def backends_alive(pids):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", [list(pids)])
        return [pid for (pid,) in cursor.fetchall()]


# --- a throwaway PostgreSQL cluster ---------------------------------------------------------------------


class PostgresCluster:
    """initdb into a temporary directory, served on a free port of 127.0.0.1 with its socket in that
    directory; run as the `postgres` OS user when the tests run as root (PostgreSQL refuses root). Durability
    is off (fsync): it lives for one test."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="plan02-pg-"))
        self.data, self.sockets, self.logfile = self.root / "data", self.root / "sockets", self.root / "server.log"
        self.sockets.mkdir()
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.sockets, "postgres")

    def url(self, name="plan02"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, *argv):
        result = subprocess.run(
            [*self.as_postgres, *argv], capture_output=True, text=True, timeout=120, check=False, cwd=self.root
        )
        if result.returncode:
            raise AssertionError(f"{' '.join(map(str, argv))} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def init(self):
        self._run(
            postgresql_binary("initdb"),
            "-D",
            self.data,
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        )
        return self

    def start(self):
        options = f"-p {self.port} -h 127.0.0.1 -k {self.sockets} -c fsync=off -c full_page_writes=off"
        self._run(
            postgresql_binary("pg_ctl"), "-D", self.data, "-l", self.logfile, "-o", options, "-w", "-t", "60", "start"
        )
        return self

    def running(self):
        status = subprocess.run(
            [*self.as_postgres, postgresql_binary("pg_ctl"), "-D", self.data, "status"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        return status.returncode == 0

    def stop(self):
        """`pg_ctl stop -m fast`: the server disconnects every client and shuts down; waited for."""
        self._run(postgresql_binary("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop")

    def remove(self):
        try:
            if self.data.exists() and self.running():
                self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def postgres_cluster():
    """A throwaway PostgreSQL cluster, initialised and started; stopped and removed at the end."""
    require(
        (
            "initdb and pg_ctl (/usr/lib/postgresql/*/bin)",
            bool(postgresql_binary("initdb") and postgresql_binary("pg_ctl")),
        ),
        (
            "runuser and a postgres OS user (the tests run as root)",
            os.geteuid() != 0 or bool(shutil.which("runuser") and _os_user("postgres")),
        ),
    )
    cluster = PostgresCluster()
    try:
        yield cluster.init().start()
    finally:
        cluster.remove()


def _os_user(name):
    import pwd

    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None
