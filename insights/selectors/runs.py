"""Insights runs: the latest, the last successful one, and the thresholds it
validated."""

from __future__ import annotations

from insights.models import InsightRun, RunKind, RunStatus

# "Not given": read the last successful run (None is an answer: there is none).
UNREAD = object()


# Until a run has validated its own threshold (too few confirmations), inferred
# classes count from here on, and the report says the threshold is a default.
FALLBACK_CONFIDENCE_THRESHOLD = 0.5


def latest_runs(*, limit: int = 5) -> list[InsightRun]:
    return list(InsightRun.objects.filter(kind=RunKind.FULL).order_by("-pk")[:limit])


def last_successful_run() -> InsightRun | None:
    return (
        InsightRun.objects.filter(kind=RunKind.FULL, status=RunStatus.SUCCEEDED)
        .order_by("-finished_at", "-pk")
        .first()
    )


def abstain_threshold(run: InsightRun | None | object = UNREAD) -> float | None:
    """The abstention threshold the last successful full run (``run``, read when
    not given) validated on people's confirmations (None: too few of them)."""
    run = last_successful_run() if run is UNREAD else run
    return run.abstain_threshold if run is not None else None


def confidence_threshold(run: InsightRun | None | object = UNREAD) -> float:
    """The confidence from which an inferred class counts on the report: the
    abstention threshold the last full run (``run``, read when not given)
    validated, else the default."""
    value = abstain_threshold(run)
    return float(value) if value is not None else FALLBACK_CONFIDENCE_THRESHOLD
