"""PostgreSQL restarted while analyzers post findings under load.

Real processes: gunicorn (2 workers x 4 threads, KB_DEBUG=0) on a throwaway
PostgreSQL, a throwaway redis-server (broker and cache), client threads that post
findings one by one and retry as a well-behaved analyzer does: on 503 they wait
Retry-After, then send the same finding with the same Idempotency-Key. PostgreSQL
is stopped (fast shutdown, sessions cut mid-request; or immediate, a crash) and
started again mid-run.

Clients must see clear 503s (JSON, Retry-After), never a 500, and every finding
acknowledged (2xx) must be stored, once: the stored findings are exactly the
acknowledged ones. bench/faults_bench.py runs the same scenario for its figures.
"""

import threading
import time

import pytest
import requests

from tests import procs
from tests.reliability import scenario, web

pytestmark = pytest.mark.slow

THREADS = 6
PER_THREAD = 40
OUTAGE_SECONDS = 3.0


def restart_under_load(
    env,
    postgres_server,
    tmp_path,
    *,
    threads: int,
    per_thread: int,
    outage: float,
    mode: str = "fast",
) -> dict:
    """Post findings from ``threads`` clients; restart PostgreSQL a third of the
    way through. Returns what the clients saw and what the database holds."""
    url = env["KB_DATABASE_URL"]
    key = procs.shell(env, scenario.seed_postmortems(0))["key"]
    port = procs.free_port()
    base = f"http://127.0.0.1:{port}"
    server = procs.gunicorn(env, port=port, log=tmp_path / "gunicorn.log")
    lock = threading.Lock()
    seen: list[dict] = []  # every response: status, body code, Retry-After, time
    acknowledged: dict[str, int] = {}  # fingerprint -> final 2xx status
    transport_errors: list[str] = []
    total = threads * per_thread
    third = threading.Event()

    def client(number: int) -> None:
        session = requests.Session()
        for n in range(per_thread):
            body = web.finding(f"c{number}", n, incident_key="inc-restart")
            while True:
                try:
                    response, seconds = web.post_finding(
                        session, base, key, body, timeout=30
                    )
                except requests.RequestException as exc:
                    with lock:
                        transport_errors.append(repr(exc))
                    time.sleep(1)
                    continue
                record = {
                    "status": response.status_code,
                    "seconds": seconds,
                    "at": time.monotonic(),
                    "retry_after": response.headers.get("Retry-After"),
                    "code": _code(response),
                }
                with lock:
                    seen.append(record)
                if 200 <= response.status_code < 300:
                    with lock:
                        acknowledged[body["fingerprint"]] = response.status_code
                        if len(acknowledged) >= total // 3:
                            third.set()
                    break
                if response.status_code != 503:
                    break  # not retried: the assertions report it
                time.sleep(float(response.headers.get("Retry-After", "1")))
                # The server's keep-alive (5 s) has run out meanwhile: reconnect
                # rather than send on a connection it is closing.
                session.close()

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    try:
        started = time.monotonic()
        for worker in workers:
            worker.start()
        assert third.wait(timeout=120), "the clients never got going"
        down_at = time.monotonic()
        postgres_server.stop(mode)
        time.sleep(outage)
        postgres_server.start()
        up_at = time.monotonic()
        for worker in workers:
            worker.join(timeout=180)
        elapsed = time.monotonic() - started
    finally:
        procs.stop(server)
    stored = procs.query(
        url,
        "SELECT fingerprint, count(*) FROM postmortems_finding "
        "WHERE analyzer = 'reliability-tracer' GROUP BY fingerprint",
    )
    return {
        "seen": seen,
        "acknowledged": acknowledged,
        "stored": dict(stored),
        "transport_errors": transport_errors,
        "down_at": down_at,
        "up_at": up_at,
        "elapsed": elapsed,
        "total": total,
    }


def _code(response) -> str:
    try:
        return response.json().get("code", "")
    except ValueError:
        return "not json"


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
    result = restart_under_load(
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
