"""Response metrics derived from an incident's lifecycle timestamps.

Pure: plain datetimes in, plain data out, no ORM. Timestamps are timezone-aware
(stored in UTC), so a subtraction is real elapsed time even when the viewer's wall
clock jumps for daylight saving time: 01:30 CEST to 02:30 CET is two hours, not one.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

# The lifecycle in the order it should happen, with readable names.
LIFECYCLE_LABELS = {
    "started_at": "started",
    "detected_at": "detected",
    "acknowledged_at": "acknowledged",
    "mitigated_at": "mitigated",
    "resolved_at": "resolved",
}
LIFECYCLE_ORDER = tuple(LIFECYCLE_LABELS)


@dataclass(frozen=True)
class MetricDefinition:
    abbr: str
    name: str
    start: str
    end: str
    meaning: str


# Detection and acknowledgement are measured from the step before; mitigation and
# resolution from the start of impact, because that is what users lived through.
METRIC_DEFINITIONS = (
    MetricDefinition(
        "TTD",
        "Time to detect",
        "started_at",
        "detected_at",
        "How long users were affected before we knew.",
    ),
    MetricDefinition(
        "TTA",
        "Time to acknowledge",
        "detected_at",
        "acknowledged_at",
        "How long an alert or report waited for a person to take it.",
    ),
    MetricDefinition(
        "TTM",
        "Time to mitigate",
        "started_at",
        "mitigated_at",
        "How long until the impact stopped (a workaround counts).",
    ),
    MetricDefinition(
        "TTR",
        "Time to resolve",
        "started_at",
        "resolved_at",
        "How long until the incident was over for good.",
    ),
)


@dataclass(frozen=True)
class Metric:
    abbr: str
    name: str
    meaning: str
    start_field: str
    end_field: str
    duration: dt.timedelta | None

    @property
    def seconds(self) -> int | None:
        if self.duration is None:
            return None
        return int(self.duration.total_seconds())

    @property
    def display(self) -> str:
        return format_duration(self.duration) if self.duration is not None else "—"

    @property
    def formula(self) -> str:
        """E.g. ``TTD = detected − started = 12 min``."""
        start = LIFECYCLE_LABELS[self.start_field]
        end = LIFECYCLE_LABELS[self.end_field]
        base = f"{self.abbr} = {end} − {start}"
        if self.duration is None:
            return f"{base} (not recorded yet)"
        return f"{base} = {self.display}"


def incident_metrics(timestamps: Mapping[str, dt.datetime | None]) -> list[Metric]:
    """TTD, TTA, TTM and TTR from the lifecycle timestamps (missing ones give None)."""
    metrics = []
    for definition in METRIC_DEFINITIONS:
        start = timestamps.get(definition.start)
        end = timestamps.get(definition.end)
        duration = None
        if start is not None and end is not None:
            _require_aware(start, definition.start)
            _require_aware(end, definition.end)
            duration = end - start
        metrics.append(
            Metric(
                abbr=definition.abbr,
                name=definition.name,
                meaning=definition.meaning,
                start_field=definition.start,
                end_field=definition.end,
                duration=duration,
            )
        )
    return metrics


def lifecycle_errors(timestamps: Mapping[str, dt.datetime | None]) -> dict[str, str]:
    """Field name -> message for every timestamp earlier than one before it.

    Missing timestamps are skipped: an incident can be mitigated before anyone
    recorded when it was acknowledged. Each error names the step it conflicts with.
    """
    errors: dict[str, str] = {}
    latest_field = None
    for field in LIFECYCLE_ORDER:
        value = timestamps.get(field)
        if value is None:
            continue
        if latest_field is not None:
            latest = timestamps[latest_field]
            if value < latest:
                errors[field] = (
                    f"{LIFECYCLE_LABELS[field].capitalize()} cannot be before "
                    f"{LIFECYCLE_LABELS[latest_field]} "
                    f"({format_duration(latest - value)} earlier). The order is "
                    "started ≤ detected ≤ acknowledged ≤ mitigated ≤ resolved."
                )
                continue
        latest_field = field
    return errors


def format_duration(duration: dt.timedelta) -> str:
    """A short readable duration: ``45 s``, ``12 min``, ``2 h 5 min``, ``3 d 4 h``."""
    total = int(duration.total_seconds())
    sign = "−" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        text = f"{days} d {hours} h" if hours else f"{days} d"
    elif hours:
        text = f"{hours} h {minutes} min" if minutes else f"{hours} h"
    elif minutes:
        text = f"{minutes} min"
    else:
        text = f"{seconds} s"
    return sign + text


def _require_aware(value: dt.datetime, name: str) -> None:
    # A naive datetime would silently measure wall-clock time and be wrong
    # across a daylight-saving change.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
