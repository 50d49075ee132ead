"""PostgreSQL restarted while analyzers post findings under load.

Real processes: gunicorn (2 workers x 4 threads, KB_DEBUG=0) on a throwaway
PostgreSQL, a throwaway redis-server (broker and cache), client threads that post
findings one by one and retry as a well-behaved analyzer does: on 503 they wait
Retry-After, then send the same finding with the same Idempotency-Key. PostgreSQL
is stopped (fast shutdown, sessions cut mid-request; or immediate, a crash) and
started again mid-run.

Clients must see clear 503s (JSON, Retry-After), never a 500, and every finding
acknowledged (2xx) must be stored, once: the stored findings are exactly the
acknowledged ones. bench/faults_bench.py runs the same scenario
(tests/reliability/faults.py) for its figures.
"""

import pytest

from tests import procs
from tests.reliability.faults import postgres_restart

pytestmark = [pytest.mark.slow, pytest.mark.faults]

THREADS = 6
PER_THREAD = 40
OUTAGE_SECONDS = 3.0


@pytest.fixture
def env(database_url, redis_server):
    return procs.django_env(
        KB_DATABASE_URL=database_url,
        KB_CELERY_BROKER_URL=redis_server.url(0),
        KB_CACHE_URL=redis_server.url(1),
        # Measure the restart, not the per-key rate limit.
        KB_API_RATE_FINDINGS="100000/min",
    )


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restart_under_load_gives_503s_and_loses_no_finding(
    env, postgres_server, tmp_path, mode
):
    """GIVEN 6 analyzers posting 240 findings through gunicorn
    WHEN PostgreSQL is stopped (a fast shutdown, or an immediate one: a crash, with
    recovery at the next start) for 3 s and started again a third of the way in
    THEN the requests during the outage get 503 JSON with Retry-After (no 500),
    the retries succeed, and the stored findings are exactly the acknowledged
    ones, each once."""
    result = postgres_restart(
        env,
        postgres_server,
        tmp_path,
        threads=THREADS,
        per_thread=PER_THREAD,
        outage=OUTAGE_SECONDS,
        mode=mode,
    )
    statuses = [r["status"] for r in result["seen"]]
    unavailable = [r for r in result["seen"] if r["status"] == 503]
    assert unavailable, "no request met the outage"  # the fault was felt
    assert {(r["code"], r["retry_after"]) for r in unavailable} == {
        ("database_unavailable", "5")
    }
    assert set(statuses) <= {200, 201, 503}, sorted(set(statuses))  # no 500
    assert result["transport_errors"] == []  # gunicorn itself never went away
    assert len(result["acknowledged"]) == result["total"]  # every retry succeeded
    # Nothing lost, nothing doubled: stored == acknowledged, one row each.
    assert result["stored"].keys() == result["acknowledged"].keys()
    assert set(result["stored"].values()) == {1}
