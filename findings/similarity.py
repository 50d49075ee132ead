"""Which past incidents a new finding resembles, and their still-open action items.

"This looks like INC-42; its prevention item is still open." A finding's suspected
root cause (or, without one, its title and summary) is embedded with the insights
embedder and compared by cosine similarity with the cached vectors of past
postmortems (their root cause, trigger and contributing factors, as insights
reads them). Only postmortems of incidents that started before the finding's
incident, and that still have open action items, can match.

Until insights has stored any vector for the current model, a past incident
matches when it involved the same service and heard from the same analyzer, and
the reason says so. ``match_past_incidents`` is the one function that matches;
the incident page reads the FindingMatch rows it writes.
"""

import logging
from typing import TYPE_CHECKING

from django.conf import settings

from actions.models import OPEN_STATUSES, ActionItem, Category
from findings.models import Finding, FindingMatch
from postmortems.models import Incident

if TYPE_CHECKING:
    from insights.selectors import PastVectors

logger = logging.getLogger(__name__)

# Enough to be useful on the incident page without burying it.
MAX_MATCHES_PER_FINDING = 5
# Past incidents considered per finding (each brings its open items, prevention
# first, until MAX_MATCHES_PER_FINDING).
MAX_PAST_INCIDENTS_PER_FINDING = 3
# Cosine similarity a past postmortem needs to match: a short finding root cause
# against a postmortem's root cause + trigger + factors. Measured with
# all-MiniLM-L6-v2 on the demo (26 findings x 44 other postmortems): pairs of
# different failure classes have median 0.22, 99th percentile 0.48, none reach
# 0.55; 9 of 1,144 pairs reach 0.5, about half of them genuinely the same failure.
# Lower and the page fills with noise; higher and nothing matches. A
# KB_FINDING_MATCH_THRESHOLD setting overrides it.
MATCH_THRESHOLD = 0.5
# Among matches, the same service ranks a little higher (ranking only: the
# threshold and the reported score are the plain similarity).
SAME_SERVICE_BOOST = 0.05


class PastIncidents:
    """The past incidents' vectors, read at most once per follow-up run.

    The matrix holds every past postmortem with open items, so one incident's
    follow-up (its chunks, and the findings retried one by one) reads it once and
    passes this down; it is read only when a finding gets as far as needing it.
    """

    def __init__(self) -> None:
        self._vectors: dict[str, PastVectors] = {}

    def vectors(self, *, model_name: str) -> "PastVectors":
        """The vectors for this model, read on first use."""
        from insights.selectors import past_vectors_with_open_items

        if model_name not in self._vectors:
            self._vectors[model_name] = past_vectors_with_open_items(
                model_name=model_name
            )
        return self._vectors[model_name]


def match_past_incidents(
    *, findings: list[Finding], past: PastIncidents | None = None
) -> int:
    """Record FindingMatch rows for ``findings``; idempotent. Returns rows offered.

    ``past``: the vectors already read by this follow-up run, if any.
    """
    from insights.selectors import postmortem_vectors_exist
    from insights.services.inputs import get_embedder

    if not findings:
        return 0
    embedder = get_embedder()
    if postmortem_vectors_exist(model_name=embedder.model_name):
        rows = _match_on_similarity(
            findings=findings, embedder=embedder, past=past or PastIncidents()
        )
    else:
        rows = _match_on_service_and_analyzer(findings=findings)
    if rows:
        FindingMatch.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def finding_text(finding: Finding) -> str:
    """What a finding says about the cause: its root cause, else title + summary."""
    root_cause = (finding.root_cause or "").strip()
    if root_cause:
        return root_cause
    return "\n\n".join(p for p in (finding.title, finding.summary) if p).strip()


def _open_items(incident_ids: list[int]) -> dict[int, list[ActionItem]]:
    """Open action items per incident, prevention first, then oldest first."""
    items: dict[int, list[ActionItem]] = {}
    query = (
        ActionItem.objects.filter(
            postmortem__incident__in=incident_ids, status__in=OPEN_STATUSES
        )
        .select_related("postmortem")
        .order_by("pk")
    )
    for item in query:
        items.setdefault(item.postmortem.incident_id, []).append(item)
    for group in items.values():
        group.sort(key=lambda item: item.category != Category.PREVENTION)
    return items


def _match_on_similarity(
    *, findings: list[Finding], embedder, past: PastIncidents
) -> list[FindingMatch]:
    import numpy as np

    from insights.topk import top_k

    threshold = getattr(settings, "KB_FINDING_MATCH_THRESHOLD", MATCH_THRESHOLD)
    texts = [finding_text(f) for f in findings]
    candidates = [f for f, text in zip(findings, texts, strict=True) if text]
    if not candidates:
        return []
    past = past.vectors(model_name=embedder.model_name)
    if not past.incident_ids:
        return []
    vectors = embedder.encode([text for text in texts if text])
    started = np.array([s.timestamp() for s in past.started_at])
    past_ids = np.array(past.incident_ids)
    # Only incidents that started before the finding's, never its own.
    allowed = np.vstack(
        [
            (started < f.incident.started_at.timestamp()) & (past_ids != f.incident_id)
            for f in candidates
        ]
    )
    # Take a few extra so the same-service boost can reorder the best ones.
    found = top_k(
        vectors,
        past.matrix,
        k=MAX_PAST_INCIDENTS_PER_FINDING * 2,
        threshold=threshold,
        allowed=allowed,
    )
    chosen: list[tuple[Finding, list[tuple[int, float]]]] = []
    for finding, hits in zip(candidates, found, strict=True):
        same = [finding.service_id in past.service_ids[i] for i, _ in hits]
        ranked = [
            hit
            for _, hit in sorted(
                zip(same, hits, strict=True),
                key=lambda pair: -(pair[1][1] + SAME_SERVICE_BOOST * pair[0]),
            )
        ][:MAX_PAST_INCIDENTS_PER_FINDING]
        chosen.append((finding, [(past.incident_ids[i], s) for i, s in ranked]))
    items = _open_items(sorted({i for _, hits in chosen for i, _ in hits}))
    rows = []
    for finding, hits in chosen:
        picked: list[FindingMatch] = []
        for incident_id, score in hits:
            for item in items.get(incident_id, []):
                if len(picked) == MAX_MATCHES_PER_FINDING:
                    break
                picked.append(
                    FindingMatch(
                        incident_id=finding.incident_id,
                        finding=finding,
                        past_incident_id=incident_id,
                        action_item=item,
                        reason=(
                            f"Root cause {score:.2f} similar to "
                            f"{Incident(pk=incident_id).reference}"
                        ),
                    )
                )
        rows.extend(picked)
    return rows


def _match_on_service_and_analyzer(*, findings: list[Finding]) -> list[FindingMatch]:
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
        reason = (
            f"Same service ({service_name}) and analyzer ({analyzer}); "
            "no root-cause vectors yet (insights has not run)"
        )
        for item in items:
            rows.append(
                FindingMatch(
                    incident_id=incident_id,
                    finding=finding,
                    past_incident_id=item.postmortem.incident_id,
                    action_item=item,
                    reason=reason[:200],
                )
            )
    return rows
