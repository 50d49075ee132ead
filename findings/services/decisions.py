"""What people decide about findings: timeline, verdicts, suggestions."""

from django.db import transaction
from django.utils import timezone

from actions.models import ActionItem
from actions.services import action_item_create
from findings.models import (
    Finding,
    FindingSuggestion,
    RootCauseVerdict,
    SuggestionStatus,
)
from findings.services.reread import incident_postmortems_reread
from postmortems.models import Postmortem, TimelineEntry, TimelineKind, TimelineSource


class SuggestionAlreadyDecided(Exception):
    pass


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


@transaction.atomic
def finding_set_verdict(*, finding: Finding, verdict: str, user) -> Finding:
    """A reviewer's verdict on the suspected root cause ("" clears it).

    A confirmed root cause is part of what the incident's postmortem says
    (insights reads it), so the postmortem is re-read when one is confirmed or
    no longer is."""
    if verdict and verdict not in RootCauseVerdict.values:
        raise ValueError(f"Unknown verdict {verdict!r}.")
    finding.verdict = verdict
    finding.verdict_by = user if verdict else None
    finding.verdict_at = timezone.now() if verdict else None
    finding.save(update_fields=["verdict", "verdict_by", "verdict_at"])
    incident_postmortems_reread(incident_ids=[finding.incident_id])
    return finding


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
    item = action_item_create(
        title=suggestion.title[:200],
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
