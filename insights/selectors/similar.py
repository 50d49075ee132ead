"""Similar incidents, and the stored vectors of past ones."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.db.models import Prefetch

from actions.models import OPEN_STATUSES, ActionItem
from insights import report
from insights.models import PostmortemClassification, SimilarPostmortem
from insights.selectors.memberships import CALIBRATED_SOURCES
from insights.selectors.runs import confidence_threshold
from postmortems.models import Incident, Postmortem


def similar_incidents(*, postmortem_id: int, user, limit: int = 5) -> list[dict]:
    """The ``limit`` postmortems most similar to one that ``user`` may read, with
    scores and open action items."""
    links = SimilarPostmortem.objects.filter(
        postmortem_id=postmortem_id, similar__in=Postmortem.objects.visible_to(user)
    )
    links = (
        links.select_related(
            "similar__incident__team", "similar__classification__failure_class"
        )
        .prefetch_related(
            Prefetch(
                "similar__action_items",
                queryset=ActionItem.objects.filter(status__in=OPEN_STATUSES)
                .select_related("owner")
                .order_by("priority", "pk"),
                to_attr="open_action_items",
            )
        )
        .order_by("rank")[:limit]
    )
    threshold = None
    found = []
    for link in links:
        classification = getattr(link.similar, "classification", None)
        failure_class = classification.failure_class if classification else None
        membership = None
        if failure_class is not None:
            row = report.MembershipRow(
                postmortem_id=link.similar_id,
                class_slug=failure_class.slug,
                confidence=classification.confidence,
                confirmed=classification.is_confirmed,
                calibrated=classification.source in CALIBRATED_SOURCES,
            )
            if threshold is None and not row.confirmed:
                threshold = confidence_threshold()
            membership = {
                "confirmed": row.confirmed,
                "confidence": row.confidence,
                "counted": report.membership_counted(row, threshold or 0.0),
                "calibrated": row.calibrated,
                "kind_validated": row.kind_validated,
                "threshold": threshold,
            }
        found.append(
            {
                "postmortem": link.similar,
                "incident": link.similar.incident,
                "score": link.score,
                "failure_class": failure_class,
                "membership": membership,
                "open_action_items": link.similar.open_action_items,
            }
        )
    return found


@dataclass(frozen=True)
class PastVectors:
    """Cached root-cause vectors of postmortems with open action items."""

    incident_ids: list[int]
    started_at: list[dt.datetime]
    service_ids: list[frozenset[int]]
    matrix: np.ndarray


def postmortem_vectors_exist(*, model_name: str) -> bool:
    """Whether insights has stored any postmortem vector for this model."""
    return PostmortemClassification.objects.filter(
        embedding__model_name=model_name
    ).exists()


def past_vectors_with_open_items(*, model_name: str) -> PastVectors:
    """Every postmortem vector (this model) whose postmortem has open items."""
    open_postmortems = ActionItem.objects.filter(
        status__in=OPEN_STATUSES, postmortem__isnull=False
    ).values("postmortem_id")
    rows = list(
        PostmortemClassification.objects.filter(
            embedding__model_name=model_name, postmortem__in=open_postmortems
        )
        .order_by("postmortem_id")
        .values_list(
            "postmortem__incident_id",
            "postmortem__incident__started_at",
            "embedding__vector",
        )
    )
    incident_ids = [row[0] for row in rows]
    services: dict[int, set[int]] = {}
    for incident_id, service_id in Incident.services.through.objects.filter(
        incident_id__in=incident_ids
    ).values_list("incident_id", "service_id"):
        services.setdefault(incident_id, set()).add(service_id)
    matrix = (
        np.vstack([np.frombuffer(bytes(row[2]), dtype=np.float32) for row in rows])
        if rows
        else np.zeros((0, 0), dtype=np.float32)
    )
    return PastVectors(
        incident_ids=incident_ids,
        started_at=[row[1] for row in rows],
        service_ids=[frozenset(services.get(i, ())) for i in incident_ids],
        matrix=matrix,
    )
