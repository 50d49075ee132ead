"""Response times as distributions: sample size, median and spread, not a mean.

Pure module: plain numbers in (seconds), plain data out. A mean of a few dozen
incidents is pulled about by one long outage and cannot show a change; the
median and the interquartile range (25th to 75th percentile) can, and ``n``
says how much to trust them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# The lifecycle metrics of postmortems/metrics.py, in the order they happen.
METRICS = ("TTD", "TTA", "TTM", "TTR")


@dataclass(frozen=True)
class Distribution:
    """Seconds: how many, the median, the quartiles and the extremes."""

    n: int
    median: float | None = None
    p25: float | None = None
    p75: float | None = None
    minimum: float | None = None
    maximum: float | None = None

    @property
    def spread(self) -> float | None:
        """The interquartile range in seconds."""
        if self.p25 is None or self.p75 is None:
            return None
        return self.p75 - self.p25


def distribution(values: Iterable[float | None]) -> Distribution:
    """The distribution of the values that are recorded (None is skipped)."""
    data = np.array([v for v in values if v is not None], dtype=float)
    if data.size == 0:
        return Distribution(n=0)
    p25, median, p75 = np.percentile(data, [25, 50, 75])
    return Distribution(
        n=int(data.size),
        median=float(median),
        p25=float(p25),
        p75=float(p75),
        minimum=float(data.min()),
        maximum=float(data.max()),
    )


def lifecycle_distributions(
    rows: Sequence[Mapping[str, float | None]],
) -> dict[str, Distribution]:
    """One distribution per metric over incidents' ``{metric: seconds}`` rows."""
    return {m: distribution(row.get(m) for row in rows) for m in METRICS}


def format_seconds(seconds: float | None) -> str:
    """``45 s``, ``12 min``, ``2.5 h``, ``3.2 d``: short enough for a table cell."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        hours = seconds / 3600
        return f"{hours:.1f} h" if hours < 10 else f"{hours:.0f} h"
    days = seconds / 86400
    return f"{days:.1f} d" if days < 10 else f"{days:.0f} d"
