"""Prometheus Alertmanager webhook (version 4) → an alert group and its findings.

One POST per alert group (see shared/PAYLOADS.md §1). The group opens or updates an
incident keyed by ``groupKey``; each alert becomes a finding keyed by its
``fingerprint`` and ``startsAt`` (the same alert firing again after it resolved is a
new occurrence, not an update of last week's). Grafana's extra fields (``orgId``,
``dashboardURL``, ``values``...) are kept in the raw payload.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from findings.records import (
    FindingRecord,
    IncidentSpec,
    PayloadInvalid,
    parse_timestamp,
)

SOURCE = "alertmanager"
# Keys longer than this are hashed so they fit Incident.external_key.
MAX_KEY_LENGTH = 400

ALERT_SEVERITY = {
    "critical": "critical",
    "page": "critical",
    "error": "high",
    "high": "high",
    "major": "high",
    "warning": "medium",
    "warn": "medium",
    "medium": "medium",
    "minor": "low",
    "low": "low",
    "info": "info",
    "none": "info",
}
INCIDENT_SEVERITY = {"critical": "SEV1", "high": "SEV2"}


@dataclass(slots=True)
class AlertGroup:
    group_key: str
    incident_key: str
    status: str
    incident: IncidentSpec
    alerts: list[FindingRecord] = field(default_factory=list)
    truncated_alerts: int = 0

    @property
    def resolved(self) -> bool:
        return self.status == "resolved"

    @property
    def resolved_at(self) -> dt.datetime | None:
        return self.incident.resolved_at


def incident_key(group_key: str) -> str:
    if len(group_key) <= MAX_KEY_LENGTH:
        return group_key
    return "sha256:" + hashlib.sha256(group_key.encode()).hexdigest()


def _labels(container: dict, path: str, errors: dict) -> dict:
    """A label set (strings to strings, as Alertmanager sends); absent is empty."""
    if path not in container:
        return {}
    value = container[path]
    if not isinstance(value, dict):
        errors[path] = ["Expected an object of strings."]
        return {}
    for key, item in value.items():
        if not isinstance(item, str):
            errors[f"{path}.{key}"] = ["Expected a string."]
    return {k: v for k, v in value.items() if isinstance(v, str)}


def _optional_string(container: dict, key: str, errors: dict) -> str:
    """The text at ``key``, "" when absent; another type is an error."""
    value = container.get(key, "")
    if not isinstance(value, str):
        errors[key] = ["Expected a string."]
        return ""
    return value


def _optional_timestamp(container: dict, key: str, errors: dict):
    if key not in container:
        return None
    value = container[key]
    if not isinstance(value, str) or not value.strip():
        errors[key] = ["Expected an ISO 8601 date-time string."]
        return None
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        errors[key] = [str(exc)]
        return None


def parse_webhook(payload: Any, *, received_at: dt.datetime) -> AlertGroup:
    """Parse one webhook body; raises PayloadInvalid with per-field messages."""
    if not isinstance(payload, dict):
        raise PayloadInvalid(
            {"non_field_errors": ["Expected the Alertmanager webhook JSON object."]}
        )
    errors: dict = {}
    group_key = payload.get("groupKey")
    if not isinstance(group_key, str) or not group_key.strip():
        errors["groupKey"] = ["This field is required (a non-empty string)."]
    status = payload.get("status")
    if status not in ("firing", "resolved"):
        errors["status"] = ['Must be "firing" or "resolved".']
    alerts = payload.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        errors["alerts"] = ["Expected a non-empty list of alerts."]
        alerts = []
    common_labels = _labels(payload, "commonLabels", errors)
    common_annotations = _labels(payload, "commonAnnotations", errors)
    group_labels = _labels(payload, "groupLabels", errors)
    version = _optional_string(payload, "version", errors)
    _optional_string(payload, "receiver", errors)
    _optional_string(payload, "externalURL", errors)
    truncated = payload.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        errors["truncatedAlerts"] = ["Expected a whole number, 0 or more."]
        truncated = 0
    # Everything but the alerts: it is stored with each alert's finding.
    group = {k: v for k, v in payload.items() if k != "alerts"}

    records = []
    alert_errors = {}
    for position, alert in enumerate(alerts):
        record, problems = _alert(alert, group, version, received_at)
        if problems:
            alert_errors[str(position)] = problems
        else:
            records.append(record)
    if alert_errors:
        errors["alerts"] = alert_errors
    if errors:
        raise PayloadInvalid(errors, "The Alertmanager webhook payload is invalid.")

    alertname = group_labels.get("alertname") or common_labels.get("alertname", "")
    summary = common_annotations.get("summary") or common_annotations.get(
        "description", ""
    )
    title = ": ".join(part for part in (alertname, summary) if part) or (
        f"Alert group {group_key[:80]}"
    )
    severity = ALERT_SEVERITY.get(common_labels.get("severity", "").lower(), "medium")
    services = [common_labels["service"]] if common_labels.get("service") else []
    for record in records:
        if record.service and record.service not in services:
            services.append(record.service)
    starts = [r.started_at for r in records if r.started_at] or [received_at]
    resolved_at = None
    if status == "resolved":
        ends = [r.ended_at for r in records if r.ended_at]
        resolved_at = max(ends) if ends else received_at
    key = incident_key(group_key)
    for record in records:
        record.incident_key = key
        record.incident_source = SOURCE
        record.meta["truncated_alerts"] = truncated
    return AlertGroup(
        group_key=group_key,
        incident_key=key,
        status=status,
        truncated_alerts=truncated,
        alerts=records,
        incident=IncidentSpec(
            source=SOURCE,
            key=key,
            title=title[:200],
            severity=INCIDENT_SEVERITY.get(severity, "SEV3"),
            started_at=min(starts),
            detected_at=min(starts),
            resolved_at=resolved_at,
            services=services,
        ),
    )


def _alert(
    alert: Any, group: dict, version: str, received_at: dt.datetime
) -> tuple[FindingRecord | None, dict]:
    if not isinstance(alert, dict):
        return None, {"non_field_errors": ["Expected an alert object."]}
    errors: dict = {}
    labels = _labels(alert, "labels", errors)
    annotations = _labels(alert, "annotations", errors)
    status = alert.get("status", "firing")
    if status not in ("firing", "resolved"):
        errors["status"] = ['Must be "firing" or "resolved".']
    starts_at = _optional_timestamp(alert, "startsAt", errors)
    ends_at = _optional_timestamp(alert, "endsAt", errors)
    fingerprint = _optional_string(alert, "fingerprint", errors)
    _optional_string(alert, "generatorURL", errors)
    if errors:
        return None, errors
    if not fingerprint:
        # Alertmanager always sends one; other senders may not. Same idea: a hash
        # of the sorted label set.
        fingerprint = hashlib.sha256(repr(sorted(labels.items())).encode()).hexdigest()[
            :16
        ]
    starts_at = starts_at or received_at
    # A firing alert's endsAt is Go's zero time, or a provisional end in the future.
    ended_at = (ends_at or received_at) if status == "resolved" else None
    alertname = labels.get("alertname", "alert")
    summary = annotations.get("summary", "")
    description = annotations.get("description", "")
    evidence = []
    generator = alert.get("generatorURL")
    if isinstance(generator, str) and generator.startswith(("http://", "https://")):
        evidence.append(
            {
                "kind": "metric",
                "title": "Alert rule expression",
                "url": generator,
                "excerpt": "",
                "data": None,
            }
        )
    for name, title in (
        ("runbook_url", "Runbook"),
        ("dashboard_url", "Dashboard"),
    ):
        url = annotations.get(name, "")
        if url.startswith(("http://", "https://")):
            evidence.append(
                {
                    "kind": "link",
                    "title": title,
                    "url": url,
                    "excerpt": "",
                    "data": None,
                }
            )
    for name, title in (("dashboardURL", "Grafana dashboard"), ("panelURL", "Panel")):
        url = alert.get(name)
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            evidence.append(
                {
                    "kind": "metric",
                    "title": title,
                    "url": url,
                    "excerpt": "",
                    "data": None,
                }
            )
    values = alert.get("valueString") or alert.get("values")
    if values:
        evidence.append(
            {
                "kind": "metric",
                "title": "Values when the alert fired",
                "url": "",
                "excerpt": values if isinstance(values, str) else "",
                "data": values if not isinstance(values, str) else None,
            }
        )
    occurrence = starts_at.strftime("%Y%m%dT%H%M%SZ")
    record = FindingRecord(
        analyzer=SOURCE,
        analyzer_version=version,
        fingerprint=fingerprint,
        dedupe_key=f"{SOURCE}:{fingerprint}:{occurrence}",
        title=(f"{alertname}: {summary}" if summary else alertname)[:300],
        summary=description or summary,
        severity=ALERT_SEVERITY.get(labels.get("severity", "").lower(), "medium"),
        service=labels.get("service", ""),
        evidence=evidence,
        started_at=starts_at,
        ended_at=ended_at,
        meta={
            "status": status,
            "labels": labels,
            "annotations": annotations,
            "instance": labels.get("instance", ""),
        },
        raw={"group": group, "alert": alert},
    )
    return record, {}
