"""Writes for findings, alert ingestion, suggestions, reviews and API keys.

Ingestion does only the write in the request: incidents found or opened, findings
upserted (``ingest``, ``upsert``; each alert integration's own ingest is in its
folder, ``findings/integrations/<name>/ingest.py``). Everything else (timeline
entries, service links, draft suggestions, matches to past incidents:
``follow_up_steps``) runs in ``tasks.findings_follow_up``, sent on commit; each
finding row records that its follow-up is due until the task has run
(``findings.dispatch``). People's decisions are in
``decisions`` (accepted suggestions become action items through
``actions.services.action_item_create``).
"""

from findings.services.api_keys import api_key_create, api_key_revoke
from findings.services.decisions import (
    SuggestionAlreadyDecided,
    finding_add_to_timeline,
    finding_set_verdict,
    finding_suggestion_accept,
    finding_suggestion_dismiss,
)
from findings.services.follow_up_steps import (
    findings_link_services,
    findings_link_waiting_children,
    findings_record_timeline,
    findings_reread_postmortems,
    findings_sync_suggestions,
    suggestion_key,
)
from findings.services.idempotency import (
    IDEMPOTENCY_TTL,
    IdempotencyKeyReused,
    idempotency_records_purge,
    idempotent_call,
)
from findings.services.ingest import findings_ingest
from findings.services.reread import incident_postmortems_reread
from findings.services.upsert import (
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
    "api_key_create",
    "api_key_revoke",
    "finding_add_to_timeline",
    "finding_set_verdict",
    "finding_suggestion_accept",
    "finding_suggestion_dismiss",
    "findings_ingest",
    "findings_link_services",
    "findings_link_waiting_children",
    "findings_record_timeline",
    "findings_reread_postmortems",
    "findings_sync_suggestions",
    "incident_postmortems_reread",
    "idempotency_records_purge",
    "idempotent_call",
    "suggestion_key",
]
