"""Confirmations: what to confirm next, and what past confirmations changed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from insights.models import (
    CauseStatement,
    ClassificationSource,
    ConfirmationEffect,
    FailureClass,
    StatementKind,
)
from postmortems.models import Postmortem


@dataclass(frozen=True)
class ConfirmCandidate:
    """A postmortem worth confirming next, through its most uncertain statement.

    ``best_guess`` and ``runner_up`` are (slug, name) pairs or None: the two
    classes the classifier hesitates between. ``teach_score`` is uncertainty
    weighted by how many uncertain statements sit close to this one (see
    :func:`insights.classifier.teach_scores`): higher teaches more.
    """

    postmortem_id: int
    incident_id: int
    title: str
    statement_kind: str
    statement_key: str
    text: str
    best_guess: tuple[str, str] | None
    runner_up: tuple[str, str] | None
    confidence: float
    margin: float
    teach_score: float


def confirm_next(
    failure_class: FailureClass | None = None, limit: int = 10, *, user
) -> list[ConfirmCandidate]:
    """The postmortems whose confirmation would teach the classifier most.

    Uncertain statements whose answer would settle the most other uncertain
    statements come first (the last full run's ``teach_score``); one entry per
    postmortem, its best-scoring statement; postmortems whose class a person
    already confirmed are left out. With ``failure_class``, only statements the
    classifier hesitates to put in, or out of, that class (best guess or
    runner-up). Only postmortems ``user`` may read.
    """
    postmortems = Postmortem.objects.visible_to(user).exclude(
        classification__source=ClassificationSource.CONFIRMED
    )
    query = CauseStatement.objects.filter(
        postmortem__in=postmortems, teach_score__gt=0
    ).exclude(source=ClassificationSource.CONFIRMED)
    if failure_class is not None:
        query = query.filter(Q(best_guess=failure_class) | Q(runner_up=failure_class))
    rows = query.values(
        "postmortem_id",
        "postmortem__incident_id",
        "postmortem__incident__title",
        "kind",
        "key",
        "text",
        "best_guess__slug",
        "best_guess__name",
        "runner_up__slug",
        "runner_up__name",
        "confidence",
        "margin",
        "teach_score",
    ).order_by("-teach_score", "postmortem_id", "pk")
    picked: dict[int, ConfirmCandidate] = {}
    # Statements come best first: the first one per postmortem is its best.
    for r in rows.iterator(chunk_size=500):
        if r["postmortem_id"] in picked:
            continue
        picked[r["postmortem_id"]] = ConfirmCandidate(
            postmortem_id=r["postmortem_id"],
            incident_id=r["postmortem__incident_id"],
            title=r["postmortem__incident__title"],
            statement_kind=r["kind"],
            statement_key=r["key"],
            text=r["text"],
            best_guess=(r["best_guess__slug"], r["best_guess__name"])
            if r["best_guess__slug"]
            else None,
            runner_up=(r["runner_up__slug"], r["runner_up__name"])
            if r["runner_up__slug"]
            else None,
            confidence=float(r["confidence"]),
            margin=float(r["margin"]),
            teach_score=float(r["teach_score"]),
        )
        if len(picked) >= limit:
            break
    return list(picked.values())


@dataclass(frozen=True)
class EffectRow:
    """One confirmation and what it changed (None until its run finished)."""

    postmortem_id: int
    statement_key: str
    class_slug: str | None
    class_name: str | None
    confirmed_by: str
    created_at: dt.datetime
    run_id: int | None
    changed: int | None
    changed_postmortems: int | None
    title: str = ""  # the postmortem's incident's


def confirmation_effects(*, limit: int = 20, user) -> list[EffectRow]:
    """The latest confirmations on postmortems ``user`` may read, newest first,
    with how many statements' (``changed``) and postmortems' primary
    (``changed_postmortems``) classes the retraining after each moved."""
    effects = ConfirmationEffect.objects.filter(
        postmortem__in=Postmortem.objects.visible_to(user)
    )
    return [
        EffectRow(
            postmortem_id=r["postmortem_id"],
            statement_key=r["statement_key"],
            class_slug=r["failure_class__slug"],
            class_name=r["failure_class__name"],
            confirmed_by=r["confirmed_by__username"] or "",
            created_at=r["created_at"],
            run_id=r["run_id"],
            changed=r["changed"],
            changed_postmortems=r["changed_postmortems"],
            title=r["postmortem__incident__title"],
        )
        for r in effects.order_by("-created_at", "-pk").values(
            "postmortem_id",
            "postmortem__incident__title",
            "statement_key",
            "failure_class__slug",
            "failure_class__name",
            "confirmed_by__username",
            "created_at",
            "run_id",
            "changed",
            "changed_postmortems",
        )[:limit]
    ]


STATEMENT_LABELS = {**dict(StatementKind.choices), "postmortem": "Whole postmortem"}


def statement_label(key: str) -> str:
    """``root_cause`` -> Root cause, ``factor:12`` -> Contributing factor."""
    return STATEMENT_LABELS.get(key.split(":", 1)[0], key)


def confirmation_history(*, user, limit: int = 10) -> list[dict]:
    """The latest confirmations on postmortems ``user`` may read, with what each
    changed once the run that retrained on it finished (1 query)."""
    return [
        {
            "postmortem_id": e.postmortem_id,
            "title": e.title,
            "statement": statement_label(e.statement_key),
            "class_slug": e.class_slug,
            "class_name": e.class_name,
            "confirmed_by": e.confirmed_by,
            "created_at": e.created_at,
            "changed": e.changed,
            "changed_postmortems": e.changed_postmortems,
        }
        for e in confirmation_effects(limit=limit, user=user)
    ]
