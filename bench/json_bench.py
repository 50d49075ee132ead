"""Benchmark: what the bounded JSON reader (kb/safejson.py) costs over json.loads.

Every JSON body of the API, the webhooks and the importer goes through
``kb.safejson.loads``: the stdlib decoder plus one walk that refuses what cannot be
stored. This times both on the bodies the machine API sees most (one finding, and
the largest batch, 1,000 findings) and reports the median per body and the
overhead. Pure Python, no database.

    /work/main/.venv/bin/python bench/json_bench.py [--repeat 30]

No target: the figure is what refusing unstorable input costs, to weigh against
storing the same batch (BENCHMARKS.md, findings). Not a test: nothing asserts.
"""

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Result, emit, median  # noqa: E402
from kb import safejson  # noqa: E402


def finding(n: int) -> dict:
    # The shape of docs/findings.md's example, with evidence and a raw extra.
    return {
        "analyzer": "storage-probe",
        "analyzer_version": "1.4.0",
        "fingerprint": f"orders-db-replica-lag-{n}",
        "incident_key": '{}:{alertname="HighErrorRate"}',
        "service": "orders-db",
        "severity": "high",
        "title": f"Replica lag above 30 s on orders-db-{n}",
        "summary": "Reads served stale data while the replica caught up. ✓",
        "root_cause": {
            "text": "Disk on orders-db-2 was full; WAL replay stalled.",
            "failure_class": "capacity-exhaustion",
            "confidence": 0.8,
        },
        "evidence": [
            {
                "kind": "metric",
                "url": f"https://grafana.example/d/db?var=orders-db-{n}",
                "excerpt": "disk_used_ratio 0.999",
                "data": {"series": [0.91, 0.95, 0.999], "labels": {"host": "db-2"}},
            }
        ],
        "labels": {"team": "data", "region": "eu-west"},
    }


def time_both(body: bytes, repeat: int) -> tuple[float, float]:
    """Median milliseconds of json.loads and safejson.loads on ``body``, measured
    alternately so that load from other processes hits both alike."""
    plain, bounded = [], []
    for _ in range(repeat):
        for loader, samples in ((json.loads, plain), (safejson.loads, bounded)):
            started = time.perf_counter()
            loader(body)
            samples.append((time.perf_counter() - started) * 1000)
    return median(plain), median(bounded)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    bodies = {
        "one finding": json.dumps(finding(1)).encode(),
        "batch of 1,000 findings": json.dumps(
            [finding(n) for n in range(1000)]
        ).encode(),
    }
    results = []
    for name, body in bodies.items():
        repeat = args.repeat * (50 if name == "one finding" else 1)
        plain, bounded = time_both(body, repeat)
        print(
            f"{name} ({len(body):,} bytes): json.loads {plain:.3f} ms, "
            f"safejson.loads {bounded:.3f} ms"
        )
        results.append(
            Result(
                metric=f"safejson.loads, {name}",
                value=round(bounded, 3),
                unit="ms",
                reference={"metric": "json.loads", "value": round(plain, 3)},
            )
        )
        results.append(
            Result(
                metric=f"reader overhead over json.loads, {name}",
                value=round((bounded / plain - 1) * 100, 1),
                unit="%",
                note=f"{bounded - plain:.3f} ms per body",
            )
        )
    emit("json", results)


if __name__ == "__main__":
    main()
