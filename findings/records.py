"""Plain records passed from the parsers to the services (pure: no ORM)."""

import datetime as dt
from dataclasses import dataclass, field

from findings.choices import FindingSeverity

SEVERITIES = tuple(FindingSeverity.values)

# How an incident opened by a finding or alert is graded. Machines never declare a
# SEV0: that takes a person.
INCIDENT_SEVERITY = {
    "critical": "SEV1",
    "high": "SEV2",
    "medium": "SEV2",
    "low": "SEV3",
    "info": "SEV3",
}


class PayloadInvalid(ValueError):
    """A payload that cannot be used; ``errors`` maps field paths to messages."""

    def __init__(self, errors: dict, detail: str = "The payload is invalid."):
        super().__init__(detail)
        self.errors = errors
        self.detail = detail


@dataclass(slots=True)
class FindingRecord:
    """One finding, normalised, before it is written."""

    analyzer: str
    fingerprint: str
    title: str
    analyzer_version: str = ""
    dedupe_key: str = ""
    incident_id: int | None = None
    incident_key: str = ""
    incident_source: str = "api"
    service: str = ""
    severity: str = "medium"
    summary: str = ""
    root_cause: str = ""
    root_cause_class: str = ""
    root_cause_confidence: float | None = None
    evidence: list = field(default_factory=list)
    suggested_actions: list = field(default_factory=list)
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    parent_id: int | None = None
    parent_dedupe_key: str = ""
    meta: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)
    # Position in the request, for per-item errors.
    index: int = 0

    def __post_init__(self) -> None:
        if not self.dedupe_key:
            self.dedupe_key = dedupe_key(self.analyzer, self.fingerprint)


@dataclass(slots=True)
class IncidentSpec:
    """What an incident opened by an outside system starts with."""

    source: str
    key: str
    title: str
    severity: str
    started_at: dt.datetime
    detected_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    services: list[str] = field(default_factory=list)


def dedupe_key(analyzer: str, fingerprint: str) -> str:
    """A finding's identity: analyzer and fingerprint."""
    return f"{analyzer}:{fingerprint}"


def parse_timestamp(value) -> dt.datetime | None:
    """An aware datetime from ISO 8601 / RFC 3339 text; raises ValueError otherwise.

    Go's zero time (``0001-01-01T00:00:00Z``, Alertmanager's "no end") is None.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("Expected an ISO 8601 date-time string.")
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"{value[:40]!r} is not an ISO 8601 date-time (e.g. 2026-05-01T10:15:00Z)."
        ) from None
    if parsed.tzinfo is None:
        raise ValueError("Include a time zone (e.g. 2026-05-01T10:15:00Z).")
    if parsed.year <= 1:
        return None
    return parsed.astimezone(dt.UTC)
