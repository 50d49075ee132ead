"""Writes for findings, alert ingestion, suggestions, reviews and API keys.

Ingestion does only the write in the request: incidents found or opened, findings
upserted (``ingest``, ``upsert``). Everything else (timeline entries, service links,
draft suggestions, matches to past incidents) runs in ``tasks.findings_follow_up``
(``follow_up``), sent on commit; each finding row records that its follow-up is
due until the task has run (``follow_up_outbox``). People's decisions are in
``decisions`` (accepted suggestions become action items through
``actions.services.action_item_create``).
"""

from postmortems.findings.services.api_keys import api_key_create, api_key_revoke
from postmortems.findings.services.decisions import (
    SuggestionAlreadyDecided,
    finding_add_to_timeline,
    finding_set_verdict,
    finding_suggestion_accept,
    finding_suggestion_dismiss,
)
from postmortems.findings.services.follow_up import (
    findings_follow_up,
    findings_link_services,
    findings_link_waiting_children,
    findings_record_timeline,
    findings_sync_suggestions,
    incident_findings_follow_up,
    suggestion_key,
)
from postmortems.findings.services.idempotency import (
    IDEMPOTENCY_TTL,
    IdempotencyKeyReused,
    idempotency_records_purge,
    idempotent_call,
)
from postmortems.findings.services.ingest import (
    alertmanager_ingest,
    findings_ingest,
    pagerduty_ingest,
    robusta_ingest,
)
from postmortems.findings.services.upsert import (
    UPDATE_FIELDS,
    AutoIncidentsDisabled,
    ForeignTeam,
    IngestedFinding,
    IngestResult,
)

__all__ = [
    "IDEMPOTENCY_TTL",
    "UPDATE_FIELDS",
    "AutoIncidentsDisabled",
    "ForeignTeam",
    "IdempotencyKeyReused",
    "IngestResult",
    "IngestedFinding",
    "SuggestionAlreadyDecided",
    "alertmanager_ingest",
    "api_key_create",
    "api_key_revoke",
    "finding_add_to_timeline",
    "finding_set_verdict",
    "finding_suggestion_accept",
    "finding_suggestion_dismiss",
    "findings_follow_up",
    "findings_ingest",
    "findings_link_services",
    "findings_link_waiting_children",
    "findings_record_timeline",
    "findings_sync_suggestions",
    "idempotency_records_purge",
    "idempotent_call",
    "incident_findings_follow_up",
    "pagerduty_ingest",
    "robusta_ingest",
    "suggestion_key",
]
