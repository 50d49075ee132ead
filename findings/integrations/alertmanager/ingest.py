"""Writing one Alertmanager notification: the group's incident, a finding per alert."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from findings import dispatch, lookups
from findings.integrations.alertmanager.parser import AlertGroup
from findings.models import ApiKey, FindingSource
from findings.services.upsert import (
    IngestResult,
    incident_for_key,
    incident_mark_resolved,
    upsert_findings,
)
from postmortems.models import Incident


@transaction.atomic
def alertmanager_ingest(
    *, api_key: ApiKey, group: AlertGroup, now: dt.datetime | None = None
) -> tuple[Incident, IngestResult]:
    """One Alertmanager notification: the group's incident and a finding per alert."""
    now = now or timezone.now()
    team = api_key.team
    firing = [a.started_at for a in group.alerts if a.ended_at is None and a.started_at]
    incident, created = incident_for_key(
        team=team,
        spec=group.incident,
        recurrence_at=max(firing) if firing and not group.resolved else None,
    )
    for position, record in enumerate(group.alerts):
        record.incident_id = incident.pk
        record.index = position
    opened = set()
    if created:
        first = min(group.alerts, key=lambda r: (r.started_at, r.dedupe_key))
        opened.add(first.index)
    names = set(group.incident.services) | {a.service for a in group.alerts}
    result = IngestResult(incidents_opened=[incident.pk] if created else [])
    result.findings = upsert_findings(
        team=team,
        records=group.alerts,
        source=FindingSource.ALERTMANAGER,
        service_ids=lookups.service_ids_lenient(names),
        opened=opened,
        now=now,
    )
    if group.resolved and group.resolved_at:
        incident_mark_resolved(incident, group.resolved_at)
    dispatch.send_on_commit(result)
    return incident, result
