"""The Redis cache, failing open while Redis is unreachable.

The cache only holds what can be lost: API rate-limit counters (``counter_incr``),
copies of rows the ingestion API reads on every request
(findings/lookups.py), and claims (``claim``) that say a finding
follow-up is already queued for an incident.
When Redis is down, Django's RedisCache raises on every call, so every API request
would fail with a 500 although the database is fine. Here a read misses and a write
is dropped instead: rate limits are not enforced during a Redis outage, and
ingestion keeps working (tests/reliability/test_redis_outage.py). Timeouts are short
so a hung Redis cannot hold a request for long.
"""

import logging
import time

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)
# One warning per process per this many seconds, not one per request.
WARN_EVERY = 30.0


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's Redis client, keeping one ``redis.Redis`` per connection pool.

    Django builds a new ``redis.Redis`` for every cache call, and building one
    (its response-callback tables) costs more CPU than the round trip itself. A
    client is thread-safe (each command borrows a connection from the pool), and
    Django keeps a cache object per thread anyway.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    _last_warning = 0.0

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def _unavailable(self, operation: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - ResilientRedisCache._last_warning >= WARN_EVERY:
            ResilientRedisCache._last_warning = now
            logger.warning("Cache unavailable (%s skipped): %s", operation, exc)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except UNAVAILABLE as exc:
            self._unavailable("add", exc)
            return False

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except UNAVAILABLE as exc:
            self._unavailable("get", exc)
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set(key, value, timeout, version)
        except UNAVAILABLE as exc:
            self._unavailable("set", exc)
            return None

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except UNAVAILABLE as exc:
            self._unavailable("touch", exc)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except UNAVAILABLE as exc:
            self._unavailable("delete", exc)
            return False

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except UNAVAILABLE as exc:
            self._unavailable("get_many", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except UNAVAILABLE as exc:
            self._unavailable("has_key", exc)
            return False

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except UNAVAILABLE as exc:
            self._unavailable("set_many", exc)
            return list(data)

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except UNAVAILABLE as exc:
            self._unavailable("delete_many", exc)
            return None

    def claim(self, key: str, timeout: int) -> bool:
        """``add``, except that an unreachable Redis counts as claimed (fail open)."""
        try:
            return super().add(key, 1, timeout)
        except UNAVAILABLE as exc:
            self._unavailable("claim", exc)
            return True

    def incr_window(self, key: str, timeout: int) -> int:
        """Add one to the counter ``key`` in one round trip (INCR, then EXPIRE NX)."""
        key = self.make_and_validate_key(key)
        try:
            pipe = self._cache.get_client(key, write=True).pipeline(transaction=True)
            count, _ = pipe.incr(key).expire(key, timeout, nx=True).execute()
        except UNAVAILABLE as exc:
            self._unavailable("incr_window", exc)
            return 0
        return count


def counter_incr(key: str, timeout: int) -> int:
    """Add one to the counter ``key`` and return its new value.

    The counter is created at 1 and lives ``timeout`` seconds from its first count.
    Atomic, so requests in several processes are all counted: on Redis an INCR in
    one round trip; on other caches ``add`` then ``incr``. Returns 0 (fail open)
    when Redis is unreachable.
    """
    cache = caches["default"]
    incr_window = getattr(cache, "incr_window", None)
    if incr_window is not None:
        return incr_window(key, timeout)
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
    claim_or_fail_open = getattr(cache, "claim", None)
    if claim_or_fail_open is not None:
        return claim_or_fail_open(key, timeout)
    return cache.add(key, 1, timeout)


def release(key: str) -> None:
    """Forget a ``claim``: the next ``claim`` of ``key`` succeeds."""
    caches["default"].delete(key)
