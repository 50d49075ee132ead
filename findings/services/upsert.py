"""Writing findings: incidents by outside key, and the one-statement upsert.

Upserts rely on the unique constraint (team, dedupe_key) and ``INSERT ... ON
CONFLICT DO UPDATE``, which PostgreSQL and SQLite both apply atomically, so
concurrent retries of the same finding never make a second row. Rows are written in
dedupe-key order so that two batches touching the same findings lock them in the
same order and cannot deadlock.
"""

import datetime as dt
import functools
import json
import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery

from findings.models import Finding, RootCauseVerdict
from findings.records import (
    FindingRecord,
    IncidentSpec,
)
from findings.services.reread import incident_postmortems_reread
from postmortems.models import Incident, IncidentStatus, Team

logger = logging.getLogger(__name__)

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
    "follow_up_due",
]


# How long a finding's follow-up may take (queue wait included) before the relay
# sends it again (``findings.dispatch``).
RESEND_AFTER = dt.timedelta(minutes=5)


def follow_up_deadline(now: dt.datetime) -> dt.datetime:
    """The ``follow_up_due`` that a write made at ``now`` stores."""
    return now + RESEND_AFTER


class ForeignTeam(Exception):
    """The request touches another team's incident (403)."""


class AutoIncidentsDisabled(Exception):
    """An unknown key, and the team does not let machines open incidents (422)."""


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

    @property
    def incident_ids(self) -> set[int]:
        return {f.incident_id for f in self.findings}


def incident_open(*, team: Team, spec: IncidentSpec) -> tuple[Incident, bool]:
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


def incident_for_key(
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
    return incident_open(team=team, spec=spec)


def incident_mark_resolved(incident: Incident, resolved_at: dt.datetime) -> bool:
    """Set the resolved time if it is still unset; True if it changed."""
    if incident.resolved_at is not None:
        return False
    incident.resolved_at = resolved_at
    incident.status = IncidentStatus.RESOLVED
    incident._history_user = None
    incident.save(update_fields=["resolved_at", "status", "updated_at"])
    return True


def incidents_by_key(keys: set[str]) -> dict[tuple[str, str], tuple[int, int]]:
    """``(source, external key) -> (incident id, team id)`` for these keys.

    One plain statement: it runs for every finding posted, and building it with the
    ORM took more CPU than running it.
    """
    if not keys:
        return {}
    meta = Incident._meta
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(meta.get_field(name).column)
        for name in ("external_source", "external_key", "id", "team")
    )
    key_column = quote(meta.get_field("external_key").column)
    placeholders = ", ".join(["%s"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {quote(meta.db_table)} "
            f"WHERE {key_column} IN ({placeholders})",
            list(keys),
        )
        return {(source, key): (pk, team) for source, key, pk, team in cursor}


def upsert_findings(
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
    """Insert or update ``records`` (incident ids already set) in one statement.

    A confirmed finding re-sent under another incident takes its root cause
    away from the old incident's postmortem, which is told (the new one is
    told by the follow-up, as for every re-sent confirmed finding)."""
    by_key: dict[str, FindingRecord] = {}
    for record in records:
        by_key[record.dedupe_key] = record  # the last copy of a key wins
    moved_from = [
        incident_id
        for key, incident_id in Finding.objects.filter(
            team=team, dedupe_key__in=list(by_key), verdict=RootCauseVerdict.CONFIRMED
        ).values_list("dedupe_key", "incident_id")
        if incident_id != by_key[key].incident_id
    ]
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
                "follow_up_due": follow_up_deadline(now),
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
        Finding.objects.filter(pk__in=needs_parent).update(parent_id=parent_by_key())
    if moved_from:
        incident_postmortems_reread(incident_ids=moved_from)
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
    payload = json.dumps(rows, default=_json_default, separators=(",", ":"))
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(tuple(update_columns)), [payload])
        return {key: (pk, inserted) for pk, key, inserted in cursor.fetchall()}


def _json_default(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


@functools.cache
def _upsert_sql(update_columns: tuple[str, ...]) -> str:
    """The upsert statement, built once per process from the model's columns."""
    quote = connection.ops.quote_name
    fields = [
        (field.column, field.db_type(connection))
        for field in Finding._meta.concrete_fields
        if not field.primary_key
    ]
    names = ", ".join(quote(column) for column, _ in fields)
    record = ", ".join(f"{quote(column)} {kind}" for column, kind in fields)
    updates = ", ".join(
        f"{quote(column)} = EXCLUDED.{quote(column)}" for column in update_columns
    )
    return (
        f"INSERT INTO {quote(Finding._meta.db_table)} ({names}) "
        f"SELECT {names} FROM jsonb_to_recordset(%s::jsonb) AS r({record}) "
        # Rows lock in dedupe-key order: concurrent batches cannot deadlock.
        f"ORDER BY r.{quote('dedupe_key')} "
        f"ON CONFLICT ({quote('team_id')}, {quote('dedupe_key')}) "
        f"DO UPDATE SET {updates} "
        f"RETURNING {quote('id')}, {quote('dedupe_key')}, (xmax = 0)"
    )


def lock_in_write_order(**condition) -> list[int]:
    """Lock the findings that match ``condition``; returns their ids.

    Call inside a transaction before updating several findings. The rows are
    locked in the upsert's order (team, dedupe key), so the update cannot deadlock
    with a concurrent upsert. The lock is FOR NO KEY UPDATE, which leaves alone the
    key-share lock that a committing upsert takes on a child's parent row (Django's
    foreign keys are checked at commit).
    """
    return list(
        Finding.objects.filter(**condition)
        .order_by("team_id", "dedupe_key")
        .select_for_update(no_key=True)
        .values_list("pk", flat=True)
    )


def parent_by_key() -> Subquery:
    """The id of the finding whose dedupe key is this row's parent_key."""
    return Subquery(
        Finding.objects.filter(
            team_id=OuterRef("team_id"), dedupe_key=OuterRef("parent_key")
        )
        .exclude(pk=OuterRef("pk"))
        .values("pk")[:1]
    )
