"""Findings ingestion over HTTP: gunicorn (2 workers) on PostgreSQL.

    /work/main/.venv/bin/python bench/findings_bench.py

Creates a throwaway database on 127.0.0.1:5432, migrates it, starts gunicorn with
two workers on a free loopback port, and posts findings with several client threads,
each on a keep-alive connection (http.client):

- single posts: one finding per request, in rounds (the median is reported);
- batches of 500 findings per request;
- beside them, in the same run and database, a bare ``bulk_create`` of the same
  rows (same field values, another team so the keys do not collide).

Targets (issue 4): batches >= 5,000 findings/s and >= 30% of the bare bulk_create
rate; single posts >= 300 findings/s. The follow-up tasks go to a Redis broker
(db 14, emptied afterwards) and are not run: ingestion is what is measured. The
cache, which holds the per-key rate limits, is Redis too (db 13), as in production.

All findings go to one incident, as an analyzer's do during an incident. With no
worker taking the follow-up task, the incident's claim is never released, so
after the first post none publishes a task (KB_FOLLOW_UP_COALESCE): the most that
coalescing saves. ``--no-coalesce`` measures the other end, every post publishing
its own task (as when an idle worker takes each task before the next post).
Not a test: nothing here asserts; it reports (bench/report.py).
"""

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Result, emit  # noqa: E402

PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
BROKER = "redis://127.0.0.1:6379/14"
# The cache (API-key rate limits) on Redis, as in production (deploy/serve.sh).
CACHE = "redis://127.0.0.1:6379/13"


def log(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def finding(run: str, n: int, incident_key: str) -> dict:
    return {
        "analyzer": "bench-tracer",
        "analyzer_version": "1.0.0",
        "fingerprint": f"{run}-{n}",
        "incident_key": incident_key,
        "service": "checkout-web",
        "severity": "high",
        "title": f"Checkout p99 above SLO on pod checkout-{n % 40}",
        "summary": "p99 latency rose from 300 ms to 4 s two minutes after deploy.",
        "root_cause": {
            "text": "Deploy 4812 lowered the payments-api pool to 10 connections.",
            "failure_class": "capacity-exhaustion",
            "confidence": 0.8,
        },
        "evidence": [
            {
                "kind": "trace",
                "url": f"https://traces.example/trace/{n:08x}",
                "excerpt": "POST /authorise 3.9 s (pool wait 3.7 s)",
            },
            {
                "kind": "deploy",
                "url": "https://ci.example/deploys/4812",
                "excerpt": "pool_size: 50 -> 10",
                "data": {"deploy": 4812, "service": "payments-api"},
            },
        ],
        "started_at": "2026-05-01T10:15:00Z",
        "suggested_actions": [
            {"kind": "revert_change", "title": "Revert deploy 4812", "target": "4812"}
        ],
    }


class Client:
    """One keep-alive connection; reconnects if the server closed it."""

    def __init__(self, port: int, key: str):
        self.port = port
        self.headers = {
            "Authorization": f"Api-Key {key}",
            "Content-Type": "application/json",
            "Connection": "keep-alive",
        }
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def post(self, body: bytes) -> int:
        for attempt in range(2):
            try:
                self.connection.request(
                    "POST", "/api/v1/findings/", body=body, headers=self.headers
                )
                response = self.connection.getresponse()
                response.read()
                if response.will_close:
                    self.connection.close()
                return response.status
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")


def run_clients(port: int, key: str, bodies: list[bytes], threads: int) -> float:
    """Post every body (split over ``threads`` clients); returns the seconds taken."""
    statuses: list[int] = []
    lock = threading.Lock()
    chunks = [bodies[i::threads] for i in range(threads)]

    def work(chunk: list[bytes]) -> None:
        client = Client(port, key)
        local = [client.post(body) for body in chunk]
        with lock:
            statuses.extend(local)

    workers = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    bad = [status for status in statuses if status not in (200, 201)]
    if bad or len(statuses) != len(bodies):
        raise SystemExit(f"{len(bad)} failed requests (e.g. {bad[:5]})")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--singles", type=int, default=3000, help="per round")
    parser.add_argument("--rounds", type=int, default=3, help="of single posts")
    parser.add_argument("--batches", type=int, default=60, help="batches of 500")
    parser.add_argument("--threads", type=int, default=16, help="client threads")
    parser.add_argument(
        "--worker-threads", type=int, default=8, help="gunicorn threads per worker"
    )
    parser.add_argument(
        "--no-coalesce",
        action="store_true",
        help="every post publishes its follow-up task (KB_FOLLOW_UP_COALESCE=0)",
    )
    args = parser.parse_args()

    database = f"hindsight_bench_findings_{os.getpid()}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KB_")},
        "KB_DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "KB_DEBUG": "0",
        "KB_SECRET_KEY": secrets.token_urlsafe(60),
        "KB_ALLOWED_HOSTS": "127.0.0.1",
        "KB_SECURE_SSL_REDIRECT": "0",
        "KB_HSTS_SECONDS": "0",
        "KB_STATIC_MANIFEST": "0",
        "KB_LOG_LEVEL": "WARNING",
        "KB_CELERY_BROKER_URL": BROKER,
        "KB_CACHE_URL": CACHE,
        # Measure ingestion, not the rate limit.
        "KB_API_RATE_FINDINGS": "1000000/s",
        "KB_FOLLOW_UP_COALESCE": "0" if args.no_coalesce else "1",
    }
    import psycopg

    admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    admin.autocommit = True
    admin.execute(f'CREATE DATABASE "{database}"')
    server = None
    try:
        log(f"database {database}: migrating")
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        os.environ.update(env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "kb.settings"
        import django

        django.setup()
        from findings.services import api_key_create
        from postmortems.models import Service, Team

        team = Team.objects.create(slug="bench", name="Bench")
        other = Team.objects.create(slug="bench-bare", name="Bench bare")
        Service.objects.create(slug="checkout-web", name="Checkout Web", team=team)
        _, key = api_key_create(name="bench", team=team, scopes=["findings:write"])

        port = free_port()
        # The production gunicorn settings (gthread), two workers.
        server_env = {
            **env,
            "KB_BIND": f"127.0.0.1:{port}",
            "KB_WEB_WORKERS": "2",
            "KB_WEB_THREADS": str(args.worker_threads),
        }
        command = [GUNICORN, "-c", "deploy/gunicorn.conf.py", "--log-level", "warning"]
        log(
            f"server: gunicorn -c deploy/gunicorn.conf.py (2 workers x "
            f"{args.worker_threads} threads, gthread) on 127.0.0.1:{port}"
        )
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env=server_env,
            stdout=subprocess.DEVNULL,  # the access log
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.2)

        # Warm up both workers (imports, connections, the incident).
        warm = [
            json.dumps(finding("warm", n, "bench-incident")).encode() for n in range(40)
        ]
        run_clients(port, key, warm, args.threads)

        # Rounds, reporting the median: on this shared 2-core machine one round
        # of single posts varies by about 10% from the next.
        log(
            f"single posts: {args.rounds} rounds of {args.singles} requests, "
            f"{args.threads} client threads"
        )
        single_rates = []
        for round_ in range(args.rounds):
            singles = [
                json.dumps(finding(f"single{round_}", n, "bench-incident")).encode()
                for n in range(args.singles)
            ]
            elapsed = run_clients(port, key, singles, args.threads)
            single_rates.append(len(singles) / elapsed)
            log(f"  {single_rates[-1]:.0f} findings/s ({elapsed:.1f} s)")
        single_rate = statistics.median(single_rates)
        log(f"  median {single_rate:.0f} findings/s")

        batch_items = [
            [finding("batch", b * 500 + n, "bench-incident") for n in range(500)]
            for b in range(args.batches)
        ]
        batches = [json.dumps({"findings": items}).encode() for items in batch_items]
        total = 500 * len(batches)
        log(
            f"batches: {len(batches)} x 500 findings "
            f"({len(batches[0]) / 1024:.0f} KiB each), {args.threads} client threads"
        )
        elapsed = run_clients(port, key, batches, args.threads)
        batch_rate = total / elapsed
        log(f"  {batch_rate:.0f} findings/s ({elapsed:.1f} s)")

        bare_rate = bare_bulk_create(batch_items, team=other)
        log(f"bare bulk_create of the same rows: {bare_rate:.0f} rows/s")
        ratio = batch_rate / bare_rate
        log(f"batches / bare bulk_create: {ratio:.0%}")
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()
        empty_redis()

    emit(
        "findings",
        [
            Result(
                metric="single posts",
                value=round(single_rate),
                unit="findings/s",
                target=300,
                better="higher",
                note=(
                    f"median of {len(single_rates)} rounds of {args.singles} "
                    f"(min {min(single_rates):.0f}, max {max(single_rates):.0f}); "
                    + (
                        "each post publishes its follow-up task"
                        if args.no_coalesce
                        else "follow-ups coalesced per incident"
                    )
                ),
            ),
            Result(
                metric="batches of 500",
                value=round(batch_rate),
                unit="findings/s",
                target=5000,
                better="higher",
                reference={
                    "metric": "bare bulk_create of the same rows",
                    "value": round(bare_rate),
                    "ratio": round(ratio, 3),
                },
            ),
            Result(
                metric="batches vs bare bulk_create",
                value=round(ratio * 100, 1),
                unit="%",
                target=30,
                better="higher",
            ),
        ],
    )


def bare_bulk_create(batch_items: list[list[dict]], *, team) -> float:
    """Rows/s of Finding.objects.bulk_create for the same rows, 500 per call."""
    import datetime as dt

    from django.utils import timezone

    from findings.models import Finding
    from postmortems.models import Incident, Service

    incident = Incident.objects.create(
        title="bare", severity="SEV2", team=team, started_at=timezone.now()
    )
    service = Service.objects.get(slug="checkout-web")
    started_at = dt.datetime(2026, 5, 1, 10, 15, tzinfo=dt.UTC)
    total = 0
    started = time.perf_counter()
    for items in batch_items:
        now = timezone.now()
        rows = [
            Finding(
                team=team,
                incident=incident,
                analyzer=item["analyzer"],
                analyzer_version=item["analyzer_version"],
                fingerprint=item["fingerprint"],
                dedupe_key=f"{item['analyzer']}:{item['fingerprint']}",
                service=service,
                severity=item["severity"],
                title=item["title"],
                summary=item["summary"],
                root_cause=item["root_cause"]["text"],
                root_cause_class=item["root_cause"]["failure_class"],
                root_cause_confidence=item["root_cause"]["confidence"],
                evidence=item["evidence"],
                suggested_actions=item["suggested_actions"],
                raw=item,
                started_at=started_at,
                first_seen_at=now,
                last_seen_at=now,
            )
            for item in items
        ]
        Finding.objects.bulk_create(rows)
        total += len(rows)
    return total / (time.perf_counter() - started)


def empty_redis() -> None:
    """Drop the follow-up tasks and cache entries the run made (db 14 and 13)."""
    try:
        import redis

        for url in (BROKER, CACHE):
            redis.Redis.from_url(url).flushdb()
    except Exception as exc:  # noqa: BLE001 - cleanup is best effort
        log(f"could not empty the broker: {exc}")


if __name__ == "__main__":
    main()
