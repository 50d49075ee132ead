"""Writing one Robusta finding; it joins the alert that triggered it, if we have it."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from findings import dispatch, lookups
from findings.integrations.robusta.parser import RobustaFinding
from findings.models import ApiKey, Finding, FindingSource
from findings.services.upsert import (
    IngestResult,
    incident_for_key,
    incident_mark_resolved,
    upsert_findings,
)
from postmortems.models import Incident


@transaction.atomic
def robusta_ingest(
    *, api_key: ApiKey, parsed: RobustaFinding, now: dt.datetime | None = None
) -> tuple[Incident, IngestResult]:
    """One Robusta finding; it joins the alert that triggered it, if we have it."""
    now = now or timezone.now()
    team = api_key.team
    record = parsed.record
    alert = (
        Finding.objects.filter(
            team=team, source=FindingSource.ALERTMANAGER, fingerprint=record.fingerprint
        )
        .select_related("incident")
        .order_by("-first_seen_at", "-pk")
        .first()
    )
    created = False
    if alert is not None:
        # Robusta ran because of this alert: enrich its incident, as its child.
        incident = alert.incident
        record.parent_id = alert.pk
        record.parent_dedupe_key = ""
        parent_keys = {alert.pk: alert.dedupe_key}
    else:
        incident, created = incident_for_key(
            team=team, spec=parsed.incident, recurrence_at=record.started_at
        )
        parent_keys = {}
    record.incident_id = incident.pk
    candidates = set(record.meta.get("service_candidates") or [])
    result = IngestResult(incidents_opened=[incident.pk] if created else [])
    result.findings = upsert_findings(
        team=team,
        records=[record],
        source=FindingSource.ROBUSTA,
        service_ids=lookups.service_ids_lenient(candidates),
        opened={record.index} if created else set(),
        now=now,
        parent_keys=parent_keys,
    )
    if record.ended_at and incident.external_source == FindingSource.ROBUSTA:
        incident_mark_resolved(incident, record.ended_at)
    dispatch.send_on_commit(result)
    return incident, result
