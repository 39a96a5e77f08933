"""Per-key request throttling for the report API, and the generation of the API keys, both shared by every
web process through Redis when REDIS_URL is set (the default cache otherwise; see CACHES in settings).

A fixed window per key: one INCR per request, no list of timestamps to rewrite. At a window's edge a client
can pass up to twice the rate in a short burst; for a limit meant to stop runaway loops that is enough.
The throttle fails open: if the cache is down, reports are still accepted (nothing is lost because Redis is
down). Session users are throttled by user, with the same rate.

The keys' generation is a counter renewed whenever a key is issued or revoked (reports.services): each
process keeps the keys it has looked up (reports.auth) as long as the generation it read with them is
current, and reads the generation in the same Redis round trip as the throttle's counter — so a revoked
key is refused on the very next request, without a database query per request to find that out.
"""

import logging
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

SCOPE = "api_key"
GENERATION_KEY = "api-keys:generation"
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'600/min' -> (600, 60)."""
    count, period = rate.split("/")
    return int(count), _PERIODS[period.strip()[0]]


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


@dataclass(frozen=True)
class Window:
    """One request counted: its count in the window, when the window ends, and the keys' generation ("0"
    until a key is first issued or revoked)."""

    count: int
    ends: float
    generation: str | None


def count_request(ident: str, rate: str) -> Window:
    """Add one to `ident`'s counter of the current window and read the keys' generation. On Redis: INCR,
    EXPIRE and GET in one round trip (the cache API would take three); otherwise through the cache API.
    Raises when the cache is unreachable (the callers fail open)."""
    limit_period = parse_rate(rate)[1]
    now = time.time()
    window = int(now // limit_period)
    key = f"throttle:{SCOPE}:{ident}:{limit_period}:{window}"
    ends = (window + 1) * limit_period
    client, prefix = _client()
    if client is not None:
        name = f"{prefix}:{key}"
        pipe = client.pipeline(transaction=False)
        pipe.incr(name)
        pipe.expire(name, limit_period + 1, nx=True)
        pipe.get(f"{prefix}:{GENERATION_KEY}")
        count, _expire, generation = pipe.execute()
        return Window(count, ends, generation.decode() if generation else "0")
    try:
        count = cache.incr(key)
    except ValueError:  # first request of the window
        cache.add(key, 0, timeout=limit_period + 1)
        count = cache.incr(key)
    return Window(count, ends, str(cache.get(GENERATION_KEY, 0)))


def keys_generation() -> str | None:
    """The keys' generation alone (when no request is being counted)."""
    client, prefix = _client()
    if client is not None:
        value = client.get(f"{prefix}:{GENERATION_KEY}")
        return value.decode() if value else "0"
    return str(cache.get(GENERATION_KEY, 0))


def keys_changed() -> None:
    """Renew the keys' generation: call after commit of an issued or revoked key. Every process then looks
    its keys up again on their next request."""
    try:
        client, prefix = _client()
        if client is not None:
            client.incr(f"{prefix}:{GENERATION_KEY}")
        else:
            try:
                cache.incr(GENERATION_KEY)
            except ValueError:
                cache.set(GENERATION_KEY, 1, None)
    except Exception:  # Redis down: the processes' copies expire by themselves (reports.auth.KEY_CACHE_TTL)
        logger.warning("could not renew the API keys' generation; cached keys expire within a minute", exc_info=True)


def throttle_ident(request) -> str | None:
    """Whom a request is counted against: its API key (by the key's hash, known before any database query),
    or its session's user; None for anonymous requests (refused elsewhere)."""
    key_hash = getattr(request.auth, "key_hash", None)
    if key_hash:
        return f"key:{key_hash[:32]}"
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return None


class ApiKeyRateThrottle(BaseThrottle):
    def __init__(self):
        self._wait = None

    def allow_request(self, request, view):
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(SCOPE)
        ident = throttle_ident(request) if rate else None
        if ident is None:
            return True
        try:
            window = count_request(ident, rate)
        except Exception:  # the cache is down or the key expired between add and incr: let the request in
            logger.warning("throttle cache unavailable; request let through", exc_info=True)
            return True
        if window.count > parse_rate(rate)[0]:
            self._wait = window.ends - time.time()
            return False
        return True

    def wait(self):
        return self._wait
