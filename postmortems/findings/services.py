"""Writes for findings, alert ingestion, suggestions, reviews and API keys.

Ingestion does only the write in the request: incidents found or opened, findings
upserted. Everything else (timeline entries, service links, draft suggestions,
matches to past incidents) runs in ``tasks.findings_follow_up``, enqueued on commit.

Upserts rely on the unique constraint (team, dedupe_key) and ``INSERT ... ON
CONFLICT DO UPDATE``, which PostgreSQL and SQLite both apply atomically, so
concurrent retries of the same finding never make a second row. Rows are written in
dedupe-key order so that two batches touching the same findings lock them in the
same order and cannot deadlock.
"""

import datetime as dt
import functools
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from actions.models import ActionItem, DuePolicy, Priority
from postmortems import outbox
from postmortems.audit import security_event_record
from postmortems.findings.integrations import pagerduty
from postmortems.findings.integrations.alertmanager import AlertGroup
from postmortems.findings.integrations.pagerduty import PagerDutyEvent
from postmortems.findings.integrations.robusta import RobustaFinding
from postmortems.findings.records import (
    INCIDENT_SEVERITY,
    FindingRecord,
    IncidentSpec,
)
from postmortems.findings.validation import BatchInvalid
from postmortems.models import (
    ApiKey,
    ApiKeyScope,
    Finding,
    FindingSource,
    FindingSuggestion,
    IdempotencyRecord,
    Incident,
    IncidentStatus,
    Postmortem,
    RootCauseVerdict,
    SecurityEventKind,
    Service,
    SuggestionStatus,
    Team,
    TimelineEntry,
    TimelineKind,
    TimelineSource,
)

logger = logging.getLogger(__name__)

IDEMPOTENCY_TTL = dt.timedelta(hours=24)

# What a re-sent finding overwrites. Never: first_seen_at, opened_incident, and the
# reviewer's verdict.
UPDATE_FIELDS = [
    "incident",
    "source",
    "analyzer_version",
    "service",
    "severity",
    "title",
    "summary",
    "root_cause",
    "root_cause_class",
    "root_cause_confidence",
    "evidence",
    "suggested_actions",
    "meta",
    "raw",
    "started_at",
    "ended_at",
    "parent",
    "parent_key",
    "last_seen_at",
]


class ForeignTeam(Exception):
    """The request touches another team's incident (403)."""


class AutoIncidentsDisabled(Exception):
    """An unknown key, and the team does not let machines open incidents (422)."""


class IdempotencyKeyReused(Exception):
    """An Idempotency-Key sent again with a different body (422)."""


class SuggestionAlreadyDecided(Exception):
    pass


@dataclass(slots=True)
class IngestedFinding:
    index: int
    id: int
    dedupe_key: str
    incident_id: int
    created: bool


@dataclass(slots=True)
class IngestResult:
    findings: list[IngestedFinding] = field(default_factory=list)
    incidents_opened: list[int] = field(default_factory=list)

    @property
    def created(self) -> int:
        return len({f.id for f in self.findings if f.created})

    @property
    def updated(self) -> int:
        return len({f.id for f in self.findings if not f.created})

    @property
    def finding_ids(self) -> list[int]:
        return sorted({f.id for f in self.findings})


# -- API keys ---------------------------------------------------------------------


def api_key_create(
    *,
    name: str,
    team: Team,
    scopes: list[str],
    expires_at: dt.datetime | None = None,
    actor=None,
    request=None,
    via: str = "",
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the secret, which is never stored."""
    unknown = set(scopes) - set(ApiKeyScope.values)
    if unknown:
        raise ValueError(f"Unknown scopes: {', '.join(sorted(unknown))}.")
    if not scopes:
        raise ValueError("Give the key at least one scope.")
    api_key, secret = ApiKey.objects.create_key(
        name=name, team=team, scopes=sorted(set(scopes)), expiry_date=expires_at
    )
    security_event_record(
        kind=SecurityEventKind.API_KEY_CREATED,
        request=request,
        user=actor,
        username="" if actor or request else via,
        **_key_detail(api_key),
    )
    return api_key, secret


def api_key_revoke(*, api_key: ApiKey, actor=None, request=None, via: str = "") -> None:
    """Revoke for good: requests with the key get 401 from now on."""
    api_key.revoke()
    api_key.save(update_fields=["revoked", "revoked_at"])
    security_event_record(
        kind=SecurityEventKind.API_KEY_REVOKED,
        request=request,
        user=actor,
        username="" if actor or request else via,
        **_key_detail(api_key),
    )


def _key_detail(api_key: ApiKey) -> dict:
    return {
        "prefix": api_key.prefix,
        "name": api_key.name,
        "team": api_key.team.slug,
        "scopes": api_key.scopes,
        "expires": api_key.expiry_date.isoformat() if api_key.expiry_date else None,
    }


# -- Idempotency-Key ----------------------------------------------------------------


class _LostRace(Exception):
    pass


def idempotent_call(
    *,
    api_key: ApiKey,
    key: str | None,
    request_hash: str,
    operation: Callable[[], tuple[int, dict]],
) -> tuple[int, dict, bool]:
    """Run ``operation`` once per Idempotency-Key: ``(status, body, replayed)``.

    The record is written in the operation's transaction, so a failed request stores
    nothing and may be retried with the same key. Two concurrent requests with the
    same key: the second waits on the unique index, then replays the first.
    """
    if not key:
        status, body = operation()
        return status, body, False
    record = IdempotencyRecord.objects.filter(api_key=api_key, key=key).first()
    if record is not None and record.created_at < timezone.now() - IDEMPOTENCY_TTL:
        record.delete()
        record = None
    if record is not None:
        return _replay(record, request_hash)
    try:
        with transaction.atomic():
            status, body = operation()
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.create(
                        api_key=api_key,
                        key=key,
                        request_hash=request_hash,
                        status_code=status,
                        response=body,
                    )
            except IntegrityError:
                raise _LostRace from None
    except _LostRace:
        record = IdempotencyRecord.objects.get(api_key=api_key, key=key)
        return _replay(record, request_hash)
    return status, body, False


def _replay(record: IdempotencyRecord, request_hash: str) -> tuple[int, dict, bool]:
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request body. "
            "Use a new key for a new request."
        )
    return record.status_code, record.response, True


def idempotency_records_purge(*, now: dt.datetime | None = None) -> int:
    """Delete records older than a day; returns how many."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_TTL
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# -- Incidents by external key ------------------------------------------------------


def _incident_open(*, team: Team, spec: IncidentSpec) -> tuple[Incident, bool]:
    """Open an incident for an outside key; a concurrent opener's row wins."""
    incident = Incident(
        title=spec.title or "Untitled alert",
        severity=spec.severity,
        team=team,
        started_at=spec.started_at,
        detected_at=spec.detected_at,
        resolved_at=spec.resolved_at,
        status=IncidentStatus.RESOLVED
        if spec.resolved_at
        else IncidentStatus.INVESTIGATING,
        external_source=spec.source,
        external_key=spec.key,
    )
    # A machine wrote this, not the request's (API-key) user.
    incident._history_user = None
    try:
        with transaction.atomic():
            incident.save()
    except IntegrityError:
        incident = Incident.objects.get(
            external_source=spec.source, external_key=spec.key
        )
        if incident.team_id != team.pk:
            raise ForeignTeam(_foreign_message(team, incident)) from None
        return incident, False
    logger.info("Opened %s for %s key %s", incident.reference, spec.source, spec.key)
    return incident, True


def _foreign_message(team: Team, incident: Incident) -> str:
    return (
        f"{incident.reference} belongs to another team; this API key is for "
        f"{team.name}."
    )


def _incident_for_key(
    *,
    team: Team,
    spec: IncidentSpec,
    recurrence_at: dt.datetime | None = None,
) -> tuple[Incident, bool]:
    """The incident with this outside key, opened if new (and the team allows it).

    ``recurrence_at``: when the key's incident is already resolved and the alert
    fired again after that, the old incident keeps its history under a retired key
    and a new incident opens.
    """
    incident = Incident.objects.filter(
        external_source=spec.source, external_key=spec.key
    ).first()
    if incident is not None and incident.team_id != team.pk:
        raise ForeignTeam(_foreign_message(team, incident))
    if (
        incident is not None
        and recurrence_at is not None
        and incident.resolved_at is not None
        and recurrence_at > incident.resolved_at
    ):
        Incident.objects.filter(pk=incident.pk).update(
            external_key=f"{spec.key}#{incident.pk}"
        )
        incident = None
    if incident is not None:
        return incident, False
    if not team.allow_auto_incidents:
        raise AutoIncidentsDisabled(
            f"No incident has the {spec.source} key {spec.key[:120]!r}, and team "
            f"{team.name} does not let alerts and findings open incidents "
            "(Team.allow_auto_incidents). Open the incident first, or send its id."
        )
    return _incident_open(team=team, spec=spec)


def _incident_mark_resolved(incident: Incident, resolved_at: dt.datetime) -> bool:
    """Set the resolved time if it is still unset; True if it changed."""
    if incident.resolved_at is not None:
        return False
    incident.resolved_at = resolved_at
    incident.status = IncidentStatus.RESOLVED
    incident._history_user = None
    incident.save(update_fields=["resolved_at", "status", "updated_at"])
    return True


# -- Upsert -------------------------------------------------------------------------


def _service_ids_strict(slugs: set[str]) -> dict[str, int]:
    if not slugs:
        return {}
    return dict(Service.objects.filter(slug__in=slugs).values_list("slug", "pk"))


def _service_ids_lenient(names: set[str]) -> dict[str, int]:
    """Match outside service names to ours by slug or by name, ignoring case."""
    names = {name for name in names if name}
    if not names:
        return {}
    slugs = {slugify(name) for name in names} | names
    lowered = {name.lower() for name in names}
    rows = (
        Service.objects.annotate(lname=Lower("name"))
        .filter(Q(slug__in=slugs) | Q(lname__in=lowered))
        .values_list("pk", "slug", "lname")
    )
    found = {}
    for pk, slug, lname in rows:
        for name in names:
            if name in (slug, lname) or slugify(name) == slug or name.lower() == lname:
                found.setdefault(name, pk)
    return found


def _upsert(
    *,
    team: Team,
    records: list[FindingRecord],
    source: str,
    service_ids: dict[str, int],
    opened: set[int],
    now: dt.datetime,
    update_fields: list[str] = UPDATE_FIELDS,
    parent_keys: dict[int, str] | None = None,
) -> list[IngestedFinding]:
    """Insert or update ``records`` (incident ids already set) in one statement."""
    by_key: dict[str, FindingRecord] = {}
    for record in records:
        by_key[record.dedupe_key] = record  # the last copy of a key wins
    parent_keys = parent_keys or {}
    rows = []
    for key in sorted(by_key):
        record = by_key[key]
        candidates = record.meta.get("service_candidates") or [record.service]
        service_id = next(
            (service_ids[name] for name in candidates if name in service_ids), None
        )
        rows.append(
            {
                "team_id": team.pk,
                "incident_id": record.incident_id,
                "source": source,
                "analyzer": record.analyzer,
                "analyzer_version": record.analyzer_version,
                "fingerprint": record.fingerprint,
                "dedupe_key": key,
                "service_id": service_id,
                "severity": record.severity,
                "title": record.title,
                "summary": record.summary,
                "root_cause": record.root_cause,
                "root_cause_class": record.root_cause_class,
                "root_cause_confidence": record.root_cause_confidence,
                "evidence": record.evidence,
                "suggested_actions": record.suggested_actions,
                "meta": record.meta,
                "raw": record.raw,
                "started_at": record.started_at,
                "ended_at": record.ended_at,
                "parent_id": record.parent_id,
                "parent_key": record.parent_dedupe_key
                or parent_keys.get(record.parent_id or 0, ""),
                "opened_incident": record.index in opened,
                "first_seen_at": now,
                "last_seen_at": now,
                "verdict": "",
                "verdict_by_id": None,
                "verdict_at": None,
            }
        )
    columns = [Finding._meta.get_field(name).column for name in update_fields]
    if connection.vendor == "postgresql":
        written = _write_postgresql(rows, columns)
    else:
        written = _write_generic(team, rows, update_fields)
    # Link parents sent by dedupe key. Only rows this transaction already holds are
    # updated; children that arrived before their parent are linked by the
    # follow-up task, so the request never takes locks out of dedupe-key order.
    needs_parent = [
        written[row["dedupe_key"]][0]
        for row in rows
        if row["parent_key"] and row["parent_id"] is None
    ]
    if needs_parent:
        Finding.objects.filter(pk__in=needs_parent).update(parent_id=_parent_by_key())
    return [
        IngestedFinding(
            index=record.index,
            id=written[record.dedupe_key][0],
            dedupe_key=record.dedupe_key,
            incident_id=by_key[record.dedupe_key].incident_id,
            created=written[record.dedupe_key][1],
        )
        for record in records
    ]


def _write_generic(
    team: Team, rows: list[dict], update_fields: list[str]
) -> dict[str, tuple[int, bool]]:
    """Any database: ``bulk_create(update_conflicts=True)``; dedupe key -> (id, new)."""
    existing = set(
        Finding.objects.filter(
            team=team, dedupe_key__in=[row["dedupe_key"] for row in rows]
        ).values_list("dedupe_key", flat=True)
    )
    objects = [Finding(**row) for row in rows]
    Finding.objects.bulk_create(
        objects,
        update_conflicts=True,
        unique_fields=["team", "dedupe_key"],
        update_fields=update_fields,
    )
    return {obj.dedupe_key: (obj.pk, obj.dedupe_key not in existing) for obj in objects}


def _write_postgresql(rows: list[dict], update_columns: list[str]) -> dict:
    """PostgreSQL: one ``INSERT ... SELECT FROM jsonb_to_recordset(...) ON CONFLICT
    DO UPDATE ... RETURNING``; dedupe key -> (id, new).

    The batch travels as one JSON parameter, encoded by the json module's C code and
    parsed by PostgreSQL, instead of Django adapting every value of every row in
    Python (which dominated the time of a 500-finding batch). ``xmax = 0`` tells
    inserted rows from updated ones, so no query looks for existing rows first.
    """
    table, fields = _finding_columns()
    names = ", ".join(quote(column) for column, _ in fields)
    record = ", ".join(f"{quote(column)} {kind}" for column, kind in fields)
    updates = ", ".join(
        f"{quote(column)} = EXCLUDED.{quote(column)}" for column in update_columns
    )
    sql = (
        f"INSERT INTO {quote(table)} ({names}) "
        f"SELECT {names} FROM jsonb_to_recordset(%s::jsonb) AS r({record}) "
        # Rows lock in dedupe-key order: concurrent batches cannot deadlock.
        f"ORDER BY r.{quote('dedupe_key')} "
        f"ON CONFLICT ({quote('team_id')}, {quote('dedupe_key')}) "
        f"DO UPDATE SET {updates} "
        f"RETURNING {quote('id')}, {quote('dedupe_key')}, (xmax = 0)"
    )
    payload = json.dumps(rows, default=_json_default, separators=(",", ":"))
    with connection.cursor() as cursor:
        cursor.execute(sql, [payload])
        return {key: (pk, inserted) for pk, key, inserted in cursor.fetchall()}


def _json_default(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


@functools.cache
def _finding_columns() -> tuple[str, list[tuple[str, str]]]:
    """The findings table and its (column, SQL type) pairs, from the model."""
    fields = [
        (field.column, field.db_type(connection))
        for field in Finding._meta.concrete_fields
        if not field.primary_key
    ]
    return Finding._meta.db_table, fields


def _parent_by_key() -> Subquery:
    """The id of the finding whose dedupe key is this row's parent_key."""
    return Subquery(
        Finding.objects.filter(
            team_id=OuterRef("team_id"), dedupe_key=OuterRef("parent_key")
        )
        .exclude(pk=OuterRef("pk"))
        .values("pk")[:1]
    )


def _enqueue_follow_up(finding_ids: list[int]) -> None:
    """Timeline, suggestions and matches: recorded with the write, sent on commit."""
    from postmortems.findings import tasks

    if finding_ids:
        outbox.enqueue(tasks.findings_follow_up, finding_ids=finding_ids)


# -- Native findings ----------------------------------------------------------------


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
        rows = Incident.objects.filter(
            external_key__in={key for _, key in wanted_keys}
        ).values_list("external_source", "external_key", "pk", "team_id")
        for source, key, pk, team_id in rows:
            key_incidents[(source, key)] = (pk, team_id)
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

    service_ids = _service_ids_strict({r.service for r in records if r.service})
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
        incident, created = _incident_open(
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

    result.findings = _upsert(
        team=team,
        records=records,
        source=FindingSource.API,
        service_ids=service_ids,
        opened=opened,
        now=now,
        parent_keys=parent_keys,
    )
    _enqueue_follow_up(result.finding_ids)
    return result


# -- Integrations -------------------------------------------------------------------


@transaction.atomic
def alertmanager_ingest(
    *, api_key: ApiKey, group: AlertGroup, now: dt.datetime | None = None
) -> tuple[Incident, IngestResult]:
    """One Alertmanager notification: the group's incident and a finding per alert."""
    now = now or timezone.now()
    team = api_key.team
    firing = [a.started_at for a in group.alerts if a.ended_at is None and a.started_at]
    incident, created = _incident_for_key(
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
    result.findings = _upsert(
        team=team,
        records=group.alerts,
        source=FindingSource.ALERTMANAGER,
        service_ids=_service_ids_lenient(names),
        opened=opened,
        now=now,
    )
    if group.resolved and group.resolved_at:
        _incident_mark_resolved(incident, group.resolved_at)
    _enqueue_follow_up(result.finding_ids)
    return incident, result


@transaction.atomic
def pagerduty_ingest(
    *, api_key: ApiKey, event: PagerDutyEvent, now: dt.datetime | None = None
) -> tuple[Incident, IngestResult]:
    """One PagerDuty event: upsert the incident by ``data.id``, merge status times."""
    now = now or timezone.now()
    team = api_key.team
    incident, created = _incident_for_key(team=team, spec=event.incident)
    record = event.finding
    record.incident_id = incident.pk
    result = IngestResult(incidents_opened=[incident.pk] if created else [])
    result.findings = _upsert(
        team=team,
        records=[record],
        source=FindingSource.PAGERDUTY,
        service_ids=_service_ids_lenient({record.service}),
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
    _enqueue_follow_up(result.finding_ids)
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
        incident, created = _incident_for_key(
            team=team, spec=parsed.incident, recurrence_at=record.started_at
        )
        parent_keys = {}
    record.incident_id = incident.pk
    candidates = set(record.meta.get("service_candidates") or [])
    result = IngestResult(incidents_opened=[incident.pk] if created else [])
    result.findings = _upsert(
        team=team,
        records=[record],
        source=FindingSource.ROBUSTA,
        service_ids=_service_ids_lenient(candidates),
        opened={record.index} if created else set(),
        now=now,
        parent_keys=parent_keys,
    )
    if record.ended_at and incident.external_source == FindingSource.ROBUSTA:
        _incident_mark_resolved(incident, record.ended_at)
    _enqueue_follow_up(result.finding_ids)
    return incident, result


# -- Follow-up work (run by tasks.findings_follow_up) -------------------------------


def findings_follow_up(*, finding_ids: list[int]) -> str:
    """Timeline, service links, suggestions and matches for these findings.

    Idempotent: every write is keyed (timeline dedupe keys, unique suggestions and
    matches), so running it twice changes nothing.
    """
    from postmortems.findings import similarity

    findings = list(
        Finding.objects.filter(pk__in=finding_ids)
        .select_related("incident", "service")
        .order_by("pk")
    )
    if not findings:
        return "no findings (deleted?)"
    findings_link_waiting_children(findings=findings)
    linked = findings_link_services(findings=findings)
    entries = findings_record_timeline(findings=findings)
    suggestions = findings_sync_suggestions(findings=findings)
    matches = similarity.match_past_incidents(findings=findings)
    return (
        f"{len(findings)} findings: {linked} service links, {entries} timeline "
        f"entries, {suggestions} suggestions, {matches} matches"
    )


def findings_link_waiting_children(*, findings: list[Finding]) -> int:
    """Link parents and children that arrived apart (in either order).

    Runs after commit, so of a parent and child written concurrently by two
    requests, the later one's task sees both.
    """
    linked = 0
    orphans = sorted(f.pk for f in findings if f.parent_key and f.parent_id is None)
    if orphans:
        linked += Finding.objects.filter(pk__in=orphans).update(
            parent_id=_parent_by_key()
        )
    keys_by_team: dict[int, list[str]] = {}
    for finding in findings:
        keys_by_team.setdefault(finding.team_id, []).append(finding.dedupe_key)
    for team_id, keys in keys_by_team.items():
        waiting = list(
            Finding.objects.filter(
                team_id=team_id, parent_key__in=keys, parent__isnull=True
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if waiting:
            linked += Finding.objects.filter(pk__in=waiting).update(
                parent_id=_parent_by_key()
            )
    return linked


def findings_link_services(*, findings: list[Finding]) -> int:
    """Add each finding's service to its incident's services."""
    Through = Incident.services.through
    pairs = {(f.incident_id, f.service_id) for f in findings if f.service_id}
    if not pairs:
        return 0
    rows = [Through(incident_id=i, service_id=s) for i, s in sorted(pairs)]
    Through.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _timeline_rows(finding: Finding) -> list[TimelineEntry]:
    rows = []
    meta = finding.meta or {}

    def add(key: str, at, kind: str, text: str, source=TimelineSource.ALERT) -> None:
        if at is None:
            return
        if isinstance(at, str):
            at = dt.datetime.fromisoformat(at)
        rows.append(
            TimelineEntry(
                incident_id=finding.incident_id,
                occurred_at=at,
                kind=kind,
                text=text[:2000],
                source=source,
                dedupe_key=key[:300],
            )
        )

    if finding.source == FindingSource.ALERTMANAGER:
        where = meta.get("instance") or (
            finding.service.name if finding.service else ""
        )
        suffix = f" ({where})" if where else ""
        add(
            f"{finding.dedupe_key}:firing",
            finding.started_at,
            TimelineKind.ALERT,
            f"Alert firing: {finding.title}{suffix}",
        )
        if finding.ended_at:
            add(
                f"{finding.dedupe_key}:resolved",
                finding.ended_at,
                TimelineKind.RECOVERY,
                f"Alert resolved: {finding.title}{suffix}",
            )
    elif finding.source == FindingSource.PAGERDUTY:
        labels = {
            "triggered": (TimelineKind.ALERT, "triggered"),
            "acknowledged": (TimelineKind.ESCALATION, "acknowledged"),
            "resolved": (TimelineKind.RECOVERY, "resolved"),
            "reopened": (TimelineKind.ALERT, "reopened"),
        }
        number = meta.get("number")
        name = f"PagerDuty incident #{number}" if number else "PagerDuty incident"
        for status, (kind, verb) in labels.items():
            entry = (meta.get("status_times") or {}).get(status)
            if entry:
                by = f" by {entry['by']}" if entry.get("by") else ""
                add(
                    f"{finding.dedupe_key}:{status}:{entry['at']}",
                    entry["at"],
                    kind,
                    f"{name} {verb}{by}: {finding.title}",
                )
    elif finding.source == FindingSource.ROBUSTA:
        add(
            f"{finding.dedupe_key}:firing",
            finding.started_at,
            TimelineKind.ALERT,
            f"Robusta: {finding.title}",
        )
        if finding.ended_at:
            add(
                f"{finding.dedupe_key}:resolved",
                finding.ended_at,
                TimelineKind.RECOVERY,
                f"Robusta: {finding.title} ended",
            )
    if finding.opened_incident:
        add(
            f"finding:{finding.pk}:opened",
            finding.first_seen_at,
            TimelineKind.DETECTION,
            f"Opened automatically from {finding.get_source_display()} "
            f"({finding.analyzer}): {finding.title}",
            source=TimelineSource.ALERT
            if finding.source != FindingSource.API
            else TimelineSource.FINDING,
        )
    return rows


def findings_record_timeline(*, findings: list[Finding]) -> int:
    """Timeline entries for alert firing/resolution and for auto-opened incidents."""
    rows = [row for finding in findings for row in _timeline_rows(finding)]
    if rows:
        TimelineEntry.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def suggestion_key(action: dict) -> str:
    basis = "|".join(
        (
            action.get("kind", ""),
            " ".join(action.get("title", "").lower().split()),
            action.get("target", "").strip(),
        )
    )
    return hashlib.sha256(basis.encode()).hexdigest()


def findings_sync_suggestions(*, findings: list[Finding]) -> int:
    """A draft suggestion per suggested action; never a duplicate on re-send."""
    rows = []
    for finding in findings:
        for action in finding.suggested_actions or []:
            rows.append(
                FindingSuggestion(
                    finding_id=finding.pk,
                    dedupe_key=suggestion_key(action),
                    kind=action.get("kind", "other"),
                    title=action.get("title", "")[:200],
                    target=action.get("target", "")[:500],
                    category=action.get("category", "prevention"),
                )
            )
    if rows:
        FindingSuggestion.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# -- People's decisions -------------------------------------------------------------


def finding_add_to_timeline(*, finding: Finding, user) -> TimelineEntry:
    """One click: the finding as a diagnosis entry on its incident's timeline."""
    text = f"{finding.analyzer}: {finding.title}"
    if finding.root_cause:
        text += f". Suspected root cause: {finding.root_cause}"
    entry, _ = TimelineEntry.objects.get_or_create(
        incident_id=finding.incident_id,
        dedupe_key=f"finding:{finding.pk}",
        defaults={
            "occurred_at": finding.started_at or finding.first_seen_at,
            "kind": TimelineKind.DIAGNOSIS,
            "text": text[:2000],
            "author": user,
            "source": TimelineSource.FINDING,
        },
    )
    return entry


def finding_set_verdict(*, finding: Finding, verdict: str, user) -> Finding:
    """A reviewer's verdict on the suspected root cause ("" clears it)."""
    if verdict and verdict not in RootCauseVerdict.values:
        raise ValueError(f"Unknown verdict {verdict!r}.")
    finding.verdict = verdict
    finding.verdict_by = user if verdict else None
    finding.verdict_at = timezone.now() if verdict else None
    finding.save(update_fields=["verdict", "verdict_by", "verdict_at"])
    return finding


def _action_item_create(
    *,
    title: str,
    description: str,
    category: str,
    team: Team,
    postmortem: Postmortem | None,
    created_by,
) -> ActionItem:
    """Create the action item for an accepted suggestion.

    Stand-in for ``actions.services.action_item_create`` until the actions branch is
    merged: switch this one function to it then.
    """
    policy = DuePolicy.objects.filter(priority=Priority.P2).first()
    return ActionItem.objects.create(
        title=title[:200],
        description=description,
        category=category,
        priority=Priority.P2,
        team=team,
        postmortem=postmortem,
        created_by=created_by,
        due_date=timezone.localdate() + dt.timedelta(days=policy.days)
        if policy
        else None,
    )


@transaction.atomic
def finding_suggestion_accept(
    *, suggestion: FindingSuggestion, user, category: str | None = None
) -> ActionItem:
    """Turn a pending suggestion into an action item (once, even on double clicks)."""
    category = category or suggestion.category
    claimed = FindingSuggestion.objects.filter(
        pk=suggestion.pk, status=SuggestionStatus.PENDING
    ).update(
        status=SuggestionStatus.ACCEPTED,
        category=category,
        decided_by=user,
        decided_at=timezone.now(),
    )
    if not claimed:
        raise SuggestionAlreadyDecided("This suggestion was already decided.")
    finding = suggestion.finding
    incident = finding.incident
    target = f"\n\nTarget: `{suggestion.target}`" if suggestion.target else ""
    item = _action_item_create(
        title=suggestion.title,
        description=(
            f"Suggested by analyzer {finding.analyzer} {finding.analyzer_version} "
            f"({suggestion.get_kind_display().lower()}) in the finding "
            f'"{finding.title}" on {incident.reference}.{target}'
        ),
        category=category,
        team=incident.team,
        postmortem=Postmortem.objects.filter(incident=incident).first(),
        created_by=user,
    )
    FindingSuggestion.objects.filter(pk=suggestion.pk).update(action_item=item)
    suggestion.refresh_from_db()
    return item


def finding_suggestion_dismiss(*, suggestion: FindingSuggestion, user) -> None:
    """Dismiss a pending suggestion."""
    claimed = FindingSuggestion.objects.filter(
        pk=suggestion.pk, status=SuggestionStatus.PENDING
    ).update(
        status=SuggestionStatus.DISMISSED, decided_by=user, decided_at=timezone.now()
    )
    if not claimed:
        raise SuggestionAlreadyDecided("This suggestion was already decided.")
