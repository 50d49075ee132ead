"""Which past incidents a new finding resembles, and their still-open action items.

"This looks like INC-42; its prevention item is still open." Until the insights
issue lands, a past incident matches when it involved the same service and heard
from the same analyzer. ``match_past_incidents`` is the one function to switch to
root-cause similarity then; everything else reads the FindingMatch rows it writes.
"""

from actions.models import OPEN_STATUSES, ActionItem
from postmortems.models import Finding, FindingMatch, Incident

# Enough to be useful on the incident page without burying it.
MAX_MATCHES_PER_FINDING = 5


def match_past_incidents(*, findings: list[Finding]) -> int:
    """Record FindingMatch rows for ``findings``; idempotent. Returns rows offered."""
    # One query per (incident, service, analyzer), however many findings share it.
    groups: dict[tuple[int, int, str], Finding] = {}
    for finding in findings:
        if finding.service_id:
            groups.setdefault(
                (finding.incident_id, finding.service_id, finding.analyzer), finding
            )
    rows = []
    for (incident_id, service_id, analyzer), finding in groups.items():
        past = (
            Incident.objects.filter(
                services=service_id,
                findings__analyzer=analyzer,
                started_at__lt=finding.incident.started_at,
            )
            .exclude(pk=incident_id)
            .values("pk")
        )
        items = (
            ActionItem.objects.filter(
                postmortem__incident__in=past, status__in=OPEN_STATUSES
            )
            .select_related("postmortem")
            .order_by("-postmortem__incident__started_at", "pk")[
                :MAX_MATCHES_PER_FINDING
            ]
        )
        service_name = finding.service.name if finding.service else "the service"
        for item in items:
            rows.append(
                FindingMatch(
                    incident_id=incident_id,
                    finding=finding,
                    past_incident_id=item.postmortem.incident_id,
                    action_item=item,
                    reason=f"Same service ({service_name}) and analyzer ({analyzer})",
                )
            )
    if rows:
        FindingMatch.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
