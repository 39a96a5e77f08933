"""The dashboards' content cache: the inner part of each dashboard page (its template, rendered once; the page
around it, with the user's name and the bell, is rendered for each request) and the bodies of the JSON twins,
keyed by the dashboards' generation, the language and the query. Whole responses per session are
core.pagecache's, a layer in front of this one.

The generation (core.generations, "dashboards") is renewed by every change the dashboards read: inside the
transaction of each rollup or snapshot rebuild (as its last statement), and on the commit of an entered
target value or of a rollup alarm raised or resolved. A new number is never hidden behind an old page.

It is a row in the database, not a key in the cache. Race it closes: a rebuild made while Redis was
unreachable (the catch-up, `manage.py rollup --pending`, during an outage) could not renew a generation kept
in Redis, and a Redis that came back with its data (its default configuration saves it on shutdown) served
the pages it had cached before the outage for up to ten minutes. Reading it costs one primary-key query.

Where: Redis with REDIS_URL, shared by all web nodes, entries kept ten minutes; without it each process's own
memory, entries kept five seconds. The cache is an accelerator only: when it is unreachable, the content is
computed as if it were empty.
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language

from core import generations

logger = logging.getLogger(__name__)

GENERATION = "dashboards"


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
    return str(generations.read([GENERATION])[GENERATION])


def invalidate():
    """Renew the generation. Call it inside the transaction of the change (it becomes visible with it), as
    its last statement; outside a transaction it takes effect at once."""
    generations.renew(GENERATION)


def cached(name, parts, build):
    """build() (a picklable value), cached under this generation, language and `parts`."""
    key = ":".join(["dashboards", name, generation(), get_language() or "", *map(str, parts)])
    value = _get(key)
    if value is None:
        value = build()
        _set(key, value, _timeout())
    return value
