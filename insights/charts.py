"""Report data shaped for Chart.js (through ``json_script``) and the tables beside.

Pure module: the report's dataclasses in, plain dicts and lists out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from insights.durations import METRICS, Distribution
from insights.report import ClassReport, Report

CHART_CLASSES = 6
METRIC_NAMES = {
    "TTD": "Time to detect",
    "TTA": "Time to acknowledge",
    "TTM": "Time to mitigate",
    "TTR": "Time to resolve",
}


def quarter_chart(report: Report, classes: Sequence[ClassReport]) -> dict:
    """Per-quarter incident counts of some classes, as Chart.js data."""
    return {
        "labels": report.quarters,
        "datasets": [
            {"label": c.name, "data": [c.quarters.get(q, 0) for q in report.quarters]}
            for c in classes
        ],
    }


def quarter_rows(report: Report, classes: Sequence[ClassReport]) -> list[dict]:
    """The same counts as table rows, one per quarter."""
    return [
        {"quarter": q, "counts": [c.quarters.get(q, 0) for c in classes]}
        for q in report.quarters
    ]


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(value / 60, 2)


def _stats(distributions: Mapping[str, Distribution]) -> dict:
    return {
        metric: {
            "n": d.n,
            "median": _minutes(d.median),
            "p25": _minutes(d.p25),
            "p75": _minutes(d.p75),
        }
        for metric, d in distributions.items()
    }


def duration_rows(
    groups: Sequence[tuple[str, Mapping[str, Distribution]]],
) -> list[dict]:
    """Table rows: a group's name and its distribution per metric, in order."""
    return [
        {
            "name": name,
            "metrics": [
                {"key": m, "name": METRIC_NAMES[m], "d": distributions[m]}
                for m in METRICS
            ],
        }
        for name, distributions in groups
    ]


def duration_chart(
    by_class: Sequence[tuple[str, Mapping[str, Distribution]]],
    by_team: Sequence[tuple[str, Mapping[str, Distribution]]],
) -> dict:
    """Medians and quartiles in minutes per group and metric, for the range chart."""
    return {
        "metrics": [{"key": m, "name": METRIC_NAMES[m]} for m in METRICS],
        "groups": {
            "class": [{"label": n, "stats": _stats(d)} for n, d in by_class],
            "team": [{"label": n, "stats": _stats(d)} for n, d in by_team],
        },
    }


def durations_by_class(report: Report) -> list[tuple[str, Mapping[str, Distribution]]]:
    """The recurring classes' response-time distributions, in report order."""
    return [(c.name, c.durations) for c in report.recurring]


def durations_by_team(report: Report) -> list[tuple[str, Mapping[str, Distribution]]]:
    return list(report.team_durations.items())
