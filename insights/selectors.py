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
    ClassStatus,
    FailureClass,
    InsightRun,
    PostmortemClassification,
    RunKind,
    RunStatus,
    SimilarPostmortem,
)
from postmortems.models import ContributingFactor, Incident, Postmortem
from postmortems.permissions import visible_postmortems
from trackers.sync import counts_as_done


def _float(value) -> float | None:
    return float(value) if value is not None else None


def report_data(*, user, now: dt.datetime | None = None) -> report.Report:
    """The insights report over the postmortems ``user`` may read (5 queries)."""
    postmortems = visible_postmortems(
        user,
        Postmortem.objects.select_related(
            "incident__team", "classification__failure_class"
        ).prefetch_related("incident__services"),
    ).order_by("pk")
    incidents = []
    for postmortem in postmortems:
        incident = postmortem.incident
        classification = getattr(postmortem, "classification", None)
        failure_class = classification.failure_class if classification else None
        duration = None
        if incident.resolved_at:
            duration = (incident.resolved_at - incident.started_at).total_seconds() / 60
        incidents.append(
            report.IncidentRow(
                postmortem_id=postmortem.pk,
                incident_id=incident.pk,
                title=incident.title,
                started_at=incident.started_at,
                severity=incident.severity,
                team=incident.team.name,
                services=tuple(s.name for s in incident.services.all()),
                class_slug=failure_class.slug if failure_class else None,
                users_affected=postmortem.impact_users_affected,
                revenue_usd=_float(postmortem.impact_revenue_usd),
                error_budget_pct=_float(postmortem.impact_error_budget_pct),
                duration_minutes=duration,
                class_confirmed=bool(classification and classification.is_confirmed),
            )
        )
    ids = [row.postmortem_id for row in incidents]
    actions = [
        report.ActionRow(
            id=row["id"],
            postmortem_id=row["postmortem_id"],
            title=row["title"],
            # A fix linked to an issue is done only when its tracker says so.
            status=row["status"]
            if row["status"] != "done"
            or counts_as_done(
                item_status="done", remote_status=row["tracker_link__remote_status"]
            )
            else "done (not in tracker)",
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
            "tracker_link__remote_status",
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
        actions=actions,
        factors=factors,
        classes=classes,
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
    return [
        {
            "postmortem": link.similar,
            "incident": link.similar.incident,
            "score": link.score,
            "failure_class": getattr(
                getattr(link.similar, "classification", None), "failure_class", None
            ),
            "open_action_items": link.similar.open_action_items,
        }
        for link in links
        if visible is None or link.similar_id in visible
    ]


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
