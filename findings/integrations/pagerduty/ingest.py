"""Writing one PagerDuty event: the incident by ``data.id``, its merged status times."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from findings import dispatch, lookups
from findings.integrations.pagerduty import parser as pagerduty
from findings.integrations.pagerduty.parser import PagerDutyEvent
from findings.models import ApiKey, Finding, FindingSource
from findings.services.upsert import (
    UPDATE_FIELDS,
    IngestResult,
    incident_for_key,
    upsert_findings,
)
from postmortems.models import Incident, IncidentStatus


@transaction.atomic
def pagerduty_ingest(
    *, api_key: ApiKey, event: PagerDutyEvent, now: dt.datetime | None = None
) -> tuple[Incident, IngestResult]:
    """One PagerDuty event: upsert the incident by ``data.id``, merge status times."""
    now = now or timezone.now()
    team = api_key.team
    incident, created = incident_for_key(team=team, spec=event.incident)
    record = event.finding
    record.incident_id = incident.pk
    result = IngestResult(incidents_opened=[incident.pk] if created else [])
    result.findings = upsert_findings(
        team=team,
        records=[record],
        source=FindingSource.PAGERDUTY,
        service_ids=lookups.service_ids_lenient({record.service}),
        opened={record.index} if created else set(),
        now=now,
        # Status times are merged below, under the row lock the upsert took.
        update_fields=[f for f in UPDATE_FIELDS if f != "meta"],
    )
    finding = Finding.objects.select_for_update().get(pk=result.findings[0].id)
    state = dict(finding.meta.get("status_times") or {})
    if event.status:
        state = pagerduty.merge_status(
            state,
            status=event.status,
            occurred_at=event.occurred_at,
            event_id=event.event_id,
            agent=event.agent,
        )
    meta = {**record.meta, "status_times": state}
    if meta != finding.meta:
        finding.meta = meta
        finding.save(update_fields=["meta"])

    if incident.external_source == pagerduty.SOURCE:
        times = pagerduty.incident_times(state)
        changed = []
        for name in ("detected_at", "acknowledged_at", "resolved_at"):
            value = times[name]
            # Unknown to PagerDuty so far: keep what is there, except that a
            # reopening after the last resolution clears the resolved time.
            if value is None and not (name == "resolved_at" and "reopened" in state):
                continue
            if getattr(incident, name) != value:
                setattr(incident, name, value)
                changed.append(name)
        status = (
            IncidentStatus.RESOLVED
            if incident.resolved_at
            else (
                IncidentStatus.INVESTIGATING
                if incident.status == IncidentStatus.RESOLVED
                else incident.status
            )
        )
        if status != incident.status:
            incident.status = status
            changed.append("status")
        if changed:
            incident._history_user = None
            incident.save(update_fields=[*changed, "updated_at"])
    dispatch.send_on_commit(result)
    return incident, result
