"""PagerDuty Webhooks v3 → incident timestamps and one finding per PagerDuty incident.

See shared/PAYLOADS.md §2. Each POST carries one event. Signatures are HMAC-SHA256 of
the raw body (``X-PagerDuty-Signature: v1=<hex>[,v1=<hex>]``, several during secret
rotation). Delivery order is not guaranteed, so status times are merged, never
overwritten in arrival order: the first trigger and acknowledgement win, the last
resolution wins, and a reopening later than the last resolution clears it. Replaying
an event changes nothing.
"""

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from findings.records import (
    FindingRecord,
    IncidentSpec,
    PayloadInvalid,
    parse_timestamp,
)

SOURCE = "pagerduty"

# The event types that move an incident's lifecycle, and the status each records.
STATUS_EVENTS = {
    "incident.triggered": "triggered",
    "incident.acknowledged": "acknowledged",
    "incident.unacknowledged": "unacknowledged",
    "incident.resolved": "resolved",
    "incident.reopened": "reopened",
}
# For each status: keep the earliest (first trigger, first ack) or the latest.
EARLIEST = {"triggered", "acknowledged"}

PRIORITY_SEVERITY = {
    "P1": "SEV1",
    "P2": "SEV2",
    "P3": "SEV3",
    "P4": "SEV3",
    "P5": "SEV3",
}
URGENCY_SEVERITY = {"high": "SEV2", "low": "SEV3"}
FINDING_SEVERITY = {"SEV1": "critical", "SEV2": "high", "SEV3": "medium"}


def verify_signature(body: bytes, header: str | None, secrets: list[str]) -> bool:
    """True when any ``v1=`` signature in ``header`` matches any secret.

    Every pair is compared in constant time, and all pairs are always compared.
    """
    if not header or not secrets:
        return False
    given = [
        part.strip()[3:].encode()
        for part in header.split(",")
        if part.strip().startswith("v1=")
    ]
    matched = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
        for signature in given:
            matched |= hmac.compare_digest(expected, signature)
    return matched


def sign(body: bytes, secret: str) -> str:
    """The header value PagerDuty would send for ``body`` (used by tests and docs)."""
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(slots=True)
class PagerDutyEvent:
    event_id: str
    event_type: str
    occurred_at: dt.datetime
    # None for events that do not concern an incident object (service.*, notes).
    incident_id: str | None
    status: str | None
    agent: str
    incident: IncidentSpec | None
    finding: FindingRecord | None


def parse_webhook(payload: Any) -> PagerDutyEvent:
    """Parse one v3 webhook body; raises PayloadInvalid with per-field messages."""
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), dict):
        raise PayloadInvalid(
            {"event": ['Expected the PagerDuty v3 envelope: {"event": {...}}.']}
        )
    event = payload["event"]
    errors: dict = {}
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id:
        errors["event.id"] = ["This field is required."]
    event_type = event.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        errors["event.event_type"] = ["This field is required."]
    try:
        occurred_at = parse_timestamp(event.get("occurred_at"))
        if occurred_at is None:
            errors["event.occurred_at"] = ["This field is required."]
    except ValueError as exc:
        errors["event.occurred_at"] = [str(exc)]
        occurred_at = None
    data = event.get("data")
    if data is not None and not isinstance(data, dict):
        errors["event.data"] = ["Expected an object."]
        data = None
    if errors:
        raise PayloadInvalid(errors, "The PagerDuty webhook payload is invalid.")
    agent = _summary(event.get("agent"))
    if not _is_about_an_incident(event_type, event.get("resource_type"), data):
        return PagerDutyEvent(
            event_id=event_id,
            event_type=event_type,
            occurred_at=occurred_at,
            incident_id=None,
            status=None,
            agent=agent,
            incident=None,
            finding=None,
        )

    incident_id = str(data["id"])
    try:
        created_at = parse_timestamp(data.get("created_at")) or occurred_at
    except ValueError:
        created_at = occurred_at
    title = data.get("title") if isinstance(data.get("title"), str) else ""
    number = data.get("number")
    urgency = data.get("urgency") if isinstance(data.get("urgency"), str) else ""
    priority = _summary(data.get("priority"))
    service = _summary(data.get("service"))
    severity = PRIORITY_SEVERITY.get(
        priority.upper(), URGENCY_SEVERITY.get(urgency, "SEV3")
    )
    html_url = data.get("html_url") if isinstance(data.get("html_url"), str) else ""
    label = f"PagerDuty incident #{number}" if number else "PagerDuty incident"
    details = ", ".join(
        part
        for part in (
            f"urgency {urgency}" if urgency else "",
            f"priority {priority}" if priority else "",
            f"service {service}" if service else "",
        )
        if part
    )
    evidence = []
    if html_url.startswith(("https://", "http://")):
        evidence.append(
            {
                "kind": "link",
                "title": label,
                "url": html_url,
                "excerpt": "",
                "data": None,
            }
        )
    title = title or label
    finding = FindingRecord(
        analyzer=SOURCE,
        analyzer_version="v3",
        fingerprint=incident_id,
        title=title[:300],
        summary=f"{label}: {details}." if details else label,
        severity=FINDING_SEVERITY.get(severity, "medium"),
        service=service,
        evidence=evidence,
        started_at=created_at,
        incident_key=incident_id,
        incident_source=SOURCE,
        meta={
            "number": number,
            "urgency": urgency,
            "priority": priority,
            "service": service,
            "incident_key": data.get("incident_key") or "",
            "html_url": html_url,
        },
        raw=payload,
    )
    return PagerDutyEvent(
        event_id=event_id,
        event_type=event_type,
        occurred_at=occurred_at,
        incident_id=incident_id,
        status=STATUS_EVENTS.get(event_type),
        agent=agent,
        incident=IncidentSpec(
            source=SOURCE,
            key=incident_id,
            title=title[:200],
            severity=severity,
            started_at=created_at,
            detected_at=created_at,
            services=[service] if service else [],
        ),
        finding=finding,
    )


def _is_about_an_incident(event_type: str, resource_type: Any, data: Any) -> bool:
    """Only ``incident.*`` events whose data is the incident itself open or change
    one: a ``service.updated`` event says nothing about an incident, whatever its
    data holds, and an annotation's data is a note, not the incident."""
    return (
        event_type.startswith("incident.")
        and resource_type in (None, "incident")
        and isinstance(data, dict)
        and data.get("type") == "incident"
        and isinstance(data.get("id"), str)
        and bool(data["id"].strip())
    )


def _summary(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("summary"), str):
        return value["summary"]
    return ""


def merge_status(
    state: dict, *, status: str, occurred_at: dt.datetime, event_id: str, agent: str
) -> dict:
    """``state`` with this status event folded in (order of arrival is irrelevant)."""
    merged = dict(state)
    current = merged.get(status)
    when = occurred_at.isoformat()
    if current is not None:
        current_at = dt.datetime.fromisoformat(current["at"])
        keep_current = (
            current_at <= occurred_at
            if status in EARLIEST
            else current_at >= occurred_at
        )
        if keep_current:
            return merged
    merged[status] = {"at": when, "event_id": event_id, "by": agent}
    return merged


def incident_times(state: dict) -> dict:
    """The incident's detected/acknowledged/resolved times implied by ``state``."""

    def at(status: str) -> dt.datetime | None:
        entry = state.get(status)
        return dt.datetime.fromisoformat(entry["at"]) if entry else None

    resolved = at("resolved")
    reopened = at("reopened")
    if resolved and reopened and reopened > resolved:
        resolved = None
    return {
        "detected_at": at("triggered"),
        "acknowledged_at": at("acknowledged"),
        "resolved_at": resolved,
    }
