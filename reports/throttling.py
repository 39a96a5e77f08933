"""Per-key request throttling for the report API, shared by every web process through the default cache
(Redis when REDIS_URL is set; see CACHES in settings).

A fixed window per key: one INCR per request, no list of timestamps to rewrite. At a window's edge a client
can pass up to twice the rate in a short burst; for a limit meant to stop runaway loops that is enough.
The throttle fails open: if the cache is down, reports are still accepted (nothing is lost because Redis is
down). Session users are throttled by user, with the same rate.
"""

import logging
import time

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from reports.models import ApiClient

logger = logging.getLogger(__name__)

SCOPE = "api_key"
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate):
    """'600/min' -> (600, 60)."""
    count, period = rate.split("/")
    return int(count), _PERIODS[period.strip()[0]]


_redis = {}


def _count(key, period):
    """Add one to the window's counter and return it. On the Redis cache: INCR and EXPIRE in one round trip
    (the cache API's incr costs two, and add another); otherwise through the cache API."""
    config = settings.CACHES["default"]
    if config["BACKEND"].endswith("RedisCache"):
        location = config["LOCATION"]
        client = _redis.get(location)
        if client is None:
            options = config.get("OPTIONS", {})
            client = _redis[location] = redis.Redis.from_url(
                location,
                socket_connect_timeout=options.get("socket_connect_timeout", 1),
                socket_timeout=options.get("socket_timeout", 1),
            )
        name = f"{config.get('KEY_PREFIX', '')}:{key}"
        pipe = client.pipeline(transaction=False)
        pipe.incr(name)
        pipe.expire(name, period + 1, nx=True)
        return pipe.execute()[0]
    try:
        return cache.incr(key)
    except ValueError:  # first request of the window
        cache.add(key, 0, timeout=period + 1)
        return cache.incr(key)


class ApiKeyRateThrottle(BaseThrottle):
    def __init__(self):
        self._wait = None

    def allow_request(self, request, view):
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(SCOPE)
        if not rate:
            return True
        if isinstance(request.auth, ApiClient):
            ident = f"client:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            return True
        limit, period = parse_rate(rate)
        now = time.time()
        window = int(now // period)
        key = f"throttle:{SCOPE}:{ident}:{period}:{window}"
        try:
            count = _count(key, period)
        except Exception:  # the cache is down or the key expired between add and incr: let the request in
            logger.warning("throttle cache unavailable; request let through", exc_info=True)
            return True
        if count > limit:
            self._wait = (window + 1) * period - now
            return False
        return True

    def wait(self):
        return self._wait
