"""The steps of a finding's follow-up, run by ``findings.follow_up`` (which
decides when) and by the demo loader.

Idempotent: every write is keyed (timeline dedupe keys, unique suggestions and
matches), so running it twice changes nothing.
"""

import datetime as dt
import hashlib

from django.db import transaction

from findings.models import Finding, FindingSource, FindingSuggestion, RootCauseVerdict
from findings.services.reread import incident_postmortems_reread
from findings.services.upsert import lock_in_write_order, parent_by_key
from postmortems.models import Incident, TimelineEntry, TimelineKind, TimelineSource


def findings_link_waiting_children(*, findings: list[Finding]) -> int:
    """Link parents and children that arrived apart (in either order).

    Runs after commit, so of a parent and child written concurrently by two
    requests, the later one's task sees both.
    """
    orphans = [f.pk for f in findings if f.parent_key and f.parent_id is None]
    linked = _link_parents(orphans)
    keys_by_team: dict[int, list[str]] = {}
    for finding in findings:
        keys_by_team.setdefault(finding.team_id, []).append(finding.dedupe_key)
    for team_id, keys in keys_by_team.items():
        waiting = list(
            Finding.objects.filter(
                team_id=team_id, parent_key__in=keys, parent__isnull=True
            ).values_list("pk", flat=True)
        )
        linked += _link_parents(waiting)
    return linked


def _link_parents(ids: list[int]) -> int:
    """Set the parent of these findings from their parent_key, where it exists."""
    if not ids:
        return 0
    with transaction.atomic():
        locked = lock_in_write_order(pk__in=ids)
        return Finding.objects.filter(pk__in=locked).update(parent_id=parent_by_key())


def findings_reread_postmortems(*, findings: list[Finding]) -> int:
    """Tell the core that the postmortems of incidents with one of these
    findings confirmed may say something new: a re-sent finding keeps its
    verdict but may bring another root cause, which insights reads. Returns how
    many postmortems were told (each re-read only if its text changed)."""
    confirmed = RootCauseVerdict.CONFIRMED
    return incident_postmortems_reread(
        incident_ids={f.incident_id for f in findings if f.verdict == confirmed}
    )


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
