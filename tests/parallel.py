"""pytest-xdist arguments for `make test`: N processes, each with its own test database (pytest-django names
it after the process: test_plan02_ci_gw0, …) and, when REDIS_URL is set, its own Redis database (REDIS_URL's
number, then the next ones), so one process's jobs, cache and throttle counters never reach another's. The
processes a test starts (workers, gunicorn) inherit it.

    python tests/parallel.py 2    →  --dist load --tx popen//env:PLAN02_TEST_REDIS_DB=14 --tx …=15

(execnet's specs cannot hold a URL, so each process gets the number; plan02/settings.py puts it in REDIS_URL.)
"""

import os
import sys
from urllib.parse import urlparse


def arguments(processes: int, redis_url: str | None) -> list[str]:
    if processes <= 1:
        return []
    # Tests are handed out in pytest-django's order (plain database tests first, then the transactional ones,
    # whose flush empties the reference data loaded once per database): `--dist loadfile` would run a file's
    # transactional tests before the next file's plain ones.
    args = ["--dist", "load"]
    if not redis_url:
        return [*args, "-n", str(processes)]
    parsed = urlparse(redis_url)
    first = int(parsed.path.strip("/") or 0)
    if first + processes > 16:
        raise SystemExit(f"REDIS_URL {redis_url}: databases {first}–{first + processes - 1} do not all exist (0–15)")
    for n in range(processes):
        args += ["--tx", f"popen//env:PLAN02_TEST_REDIS_DB={first + n}"]
    return args


if __name__ == "__main__":
    print(" ".join(arguments(int(sys.argv[1]), os.environ.get("REDIS_URL"))))
