"""What a drafted postmortem says about findings: the facts this app adds to the
draft (registered in ``extensions.draft_fact_providers`` by ``FindingsConfig``)."""

from findings.models import Finding, FindingMatch
from postmortems import drafting, permissions
from postmortems.models import Incident
from postmortems.services.drafting import person


def incident_draft_facts(*, incident: Incident) -> dict[str, list]:
    """The incident's findings, and the open work of similar past incidents."""
    findings = [
        drafting.FindingFact(
            analyzer=finding.analyzer,
            title=finding.title,
            root_cause=finding.root_cause,
            confidence=finding.root_cause_confidence,
            verdict=finding.verdict,
            verdict_by=person(finding.verdict_by),
            evidence=[
                drafting.EvidenceFact(
                    kind=str(item.get("kind") or ""),
                    title=str(item.get("title") or ""),
                    excerpt=str(item.get("excerpt") or ""),
                    url=str(item.get("url") or ""),
                )
                for item in (finding.evidence or [])
                if isinstance(item, dict)
            ],
        )
        for finding in Finding.objects.filter(incident=incident)
        .select_related("verdict_by")
        .order_by("first_seen_at", "pk")
    ]
    # Drafted text outlives the author's access and is read by everyone once the
    # postmortem is approved, so prior work names only past incidents whose own
    # postmortem everyone may read.
    matches = (
        FindingMatch.objects.filter(incident=incident)
        .filter(permissions.public_q("past_incident__postmortem__"))
        .select_related("past_incident", "action_item__owner")
        .order_by("past_incident__started_at", "pk")
    )
    prior_work = []
    seen = set()
    for match in matches:
        item = match.action_item
        if item.pk in seen or not item.is_open:
            continue
        seen.add(item.pk)
        prior_work.append(
            drafting.PriorWorkFact(
                incident_reference=match.past_incident.reference,
                incident_title=match.past_incident.title,
                item_title=item.title,
                category_label=item.get_category_display(),
                status_label=item.get_status_display(),
                owner=person(item.owner),
                due_date=item.due_date,
            )
        )
    return {"findings": findings, "prior_work": prior_work}
