"""Ingestion: native findings and the Alertmanager, PagerDuty and Robusta webhooks.

Each does only the write in the request (incidents found or opened, findings
upserted) and sends the follow-up task on commit (the rows written record that it
is due: ``follow_up_outbox``).
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from postmortems.findings import lookups
from postmortems.findings.integrations import pagerduty
from postmortems.findings.integrations.alertmanager import AlertGroup
from postmortems.findings.integrations.pagerduty import PagerDutyEvent
from postmortems.findings.integrations.robusta import RobustaFinding
from postmortems.findings.records import (
    INCIDENT_SEVERITY,
    FindingRecord,
    IncidentSpec,
)
from postmortems.findings.services.follow_up_outbox import follow_up_send_on_commit
from postmortems.findings.services.upsert import (
    UPDATE_FIELDS,
    ForeignTeam,
    IngestResult,
    incident_for_key,
    incident_mark_resolved,
    incident_open,
    incidents_by_key,
    upsert_findings,
)
from postmortems.findings.validation import BatchInvalid
from postmortems.models import (
    ApiKey,
    Finding,
    FindingSource,
    Incident,
    IncidentStatus,
    Service,
)


@transaction.atomic
def findings_ingest(
    *,
    api_key: ApiKey,
    records: list[FindingRecord],
    now: dt.datetime | None = None,
) -> IngestResult:
    """Write validated native findings atomically: all or nothing.

    Raises BatchInvalid (unknown incident, service or parent, per item),
    ForeignTeam (another team's incident) before anything is written.
    """
    now = now or timezone.now()
    team = api_key.team
    errors: dict[int, dict] = {}

    ids = {r.incident_id for r in records if r.incident_id}
    id_teams = (
        dict(Incident.objects.filter(pk__in=ids).values_list("pk", "team_id"))
        if ids
        else {}
    )
    wanted_keys = {
        (r.incident_source, r.incident_key) for r in records if r.incident_key
    }
    key_incidents: dict[tuple[str, str], tuple[int, int]] = {}
    if wanted_keys:
        key_incidents = incidents_by_key({key for _, key in wanted_keys})
    foreign = set()
    for record in records:
        if record.incident_id:
            owner = id_teams.get(record.incident_id)
            if owner is None:
                errors.setdefault(record.index, {})["incident_id"] = [
                    f"No incident has id {record.incident_id}."
                ]
            elif owner != team.pk:
                foreign.add(record.index)
        else:
            hit = key_incidents.get((record.incident_source, record.incident_key))
            if hit is not None and hit[1] != team.pk:
                foreign.add(record.index)
            elif hit is None and not team.allow_auto_incidents:
                errors.setdefault(record.index, {})["incident_key"] = [
                    f"No {record.incident_source} incident has this key, and team "
                    f"{team.name} does not let findings open incidents "
                    "(Team.allow_auto_incidents)."
                ]
    if foreign:
        indices = ", ".join(str(i) for i in sorted(foreign)[:20])
        raise ForeignTeam(
            f"Item(s) {indices} belong to another team's incident; this API key is "
            f"for {team.name}."
        )

    services = lookups.services_by_slug({r.service for r in records if r.service})
    service_ids = {slug: pk for slug, (pk, _) in services.items()}
    # A key reports on its own team's services only.
    foreign_services = sorted(
        {
            (r.index, r.service)
            for r in records
            if r.service in services and services[r.service][1] != team.pk
        }
    )
    if foreign_services:
        owners = dict(
            Service.objects.filter(
                slug__in={slug for _, slug in foreign_services}
            ).values_list("slug", "team__name")
        )
        raise ForeignTeam(
            "; ".join(
                f"Item {index} names service {slug} of team {owners.get(slug, '?')}"
                for index, slug in foreign_services[:20]
            )
            + f". This API key is for team {team.name} and reports on its "
            "services only."
        )
    parent_ids = {r.parent_id for r in records if r.parent_id}
    parent_keys = (
        dict(
            Finding.objects.filter(pk__in=parent_ids, team=team).values_list(
                "pk", "dedupe_key"
            )
        )
        if parent_ids
        else {}
    )
    # Only to refuse a finding named as its own parent (by id).
    existing = (
        dict(
            Finding.objects.filter(
                team=team,
                dedupe_key__in={r.dedupe_key for r in records if r.parent_id},
            ).values_list("dedupe_key", "pk")
        )
        if parent_ids
        else {}
    )
    for record in records:
        if record.service and record.service not in service_ids:
            errors.setdefault(record.index, {})["service"] = [
                f"No service has the slug {record.service!r}."
            ]
        if record.parent_id and record.parent_id not in parent_keys:
            errors.setdefault(record.index, {})["parent_id"] = [
                f"Your team has no finding with id {record.parent_id}."
            ]
        elif record.parent_id and existing.get(record.dedupe_key) == record.parent_id:
            errors.setdefault(record.index, {})["parent_id"] = [
                "A finding cannot be its own parent."
            ]
    if errors:
        raise BatchInvalid(
            [{"index": i, "errors": errors[i]} for i in sorted(errors)],
            total=len(records),
        )

    result = IngestResult()
    opened: set[int] = set()
    # Open missing incidents in key order: two batches opening the same ones then
    # wait for each other in the same order instead of deadlocking.
    first_of_key: dict[tuple[str, str], FindingRecord] = {}
    for record in records:
        ref = (record.incident_source, record.incident_key)
        if record.incident_key and ref not in key_incidents:
            first_of_key.setdefault(ref, record)
    for ref in sorted(first_of_key):
        record = first_of_key[ref]
        incident, created = incident_open(
            team=team,
            spec=IncidentSpec(
                source=record.incident_source,
                key=record.incident_key,
                title=record.title[:200],
                severity=INCIDENT_SEVERITY[record.severity],
                started_at=record.started_at or now,
                detected_at=now,
            ),
        )
        key_incidents[ref] = (incident.pk, team.pk)
        if created:
            opened.add(record.index)
            result.incidents_opened.append(incident.pk)
    for record in records:
        if not record.incident_id:
            ref = (record.incident_source, record.incident_key)
            record.incident_id = key_incidents[ref][0]

    result.findings = upsert_findings(
        team=team,
        records=records,
        source=FindingSource.API,
        service_ids=service_ids,
        opened=opened,
        now=now,
        parent_keys=parent_keys,
    )
    follow_up_send_on_commit(result)
    return result


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
    follow_up_send_on_commit(result)
    return incident, result


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
    follow_up_send_on_commit(result)
    return incident, result


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
    follow_up_send_on_commit(result)
    return incident, result
