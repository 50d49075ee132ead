"""Faults: request latencies and losses while Redis or PostgreSQL is down.

    /work/main/.venv/bin/python bench/faults_bench.py

Runs the scenarios of tests/reliability/faults.py (the tests assert behaviour;
this reports the figures) on a throwaway PostgreSQL and redis-server on free
loopback ports:

- Redis (broker and cache) killed while an editor saves postmortems through the
  editor form and an analyzer posts findings (gunicorn, KB_DEBUG=0, one Celery
  worker). Target (issue): each save and post answered within 2 s during the
  outage; in-run reference: the same requests with Redis up, just before. Then
  Redis is back, ``relay_outbox`` runs, and the follow-on tasks are counted:
  lost and run-twice must both be 0.
- PostgreSQL stopped for 3 s (fast shutdown, then an immediate one: a crash)
  while 8 analyzer threads post findings through gunicorn (2 workers) and retry
  on 503 after Retry-After. Reported: 503s answered, 500s (target 0), the slowest
  503 answer, findings acknowledged but not stored (target 0).
"""

import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Result, emit, median, percentile  # noqa: E402
from tests import procs  # noqa: E402
from tests.reliability.faults import (  # noqa: E402
    CLASSIFY,
    FOLLOW_UP,
    postgres_restart,
    redis_outage,
)

SAVES, FINDINGS = 10, 30
THREADS, PER_THREAD, OUTAGE = 8, 60, 3.0


def log(message: str) -> None:
    print(message, flush=True)


def ms(seconds: float) -> float:
    return seconds * 1000


def main() -> None:
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="kb-faults-") as tmp:
        tmp = Path(tmp)
        postgres = procs.PostgresServer().init().start()
        try:
            template = "kb_template"
            procs.manage(
                procs.django_env(KB_DATABASE_URL=postgres.create_database(template)),
                "migrate",
                "-v0",
            )

            def fresh_env(redis: procs.RedisServer, **extra) -> dict:
                name = f"kb_{uuid.uuid4().hex[:10]}"
                return procs.django_env(
                    KB_DATABASE_URL=postgres.create_database(name, template=template),
                    KB_CELERY_BROKER_URL=redis.url(0),
                    KB_CACHE_URL=redis.url(1),
                    **extra,
                )

            # 1. Redis down.
            workdir = tmp / "redis"
            workdir.mkdir()
            redis = procs.RedisServer(workdir).start()
            try:
                log(f"Redis outage: {SAVES} saves and {FINDINGS} findings per phase")
                outage = redis_outage(
                    fresh_env(redis), redis, workdir, saves=SAVES, findings=FINDINGS
                )
            finally:
                redis.stop()
            results += redis_figures(outage)

            # 2. PostgreSQL restarted under ingestion load.
            for mode in ("fast", "immediate"):
                workdir = tmp / f"postgres-{mode}"
                workdir.mkdir()
                redis = procs.RedisServer(workdir).start()
                try:
                    log(
                        f"PostgreSQL {mode} stop for {OUTAGE:g} s: {THREADS} "
                        f"threads x {PER_THREAD} findings"
                    )
                    restart = postgres_restart(
                        fresh_env(redis, KB_API_RATE_FINDINGS="100000/min"),
                        postgres,
                        workdir,
                        threads=THREADS,
                        per_thread=PER_THREAD,
                        outage=OUTAGE,
                        mode=mode,
                    )
                finally:
                    redis.stop()
                results += postgres_figures(restart, mode)
        finally:
            postgres.destroy()
    emit("faults", results)


def redis_figures(outage: dict) -> list[Result]:
    before, during = outage["phases"]["before"], outage["phases"]["outage"]
    statuses = [s for p in outage["phases"].values() for s in p["statuses"]]
    done = outage["done"]
    ran = {name: sum(1 for n, _ in done if n == name) for name in (CLASSIFY, FOLLOW_UP)}
    twice = len(done) - len({task_id for _, task_id in done})
    # Classifications are one task per save; follow-ups are counted on the findings
    # (one task may cover several of an incident's findings).
    lost = max(0, 2 * SAVES + 1 - ran[CLASSIFY]) + outage["follow_ups_left"]
    log(
        f"  statuses {sorted(set(statuses))}; outage saves "
        f"{[round(ms(s)) for s in during['save']]} ms; outage posts max "
        f"{ms(max(during['finding'])):.0f} ms; {len(outage['pending'])} tasks "
        f"pending in the outbox, {outage['follow_ups_due']} findings' follow-ups "
        f"due; drained {outage['drained_seconds']:.1f} s after "
        f"Redis was back; ran {ran}, twice {twice}, lost {lost}"
    )
    save_ref = median(before["save"])
    post_ref = median(before["finding"])
    return [
        Result(
            metric="editor save during Redis outage, slowest",
            value=ms(max(during["save"])),
            unit="ms",
            target=2000,
            better="lower",
            reference={
                "metric": "editor save with Redis up, median",
                "value": round(ms(save_ref), 1),
                "ratio": max(during["save"]) / save_ref,
            },
            note=f"{len(during['save'])} saves, all 302",
        ),
        Result(
            metric="finding POST during Redis outage, slowest",
            value=ms(max(during["finding"])),
            unit="ms",
            target=2000,
            better="lower",
            reference={
                "metric": "finding POST with Redis up, median",
                "value": round(ms(post_ref), 1),
                "ratio": max(during["finding"]) / post_ref,
            },
            note=f"{len(during['finding'])} posts, all 201",
        ),
        Result(
            metric="follow-on work lost (Redis outage)",
            value=lost,
            unit="classifications + follow-ups",
            target=0,
            note=(
                f"{len(outage['pending'])} kept in the outbox and "
                f"{outage['follow_ups_due']} follow-ups on their findings, relayed"
            ),
        ),
        Result(
            metric="follow-on tasks run twice (Redis outage)",
            value=twice,
            unit="tasks",
            target=0,
            note=f"{len(done)} tasks ran",
        ),
        Result(
            metric="outbox drained after Redis is back",
            value=outage["drained_seconds"],
            unit="s",
            note="relay_outbox --min-age 0, then the worker ran them",
        ),
    ]


def postgres_figures(restart: dict, mode: str) -> list[Result]:
    seen = restart["seen"]
    unavailable = [r for r in seen if r["status"] == 503]
    errors = [r for r in seen if r["status"] >= 500 and r["status"] != 503]
    normal = [
        r["seconds"]
        for r in seen
        if 200 <= r["status"] < 300
        and not restart["down_at"] - 1 <= r["at"] <= restart["up_at"] + 6
    ]
    acknowledged, stored = restart["acknowledged"], restart["stored"]
    lost = len(set(acknowledged) - set(stored))
    replayed = sum(1 for status in acknowledged.values() if status == 200)
    slowest = ms(max(r["seconds"] for r in unavailable)) if unavailable else 0.0
    log(
        f"  {mode}: {len(seen)} responses, {len(unavailable)} x 503, "
        f"{len(errors)} other 5xx, slowest 503 {slowest:.0f} ms; acknowledged "
        f"{len(acknowledged)} ({replayed} as 200 on retry), stored {len(stored)}, "
        f"lost {lost}; transport errors {len(restart['transport_errors'])}"
    )
    return [
        Result(
            metric=f"PostgreSQL {mode} restart: 503 answers",
            value=len(unavailable),
            unit="responses",
            note=f"of {len(seen)}, all JSON with Retry-After",
        ),
        Result(
            metric=f"PostgreSQL {mode} restart: 500 answers",
            value=len(errors),
            unit="responses",
            target=0,
        ),
        Result(
            metric=f"PostgreSQL {mode} restart: slowest 503",
            value=slowest,
            unit="ms",
            target=2000,
            better="lower",
            reference={
                "metric": "finding POST p95 away from the outage",
                "value": round(ms(percentile(normal, 95)), 1),
                "ratio": slowest / ms(percentile(normal, 95)) if normal else None,
            },
        ),
        Result(
            metric=f"PostgreSQL {mode} restart: findings lost",
            value=lost,
            unit="findings",
            target=0,
            note=f"{len(acknowledged)} acknowledged, {len(stored)} stored",
        ),
    ]


if __name__ == "__main__":
    main()
