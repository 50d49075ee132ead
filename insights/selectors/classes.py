"""Failure classes: the list, one class, its page's postmortems and evidence."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch

from actions.models import ActionItem
from insights.models import (
    CauseStatement,
    ClassificationSource,
    ClassStatus,
    FailureClass,
)
from postmortems.models import Postmortem


def failure_class_list() -> list[FailureClass]:
    """Classes people can pick from, accepted first."""
    return list(
        FailureClass.objects.exclude(status=ClassStatus.MERGED).order_by(
            "-status", "name"
        )
    )


def failure_class_detail(*, slug: str) -> FailureClass:
    return FailureClass.objects.select_related("merged_into").get(slug=slug)


def postmortems_for_page(*, postmortem_ids: list[int], user) -> dict[int, Postmortem]:
    """These postmortems, those ``user`` may read, with what the class page shows."""
    return {
        postmortem.pk: postmortem
        for postmortem in Postmortem.objects.visible_to(user)
        .filter(pk__in=postmortem_ids)
        .select_related("incident__team")
        .prefetch_related(
            "incident__services",
            Prefetch(
                "action_items",
                queryset=ActionItem.objects.select_related("owner").order_by(
                    "status", "pk"
                ),
            ),
        )
    }


@dataclass(frozen=True)
class Evidence:
    """A statement that puts a postmortem in a class."""

    postmortem_id: int
    incident_id: int
    title: str
    started_at: dt.datetime
    statement_kind: str
    statement_key: str
    text: str
    confidence: float
    confirmed: bool


def class_evidence(failure_class: FailureClass, *, user=None) -> list[Evidence]:
    """The statements that put postmortems in ``failure_class`` (1 query).

    Confirmed first, then by confidence and the incident's start (newest
    first). With ``user``, only postmortems that user may read.
    """
    postmortems = Postmortem.objects.all()
    if user is not None:
        postmortems = postmortems.visible_to(user)
    rows = (
        CauseStatement.objects.filter(
            failure_class=failure_class, postmortem__in=postmortems
        )
        .values(
            "postmortem_id",
            "postmortem__incident_id",
            "postmortem__incident__title",
            "postmortem__incident__started_at",
            "kind",
            "key",
            "text",
            "confidence",
            "source",
        )
        .order_by("pk")
    )
    evidence = [
        Evidence(
            postmortem_id=r["postmortem_id"],
            incident_id=r["postmortem__incident_id"],
            title=r["postmortem__incident__title"],
            started_at=r["postmortem__incident__started_at"],
            statement_kind=r["kind"],
            statement_key=r["key"],
            text=r["text"],
            confidence=float(r["confidence"]),
            confirmed=r["source"] == ClassificationSource.CONFIRMED,
        )
        for r in rows
    ]
    return sorted(
        evidence,
        key=lambda e: (not e.confirmed, -e.confidence, -e.started_at.timestamp()),
    )
