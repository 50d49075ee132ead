"""Insights reads: report rows, class details, similar incidents, runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.db.models import Prefetch
from django.utils import timezone

from actions.models import OPEN_STATUSES, ActionItem
from insights import report
from insights.models import (
    ClassificationSource,
    ClassStatus,
    FailureClass,
    InsightRun,
    PostmortemClassification,
    RunKind,
    RunStatus,
    SimilarPostmortem,
)
from postmortems.metrics import incident_metrics
from postmortems.models import ContributingFactor, Incident, Postmortem
from postmortems.permissions import visible_postmortems


def _float(value) -> float | None:
    return float(value) if value is not None else None


# Until a run records its own threshold, inferred classes count from here on.
FALLBACK_CONFIDENCE_THRESHOLD = 0.5


def confidence_threshold(run: InsightRun | None = None) -> float:
    """The confidence from which an inferred class counts on the report."""
    run = run if run is not None else last_successful_run()
    value = (run.params or {}).get("abstention_threshold") if run else None
    return float(value) if value is not None else FALLBACK_CONFIDENCE_THRESHOLD


def _incident_row(postmortem: Postmortem) -> report.IncidentRow:
    incident = postmortem.incident
    duration = None
    if incident.resolved_at:
        duration = (incident.resolved_at - incident.started_at).total_seconds() / 60
    return report.IncidentRow(
        postmortem_id=postmortem.pk,
        incident_id=incident.pk,
        title=incident.title,
        started_at=incident.started_at,
        severity=incident.severity,
        team=incident.team.name,
        services=tuple(s.name for s in incident.services.all()),
        users_affected=postmortem.impact_users_affected,
        revenue_usd=_float(postmortem.impact_revenue_usd),
        error_budget_pct=_float(postmortem.impact_error_budget_pct),
        duration_minutes=duration,
        near_miss=incident.near_miss,
        durations={m.abbr: m.seconds for m in incident_metrics(incident.lifecycle)},
    )


def report_memberships(postmortem_ids: list[int]) -> list[report.MembershipRow]:
    """Every class membership of these postmortems, confirmed or inferred."""
    return [
        report.MembershipRow(
            postmortem_id=row["postmortem_id"],
            class_slug=row["failure_class__slug"],
            confidence=row["confidence"],
            confirmed=row["source"] == ClassificationSource.CONFIRMED,
        )
        for row in PostmortemClassification.objects.filter(
            postmortem_id__in=postmortem_ids, failure_class__isnull=False
        )
        .order_by("postmortem_id")
        .values("postmortem_id", "failure_class__slug", "confidence", "source")
    ]


def report_data(*, user, now: dt.datetime | None = None) -> report.Report:
    """The insights report over the postmortems ``user`` may read (6 queries)."""
    postmortems = visible_postmortems(
        user,
        Postmortem.objects.select_related("incident__team").prefetch_related(
            "incident__services"
        ),
    ).order_by("pk")
    incidents = [_incident_row(postmortem) for postmortem in postmortems]
    ids = [row.postmortem_id for row in incidents]
    actions = [
        report.ActionRow(
            id=row["id"],
            postmortem_id=row["postmortem_id"],
            title=row["title"],
            status=row["status"],
            completed_at=row["completed_at"],
            priority=row["priority"],
            owner=row["owner__username"] or "",
        )
        for row in ActionItem.objects.filter(postmortem_id__in=ids)
        .order_by("pk")
        .values(
            "id",
            "postmortem_id",
            "title",
            "status",
            "completed_at",
            "priority",
            "owner__username",
        )
    ]
    factors = [
        report.FactorRow(
            postmortem_id=row["postmortem_id"],
            kind=row["kind"],
            description=row["description"],
            team=row["postmortem__incident__team__name"],
            started_at=row["postmortem__incident__started_at"],
        )
        for row in ContributingFactor.objects.filter(postmortem_id__in=ids)
        .order_by("pk")
        .values(
            "postmortem_id",
            "kind",
            "description",
            "postmortem__incident__team__name",
            "postmortem__incident__started_at",
        )
    ]
    classes = [
        report.ClassInfo(slug=c["slug"], name=c["name"], status=c["status"])
        for c in FailureClass.objects.values("slug", "name", "status")
    ]
    return report.build_report(
        incidents=incidents,
        memberships=report_memberships(ids),
        actions=actions,
        factors=factors,
        classes=classes,
        confidence_threshold=confidence_threshold(),
        now=now or timezone.now(),
    )


def failure_class_list() -> list[FailureClass]:
    """Classes people can pick from, accepted first."""
    return list(
        FailureClass.objects.exclude(status=ClassStatus.MERGED).order_by(
            "-status", "name"
        )
    )


def failure_class_detail(*, slug: str) -> FailureClass:
    return FailureClass.objects.select_related("merged_into").get(slug=slug)


def class_postmortems(*, failure_class: FailureClass, user) -> list[Postmortem]:
    """The class's postmortems the user may read, with what the page shows."""
    return list(
        visible_postmortems(
            user,
            Postmortem.objects.filter(classification__failure_class=failure_class)
            .select_related("incident__team", "classification__confirmed_by")
            .prefetch_related(
                "incident__services",
                Prefetch(
                    "action_items",
                    queryset=ActionItem.objects.select_related("owner").order_by(
                        "status", "pk"
                    ),
                ),
            ),
        ).order_by("-incident__started_at", "-pk")
    )


def similar_incidents(*, postmortem_id: int, user=None, limit: int = 5) -> list[dict]:
    """The postmortems most similar to one, with scores and open action items."""
    links = (
        SimilarPostmortem.objects.filter(postmortem_id=postmortem_id)
        .select_related(
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
    visible = None
    if user is not None:
        visible = set(
            visible_postmortems(
                user, Postmortem.objects.filter(pk__in=[x.similar_id for x in links])
            ).values_list("pk", flat=True)
        )
    threshold = None
    found = []
    for link in links:
        if visible is not None and link.similar_id not in visible:
            continue
        classification = getattr(link.similar, "classification", None)
        failure_class = classification.failure_class if classification else None
        membership = None
        if failure_class is not None:
            row = report.MembershipRow(
                postmortem_id=link.similar_id,
                class_slug=failure_class.slug,
                confidence=classification.confidence,
                confirmed=classification.is_confirmed,
            )
            if threshold is None and not row.confirmed:
                threshold = confidence_threshold()
            membership = {
                "confirmed": row.confirmed,
                "confidence": row.confidence,
                "counted": report.membership_counted(row, threshold or 0.0),
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


def classification_of(*, postmortem_id: int) -> PostmortemClassification | None:
    return (
        PostmortemClassification.objects.select_related("failure_class", "confirmed_by")
        .filter(postmortem_id=postmortem_id)
        .first()
    )


def latest_runs(*, limit: int = 5) -> list[InsightRun]:
    return list(InsightRun.objects.filter(kind=RunKind.FULL).order_by("-pk")[:limit])


def last_successful_run() -> InsightRun | None:
    return (
        InsightRun.objects.filter(kind=RunKind.FULL, status=RunStatus.SUCCEEDED)
        .order_by("-finished_at", "-pk")
        .first()
    )


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


def memberships_of(
    postmortem_ids: list[int],
    *,
    class_slug: str | None = None,
    threshold: float | None = None,
) -> list[dict]:
    """Class memberships of these postmortems (no visibility check), marked counted.

    Each is confirmed by a person, or inferred with a confidence; an inferred one
    counts on the report from the run's confidence threshold, which is read only
    when an inferred membership needs it.
    """
    rows = PostmortemClassification.objects.filter(
        postmortem_id__in=postmortem_ids, failure_class__isnull=False
    )
    if class_slug:
        rows = rows.filter(failure_class__slug=class_slug)
    found = list(
        rows.order_by("postmortem_id").values(
            "postmortem_id",
            "failure_class__slug",
            "failure_class__name",
            "confidence",
            "source",
            "confirmed_by__username",
        )
    )
    memberships = []
    for row in found:
        membership = report.MembershipRow(
            postmortem_id=row["postmortem_id"],
            class_slug=row["failure_class__slug"],
            confidence=row["confidence"],
            confirmed=row["source"] == ClassificationSource.CONFIRMED,
        )
        if threshold is None and not membership.confirmed:
            threshold = confidence_threshold()
        memberships.append(
            {
                "postmortem": membership.postmortem_id,
                "failure_class": membership.class_slug,
                "class_name": row["failure_class__name"],
                "confirmed": membership.confirmed,
                "confirmed_by": row["confirmed_by__username"] or "",
                "confidence": round(membership.confidence, 4),
                "counted": report.membership_counted(membership, threshold or 0.0),
                "threshold": threshold,
                "evidence": membership.evidence,
                "statement_kind": membership.statement_kind,
            }
        )
    return memberships


def class_memberships(
    *, user, postmortem_ids: list[int] | None = None, class_slug: str | None = None
) -> list[dict]:
    """``memberships_of`` the postmortems ``user`` may read."""
    visible = visible_postmortems(user, Postmortem.objects.all())
    if postmortem_ids is not None:
        visible = visible.filter(pk__in=postmortem_ids)
    return memberships_of(
        list(visible.values_list("pk", flat=True)),
        class_slug=class_slug,
        threshold=confidence_threshold(),
    )
