"""Cache of the dashboards' pages and JSON, keyed by a generation that every change they read (a rollup or
snapshot rebuild, an entered target value) renews: a new number is never hidden behind an old page, and
while nothing changes every request is served from the cache (Redis with REDIS_URL, shared by all web
nodes; per process without).

The generation is a row in the database (dashboards.models.CacheGeneration), renewed inside the rebuild's
own transaction, not a key in the cache. Race it closes: a rebuild made while Redis was unreachable (the
catch-up, `manage.py rollup --pending`, during an outage) could not renew a generation kept in Redis, and
a Redis that came back with its data (its default configuration saves it on shutdown) served the pages it
had cached before the outage for up to ten minutes. Reading it costs one primary-key query per request.

The cache is an accelerator only: when it is unreachable, pages are computed as if it were empty. Without
REDIS_URL each process has its own cache, whose entries live five seconds.
"""

import logging
import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils.translation import get_language

logger = logging.getLogger(__name__)

# Portable upsert (PostgreSQL, SQLite 3.24+): the row is created by the first renewal; its row lock is the
# last one a rebuild takes, held only until its commit. The value is random, not a counter: a database
# restored from a dump must not reuse a generation whose pages the cache still holds from the original.
_RENEW_SQL = (
    "INSERT INTO dashboards_cachegeneration (id, value) VALUES (1, %s) "
    "ON CONFLICT (id) DO UPDATE SET value = excluded.value"
)


def _timeout():
    """Ten minutes with a shared cache; five seconds with a per-process one (no REDIS_URL, the laptop mode)."""
    shared = "locmem" not in settings.CACHES["default"]["BACKEND"].lower()
    return 600 if shared else 5


def _get(key):
    try:
        return cache.get(key)
    except Exception:  # a down cache must never break a dashboard
        logger.warning("dashboard cache unreachable", exc_info=True)
        return None


def _set(key, value, timeout):
    try:
        cache.set(key, value, timeout)
    except Exception:
        logger.warning("dashboard cache unreachable", exc_info=True)


def generation():
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM dashboards_cachegeneration WHERE id = 1")
        row = cursor.fetchone()
    return str(row[0] if row else 0)


def invalidate():
    """Renew the generation. Call it inside the transaction of the change (it becomes visible with it), as
    its last statement; outside a transaction it takes effect at once."""
    with connection.cursor() as cursor:
        cursor.execute(_RENEW_SQL, [secrets.randbits(62)])


def cached(name, parts, build):
    """build() (a picklable value), cached under this generation, language and `parts`."""
    key = ":".join(["dashboards", name, generation(), get_language() or "", *map(str, parts)])
    value = _get(key)
    if value is None:
        value = build()
        _set(key, value, _timeout())
    return value
