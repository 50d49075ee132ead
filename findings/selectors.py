"""Reads for findings: the incident page partial, the API list, the scorecards."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import BooleanField, ExpressionWrapper, Prefetch, Q, QuerySet

from findings.models import (
    Finding,
    FindingMatch,
    FindingSuggestion,
    RootCauseVerdict,
)
from findings.permissions import can_act_on_findings, can_review_findings
from findings.scorecards import FindingFact, Scorecard, compute_scorecards
from postmortems.models import Incident, TimelineEntry

# Deeper chains are shown flat beyond this depth (and cycles are broken).
MAX_TREE_DEPTH = 12


@dataclass
class FindingNode:
    finding: Finding
    depth: int
    on_timeline: bool
    children: list["FindingNode"] = field(default_factory=list)


@dataclass
class PastIncidentMatch:
    incident: Incident
    reason: str
    items: list = field(default_factory=list)


def _tree(findings: list[Finding], on_timeline: set[int]) -> list[FindingNode]:
    by_id = {f.pk: f for f in findings}
    children: dict[int, list[Finding]] = {}
    roots = []
    for finding in findings:
        if finding.parent_id in by_id and finding.parent_id != finding.pk:
            children.setdefault(finding.parent_id, []).append(finding)
        else:
            roots.append(finding)
    placed: set[int] = set()

    def build(finding: Finding, depth: int) -> FindingNode:
        placed.add(finding.pk)
        node = FindingNode(
            finding=finding, depth=depth, on_timeline=finding.pk in on_timeline
        )
        for child in children.get(finding.pk, []):
            if child.pk in placed:
                continue
            if depth + 1 >= MAX_TREE_DEPTH:
                continue  # placed at the top level below
            node.children.append(build(child, depth + 1))
        return node

    nodes = [build(root, 0) for root in roots]
    # Whatever is left sits in a parent cycle or below the depth limit.
    for finding in findings:
        if finding.pk not in placed:
            nodes.append(build(finding, 0))
    return nodes


def incident_findings_context(*, user, incident: Incident) -> dict:
    """Everything ``findings/_finding_section.html`` shows, in a few queries."""
    findings = list(
        Finding.objects.visible_to(user)
        .filter(incident=incident)
        .select_related("service", "verdict_by", "parent", "parent__incident")
        .prefetch_related(
            Prefetch(
                "suggestions",
                queryset=FindingSuggestion.objects.select_related(
                    "action_item", "decided_by"
                ),
            )
        )
        .order_by("first_seen_at", "pk")
    )
    on_timeline = set()
    if findings:
        keys = TimelineEntry.objects.filter(
            incident=incident, dedupe_key__startswith="finding:"
        ).values_list("dedupe_key", flat=True)
        for key in keys:
            parts = key.split(":")
            if len(parts) == 2 and parts[1].isdigit():
                on_timeline.add(int(parts[1]))

    matches = (
        FindingMatch.objects.visible_to(user)
        .filter(incident=incident)
        .select_related("past_incident", "action_item")
    )
    grouped: dict[int, PastIncidentMatch] = {}
    seen_items = set()
    for match in matches:
        item = match.action_item
        if item.pk in seen_items:
            continue
        seen_items.add(item.pk)
        entry = grouped.setdefault(
            match.past_incident_id,
            PastIncidentMatch(incident=match.past_incident, reason=match.reason),
        )
        entry.items.append(item)
    return {
        "incident": incident,
        "finding_tree": _tree(findings, on_timeline),
        "finding_count": len(findings),
        "past_incident_matches": sorted(
            grouped.values(), key=lambda m: m.incident.started_at, reverse=True
        ),
        "can_act_on_findings": can_act_on_findings(user, incident),
        "can_review_findings": can_review_findings(user, incident),
        "verdict_choices": RootCauseVerdict.choices,
    }


def finding_list(*, user) -> QuerySet[Finding]:
    """Findings for the API, as ``user`` (a person or an API key) may read them."""
    return (
        Finding.objects.visible_to(user)
        .select_related("service", "incident")
        .order_by("-first_seen_at", "-pk")
    )


def finding_detail(*, user, pk: int) -> Finding:
    return (
        Finding.objects.visible_to(user)
        .select_related(
            "incident", "incident__team", "service", "parent", "verdict_by", "team"
        )
        .prefetch_related("children", "suggestions")
        .get(pk=pk)
    )


def analyzer_scorecards() -> list[Scorecard]:
    """Scorecards over every finding (one streamed query; the maths is pure)."""
    rows = (
        Finding.objects.annotate(
            has_root_cause=ExpressionWrapper(
                ~Q(root_cause=""), output_field=BooleanField()
            )
        )
        .values_list(
            "analyzer",
            "analyzer_version",
            "incident_id",
            "has_root_cause",
            "verdict",
            "first_seen_at",
            "incident__detected_at",
        )
        .order_by()
    )
    return compute_scorecards(
        FindingFact(
            analyzer=analyzer,
            version=version,
            incident_id=incident_id,
            has_root_cause=bool(has_root_cause),
            verdict=verdict,
            first_seen_at=first_seen_at,
            detected_at=detected_at,
        )
        for (
            analyzer,
            version,
            incident_id,
            has_root_cause,
            verdict,
            first_seen_at,
            detected_at,
        ) in rows.iterator(chunk_size=5000)
    )


def confirmed_root_causes(
    *, postmortem_ids: Sequence[int] | None = None
) -> list[tuple[int, str]]:
    """(postmortem id, root cause) of the confirmed findings of each postmortem's
    incident, by incident and finding: text insights reads (its text_sources)."""
    findings = (
        Finding.objects.filter(verdict=RootCauseVerdict.CONFIRMED)
        .exclude(root_cause="")
        .exclude(incident__postmortem=None)
        .order_by("incident_id", "pk")
    )
    if postmortem_ids is not None:
        findings = findings.filter(incident__postmortem__in=postmortem_ids)
    return list(findings.values_list("incident__postmortem", "root_cause"))
