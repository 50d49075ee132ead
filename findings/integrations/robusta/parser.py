"""Robusta webhook sink (``format: json``) → one finding.

See shared/PAYLOADS.md §3. Robusta's sink has a ``size_limit`` (4096 bytes by
default): keys are written in a fixed order and the ones that no longer fit are
dropped, ``enrichments`` first. A cut finding is still accepted; what is missing is
recorded so the finding page can say so and suggest raising ``size_limit``. Only a
payload with nothing to show (not even a title) is refused.
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

SOURCE = "robusta"
DEFAULT_SIZE_LIMIT = 4096
# A body at least this big with keys missing from the end was cut by size_limit.
TRUNCATION_HINT_BYTES = 3072

# The keys in the order Robusta writes them.
KEY_ORDER = (
    "title",
    "description",
    "cluster_name",
    "account_id",
    "severity",
    "source",
    "finding_type",
    "aggregation_key",
    "failure",
    "fingerprint",
    "starts_at",
    "ends_at",
    "id",
    "category",
    "service",
    "service_key",
    "creation_date",
    "investigate_uri",
    "add_silence_url",
    "subject",
    "links",
    "investigate",
    "silence",
    "enrichments",
)
# Only present when the Robusta SaaS platform is enabled.
OPTIONAL_KEYS = {"investigate", "silence"}

SEVERITY = {
    "DEBUG": "info",
    "INFO": "info",
    "LOW": "low",
    "MEDIUM": "medium",
    "HIGH": "high",
    "CRITICAL": "critical",
}
INCIDENT_SEVERITY = {"critical": "SEV1", "high": "SEV2"}
MAX_EXCERPT = 2000
MAX_EVIDENCE = 50


@dataclass(slots=True)
class RobustaFinding:
    record: FindingRecord
    incident: IncidentSpec
    truncated: bool
    missing_keys: list[str] = field(default_factory=list)


STRING_KEYS = (
    "title",
    "description",
    "cluster_name",
    "severity",
    "source",
    "finding_type",
    "aggregation_key",
    "fingerprint",
    "id",
    "service_key",
)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def parse_finding(
    payload: Any, *, body_size: int, received_at: dt.datetime
) -> RobustaFinding:
    """Parse one Robusta JSON finding; raises PayloadInvalid if nothing is usable."""
    if not isinstance(payload, dict):
        raise PayloadInvalid(
            {"non_field_errors": ["Expected a Robusta finding JSON object."]}
        )
    # Keys may be missing (cut by the sink's size_limit), but one that is there has
    # Robusta's type: anything else is a broken sender, told which field.
    errors = {
        key: ["Expected a string."]
        for key in STRING_KEYS
        if key in payload and not isinstance(payload[key], str)
    }
    for key in ("starts_at", "ends_at"):
        value = payload.get(key)
        if value is None:
            continue
        if isinstance(value, str) and not value.strip():
            errors[key] = ["Expected an ISO 8601 date-time string."]
            continue
        try:
            parse_timestamp(value)
        except ValueError as exc:
            errors[key] = [str(exc)]
    if errors:
        raise PayloadInvalid(errors, "The Robusta finding is invalid.")
    title = _text(payload.get("title")).strip()
    aggregation_key = _text(payload.get("aggregation_key"))
    if not title and not aggregation_key.strip():
        raise PayloadInvalid(
            {"title": ["This field is required."]},
            "The Robusta finding has no title. If it was cut by the sink's "
            "size_limit, raise size_limit.",
        )
    missing = [
        key for key in KEY_ORDER if key not in payload and key not in OPTIONAL_KEYS
    ]
    truncated = bool(missing) and body_size >= TRUNCATION_HINT_BYTES

    subject = payload.get("subject") if isinstance(payload.get("subject"), dict) else {}
    cluster = _text(payload.get("cluster_name"))
    namespace = _text(subject.get("namespace"))
    subject_name = _text(subject.get("name"))
    try:
        starts_at = parse_timestamp(payload.get("starts_at"))
    except ValueError:
        starts_at = None
    try:
        ends_at = parse_timestamp(payload.get("ends_at"))
    except ValueError:
        ends_at = None
    fingerprint = _text(payload.get("fingerprint")) or _text(payload.get("id"))
    if not fingerprint:
        # Cut before the fingerprint: derive a stable one from what is left.
        basis = "|".join(
            (title, cluster, aggregation_key, namespace, subject_name, str(starts_at))
        )
        fingerprint = "sha256:" + hashlib.sha256(basis.encode()).hexdigest()[:32]
    severity = SEVERITY.get(_text(payload.get("severity")).upper(), "medium")
    finding_type = _text(payload.get("finding_type"))
    description = _text(payload.get("description"))

    candidates = []
    service_key = _text(payload.get("service_key"))
    if service_key:
        candidates.append(service_key.rsplit("/", 1)[-1])
    labels = subject.get("labels") if isinstance(subject.get("labels"), dict) else {}
    for label in ("app.kubernetes.io/name", "app", "service"):
        if isinstance(labels.get(label), str) and labels[label] not in candidates:
            candidates.append(labels[label])

    record = FindingRecord(
        analyzer=SOURCE,
        analyzer_version=_text(payload.get("source")).lower(),
        fingerprint=fingerprint[:200],
        title=(title or aggregation_key)[:300],
        summary=description,
        severity=severity,
        service=candidates[0] if candidates else "",
        root_cause=description if finding_type == "AI_ANALYSIS" else "",
        evidence=_evidence(payload),
        started_at=starts_at or received_at,
        ended_at=ends_at,
        meta={
            "cluster": cluster,
            "aggregation_key": aggregation_key,
            "finding_type": finding_type,
            "subject": {
                "kind": _text(subject.get("kind")),
                "namespace": namespace,
                "name": subject_name,
            },
            "service_candidates": candidates,
            "truncated": truncated,
            "missing_keys": missing if truncated else [],
        },
        raw=payload,
    )
    key = "/".join(
        part for part in (cluster, aggregation_key or title, namespace, subject_name)
    )
    record.incident_key = key[:400]
    record.incident_source = SOURCE
    return RobustaFinding(
        record=record,
        incident=IncidentSpec(
            source=SOURCE,
            key=record.incident_key,
            title=record.title[:200],
            severity=INCIDENT_SEVERITY.get(severity, "SEV3"),
            started_at=record.started_at,
            detected_at=record.started_at,
            resolved_at=ends_at,
            services=candidates[:1],
        ),
        truncated=truncated,
        missing_keys=missing if truncated else [],
    )


def _evidence(payload: dict) -> list[dict]:
    evidence = []
    links = payload.get("links") if isinstance(payload.get("links"), list) else []
    for link in links:
        if not isinstance(link, dict):
            continue
        url = _text(link.get("url"))
        if not url.startswith(("https://", "http://")):
            continue
        kind = "metric" if "prometheus" in _text(link.get("type")) else "link"
        evidence.append(
            {
                "kind": kind,
                "title": _text(link.get("name"))[:200],
                "url": url,
                "excerpt": "",
                "data": None,
            }
        )
    for key in ("investigate", "investigate_uri"):
        url = _text(payload.get(key))
        if url.startswith(("https://", "http://")) and not any(
            item["url"] == url for item in evidence
        ):
            evidence.append(
                {
                    "kind": "link",
                    "title": "Investigate in Robusta",
                    "url": url,
                    "excerpt": "",
                    "data": None,
                }
            )
    enrichments = payload.get("enrichments")
    for enrichment in enrichments if isinstance(enrichments, list) else []:
        if not isinstance(enrichment, dict):
            continue
        blocks = enrichment.get("blocks")
        texts = [
            block["text"]
            for block in (blocks if isinstance(blocks, list) else [])
            if isinstance(block, dict) and isinstance(block.get("text"), str)
        ]
        evidence.append(
            {
                "kind": "log",
                "title": _text(enrichment.get("title"))[:200]
                or _text(enrichment.get("enrichment_type"))[:200],
                "url": "",
                "excerpt": "\n".join(texts)[:MAX_EXCERPT],
                "data": enrichment,
            }
        )
    return evidence[:MAX_EVIDENCE]
