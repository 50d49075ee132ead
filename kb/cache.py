"""The cache: django-redis in production, failing open while Redis is unreachable.

The cache only holds what can be lost: API rate-limit counters (``counter_incr``),
copies of rows the ingestion API reads on every request (API keys, service ids),
and claims (``claim``) that say a finding follow-up is already queued for an
incident. With Redis down, every cache call raising would fail every API request
with a 500 although the database is fine; django-redis's ``IGNORE_EXCEPTIONS``
makes a read miss and a write drop instead, so rate limits are not enforced during
a Redis outage and ingestion keeps working (tests/reliability/test_redis_outage.py).
Timeouts are short so a hung Redis cannot hold a request for long.

Two operations need more than the cache API: an exact counter in one round trip,
and a claim that counts as taken when Redis cannot answer (the work is done by
everyone rather than by no one).
"""

import logging
import time

from django.core.cache import caches
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE = (ConnectionInterrupted, RedisConnectionError, RedisTimeoutError)
# One warning per process per this many seconds, not one per request.
WARN_EVERY = 30.0
_last_warning = 0.0
REDIS_BACKEND = "django_redis.cache.RedisCache"


def redis_cache_settings(url: str) -> dict:
    """The CACHES entry for Redis at ``url``: django-redis, failing open."""
    return {
        "BACKEND": REDIS_BACKEND,
        "LOCATION": url,
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
            "IGNORE_EXCEPTIONS": True,
        },
    }


def _unavailable(operation: str, exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= WARN_EVERY:
        _last_warning = now
        logger.warning("Cache unavailable (%s skipped): %s", operation, exc)


def _redis_client(cache):
    """The redis-py client behind a django-redis cache, or None for other caches."""
    client = getattr(cache, "client", None)
    if client is None or not hasattr(client, "get_client"):
        return None
    return client


def counter_incr(key: str, timeout: int) -> int:
    """Add one to the counter ``key`` and return its new value.

    The counter is created at 1 and lives ``timeout`` seconds from its first count.
    Atomic, so requests in several processes are all counted: on Redis INCR then
    EXPIRE NX in one round trip; on other caches ``add`` then ``incr``. Returns 0
    (fail open) when Redis is unreachable.
    """
    cache = caches["default"]
    redis = _redis_client(cache)
    if redis is not None:
        full_key = redis.make_key(key)
        try:
            pipe = redis.get_client(write=True).pipeline(transaction=True)
            count, _ = pipe.incr(full_key).expire(full_key, timeout, nx=True).execute()
        except UNAVAILABLE as exc:
            _unavailable("counter", exc)
            return 0
        return count
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: this is the first count
        cache.add(key, 1, timeout)
        return 1


def claim(key: str, timeout: int) -> bool:
    """Set ``key`` for ``timeout`` seconds if it is not set; True if this call set it.

    For "only one of us does this" (findings' follow-ups are sent once per incident
    while one waits in the queue). An unreachable Redis answers True: the work is
    done by everyone rather than by no one.
    """
    cache = caches["default"]
    redis = _redis_client(cache)
    if redis is not None:
        try:
            return bool(redis.add(key, 1, timeout))
        except UNAVAILABLE as exc:
            _unavailable("claim", exc)
            return True
    return cache.add(key, 1, timeout)


def release(key: str) -> None:
    """Forget a ``claim``: the next ``claim`` of ``key`` succeeds."""
    caches["default"].delete(key)
