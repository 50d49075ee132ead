"""The cache: rate-limit counters are exact, and with Redis down it fails open."""

import threading

import pytest
from django.core.cache import caches

from kb.cache import claim, counter_incr, redis_cache_settings, release
from tests import procs
from tests.procs import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_cache_down(settings):
    """The production cache backend, pointed at a port where nothing listens."""
    settings.CACHES = {
        "default": redis_cache_settings(f"redis://127.0.0.1:{free_port()}/1")
    }
    yield caches["default"]
    caches["default"].close()


def test_resilient_cache_reads_miss_and_writes_are_dropped_when_redis_is_down(
    redis_cache_down,
):
    cache = redis_cache_down
    assert not cache.set("k", 1)
    assert cache.get("k", "missing") == "missing"
    assert not cache.add("k", 1)
    assert cache.get_many(["k"]) == {}
    cache.set_many({"k": 1})
    assert not cache.delete("k")
    assert counter_incr("k", timeout=60) == 0  # a rate limit lets the request by
    assert claim("k", timeout=60) is True  # follow-ups: sent by all, not by none


def test_findings_ingestion_succeeds_while_the_rate_limit_cache_is_down(
    client, team, findings_key, redis_cache_down, settings
):
    """GIVEN the findings rate limit kept in a Redis cache that is down
    WHEN an analyzer posts a finding
    THEN it is stored (201), not refused with a 500."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"findings": "5/min", "integrations": "5/min"},
    }
    team.allow_auto_incidents = True
    team.save()
    response = client.post(
        "/api/v1/findings/",
        {
            "analyzer": "tracer",
            "fingerprint": "f-1",
            "incident_key": "inc-1",
            "title": "p99 above SLO",
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {findings_key}",
    )
    assert response.status_code == 201, response.content[:500]


@pytest.fixture
def redis_cache(settings, tmp_path):
    """The production cache backend on a throwaway Redis."""
    try:
        server = procs.RedisServer(tmp_path)
    except procs.Unavailable as exc:
        procs.unavailable(str(exc))
    server.start()
    settings.CACHES = {"default": redis_cache_settings(server.url(1))}
    yield caches["default"]
    caches["default"].close()
    server.stop()


def test_counter_counts_every_increment_from_concurrent_requests(redis_cache):
    """GIVEN 16 threads each adding 50 to one rate-limit counter on Redis
    THEN the counter reads exactly 800 (no lost update), and it expires."""
    barrier = threading.Barrier(16)

    def work() -> None:
        barrier.wait()
        for _ in range(50):
            counter_incr("throttle:probe", timeout=60)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert redis_cache.get("throttle:probe") == 800
    client = redis_cache.client.get_client(write=False)
    ttl = client.ttl(redis_cache.make_key("throttle:probe"))
    assert 0 < ttl <= 60


def test_counter_on_the_default_cache_starts_at_one_and_counts():
    # The CI's PostgreSQL pass runs this on a shared Redis: start from nothing.
    caches["default"].delete("throttle:local")
    assert [counter_incr("throttle:local", timeout=60) for _ in range(3)] == [1, 2, 3]


def test_claim_is_taken_once_until_released():
    caches["default"].delete("claim:probe")
    assert [claim("claim:probe", timeout=60) for _ in range(3)] == [True, False, False]
    release("claim:probe")
    assert claim("claim:probe", timeout=60) is True
