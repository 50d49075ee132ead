"""Shared by every benchmark: how a benchmark reports its figures.

Each ``bench/*_bench.py`` prints human-readable lines as it goes and, as its LAST
line, one JSON object made by ``emit()``::

    {"benchmark": "actions", "results": [
        {"metric": "dashboard median", "value": 41.2, "unit": "ms",
         "target": 150, "better": "lower",
         "reference": {"metric": "bare bulk_create", "value": 12000.0}}]}

``bench/run_all.py`` (``make bench``) runs them all and writes BENCHMARKS.md.
"""

import json
import statistics
import sys
from dataclasses import asdict, dataclass, field


@dataclass
class Result:
    metric: str
    value: float
    unit: str
    target: float | None = None
    better: str = "lower"  # "lower" or "higher"
    reference: dict | None = field(default=None)
    note: str = ""

    @property
    def meets_target(self) -> bool | None:
        if self.target is None:
            return None
        if self.better == "lower":
            return self.value <= self.target
        return self.value >= self.target


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (0-100) by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: list[float]) -> float:
    return statistics.median(values)


def emit(benchmark: str, results: list[Result]) -> None:
    """Print the closing JSON line that run_all.py reads."""
    for result in results:
        verdict = {True: "meets target", False: "MISSES target", None: ""}[
            result.meets_target
        ]
        target = (
            f" (target {result.target} {result.unit})"
            if result.target is not None
            else ""
        )
        print(f"{result.metric}: {result.value:.2f} {result.unit}{target} {verdict}")
    sys.stdout.flush()
    print(json.dumps({"benchmark": benchmark, "results": [asdict(r) for r in results]}))
