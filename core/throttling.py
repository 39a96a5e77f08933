"""The one throttle of the API: every API view (DRF's DEFAULT_THROTTLE_CLASSES) and the single-report fast path
(reports.fastpath) count a request here, per API key or per signed-in user, with one rate
(`PLAN02_API_KEY_RATE`, DEFAULT_THROTTLE_RATES["api_key"]).

A fixed window per caller: one INCR per request, no list of timestamps to rewrite. At a window's edge a caller
can pass up to twice the rate in a short burst; for a limit meant to stop runaway loops that is enough. The
counters live in Redis when REDIS_URL is set (one round trip: INCR and EXPIRE in one pipeline), else in the
default cache. The throttle fails open: if the cache is down, the request is let through (nothing is lost
because Redis is down), and a warning is logged.

Whom a request is counted against (`ident`): an API key by the first half of its SHA-256 (the object that
authenticated the request carries `key_hash`), a session by its user's id; an anonymous request is not
counted (it is refused by the permission check anyway, and a made-up key must not buy itself a bucket).

A request the fast path counted and then handed to the full stack carries the decision in its environ
(COUNTED), so it is counted once, and the full stack answers the same 429.

A foundation module: it imports no app.
"""

import logging
import time
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

SCOPE = "api_key"
# The environ key (never a header: those are HTTP_*) carrying a request's decision from the fast path.
COUNTED = "plan02.throttle"
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'600/min' -> (600, 60)."""
    count, period = rate.split("/")
    return int(count), _PERIODS[period.strip()[0]]


def current_rate() -> str | None:
    return api_settings.DEFAULT_THROTTLE_RATES.get(SCOPE)


_redis: dict[str, redis.Redis] = {}


def _client() -> tuple[redis.Redis | None, str]:
    """The raw Redis client of the default cache (one per process), and its key prefix; None without Redis."""
    config = settings.CACHES["default"]
    if not config["BACKEND"].endswith("RedisCache"):
        return None, ""
    location = config["LOCATION"]
    client = _redis.get(location)
    if client is None:
        options = config.get("OPTIONS", {})
        client = _redis[location] = redis.Redis.from_url(
            location,
            socket_connect_timeout=options.get("socket_connect_timeout", 1),
            socket_timeout=options.get("socket_timeout", 1),
        )
    return client, config.get("KEY_PREFIX", "")


def count_request(ident: str, rate: str) -> tuple[int, float]:
    """Add one to `ident`'s counter of the current window: (its count, when the window ends). On Redis: INCR
    and EXPIRE in one round trip; otherwise through the cache API. Raises when the cache is unreachable."""
    period = parse_rate(rate)[1]
    window = int(time.time() // period)
    key = f"throttle:{SCOPE}:{ident}:{period}:{window}"
    ends = (window + 1) * period
    client, prefix = _client()
    if client is not None:
        name = f"{prefix}:{key}"
        pipe = client.pipeline(transaction=False)
        pipe.incr(name)
        pipe.expire(name, period + 1, nx=True)
        count, _expire = pipe.execute()
        return count, ends
    try:
        count = cache.incr(key)
    except ValueError:  # first request of the window
        cache.add(key, 0, timeout=period + 1)
        count = cache.incr(key)
    return count, ends


@dataclass(frozen=True)
class Decision:
    """One request counted: `wait` is None when it may pass, else the seconds until its window ends."""

    ident: str
    wait: float | None

    @property
    def allowed(self) -> bool:
        return self.wait is None


def decide(ident: str) -> Decision:
    """Count one request of `ident` and say whether it may pass: the decision of both paths."""
    rate = current_rate()
    if not rate:
        return Decision(ident, None)
    try:
        count, ends = count_request(ident, rate)
    except Exception:  # the cache is down, or the key expired between add and incr: let the request in
        logger.warning("throttle cache unavailable; request let through", exc_info=True)
        return Decision(ident, None)
    if count > parse_rate(rate)[0]:
        return Decision(ident, max(ends - time.time(), 0.0))
    return Decision(ident, None)


def key_ident(key_hash: str) -> str:
    """The ident of an API key, from its hash (known before any database query)."""
    return f"key:{key_hash[:32]}"


def throttle_ident(request: Any) -> str | None:
    """Whom a DRF request is counted against: its API key, its session's user, or None (anonymous)."""
    key_hash = getattr(request.auth, "key_hash", None)
    if key_hash:
        return key_ident(key_hash)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.pk is not None:
        return f"user:{user.pk}"
    return None


class CallerRateThrottle(BaseThrottle):
    """DRF's DEFAULT_THROTTLE_CLASSES: every API view, per key or per user (a batch is one request)."""

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Any, view: Any) -> bool:
        ident = throttle_ident(request)
        if ident is None:
            return True
        counted = request.META.get(COUNTED)
        decision = counted if isinstance(counted, Decision) and counted.ident == ident else decide(ident)
        self._wait = decision.wait
        return decision.allowed

    def wait(self) -> float | None:
        return self._wait
