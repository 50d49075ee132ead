"""Ingesting native findings (``POST /api/v1/findings/``): validated records in,
incidents found or opened and findings upserted, all or nothing.

Only the write happens in the request; the follow-up task is sent on commit (the
rows written record that it is due: ``findings.dispatch``). The alert
integrations' own ingest services are in ``findings/integrations/<name>/``.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from findings import dispatch, lookups
from findings.models import ApiKey, Finding, FindingSource
from findings.records import (
    INCIDENT_SEVERITY,
    FindingRecord,
    IncidentSpec,
)
from findings.services.upsert import (
    ForeignTeam,
    IngestResult,
    incident_open,
    incidents_by_key,
    upsert_findings,
)
from findings.validation import BatchInvalid
from postmortems.models import Incident, Service


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
    dispatch.send_on_commit(result)
    return result
