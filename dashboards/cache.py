"""Cache of the dashboards' pages and JSON, keyed by a generation that every rollup or snapshot rebuild
renews after commit: a new number is never hidden behind an old page, and while nothing changes every
request is served from the cache (Redis with REDIS_URL, shared by all web nodes; per process without).

The cache is an accelerator only: when it is unreachable, pages are computed as if it were empty. Without
REDIS_URL each process has its own cache, so entries live five seconds only.
"""

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language

logger = logging.getLogger(__name__)

GENERATION_KEY = "dashboards:generation"


def _timeout():
    """Ten minutes with a shared cache; five seconds with a per-process one (no REDIS_URL), where another
    process's rebuild cannot renew this process's generation."""
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
    value = _get(GENERATION_KEY)
    if value is None:
        value = uuid.uuid4().hex
        _set(GENERATION_KEY, value, None)
    return value


def invalidate():
    """Call after commit of anything the dashboards read (rollups, snapshots)."""
    _set(GENERATION_KEY, uuid.uuid4().hex, None)


def cached(name, parts, build):
    """build() (a picklable value), cached under this generation, language and `parts`."""
    key = ":".join(["dashboards", name, generation(), get_language() or "", *map(str, parts)])
    value = _get(key)
    if value is None:
        value = build()
        _set(key, value, _timeout())
    return value
