"""Insights reads: report rows, class details, similar incidents, runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.db.models import BooleanField, ExpressionWrapper, Prefetch, Q
from django.utils import timezone

from actions import extensions as action_extensions
from actions.models import OPEN_STATUSES, ActionItem
from insights import report
from insights.models import (
    CauseStatement,
    ClassificationSource,
    ClassStatus,
    ConfirmationEffect,
    FailureClass,
    InsightRun,
    PostmortemClassification,
    RunKind,
    RunStatus,
    SimilarPostmortem,
    StatementKind,
)
from postmortems.metrics import incident_metrics
from postmortems.models import ContributingFactor, Incident, Postmortem
from postmortems.permissions import visible_postmortems


def _float(value) -> float | None:
    return float(value) if value is not None else None


# Sources whose confidence is the calibrated classifier's probability.
CALIBRATED_SOURCES = (ClassificationSource.CONFIRMED, ClassificationSource.CLASSIFIER)
# Until a run has validated its own threshold (too few confirmations), inferred
# classes count from here on, and the report says the threshold is a default.
FALLBACK_CONFIDENCE_THRESHOLD = 0.5


# "Not given": read the last successful run (None is an answer: there is none).
UNREAD = object()


def confidence_threshold(run: InsightRun | None | object = UNREAD) -> float:
    """The confidence from which an inferred class counts on the report: the
    abstention threshold the last full run (``run``, read when not given)
    validated, else the default."""
    value = abstain_threshold(run)
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


def report_memberships(
    postmortem_ids: list[int], *, run: InsightRun | None | object = UNREAD
) -> list[report.MembershipRow]:
    """Every class membership of these postmortems, confirmed or inferred, with
    the statement that puts it there (from ``postmortem_class_memberships``)."""
    return [
        report.MembershipRow(
            postmortem_id=pk,
            class_slug=m.slug,
            confidence=m.confidence,
            confirmed=m.confirmed,
            evidence=m.evidence,
            statement_kind=m.statement_kind,
            calibrated=m.calibrated,
            kind_validated=m.counts_kind,
        )
        for pk, memberships in sorted(
            postmortem_class_memberships(postmortem_ids, run=run).items()
        )
        for m in memberships
    ]


def report_data(*, user, now: dt.datetime | None = None) -> report.Report:
    """The insights report over the postmortems ``user`` may read (6 queries)."""
    run = last_successful_run()
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
            # A fix linked to an issue is done only when its tracker says so.
            status=row["status"]
            if row["status"] != "done" or row["done_confirmed"]
            else "done (not in tracker)",
            completed_at=row["completed_at"],
            priority=row["priority"],
            owner=row["owner__username"] or "",
        )
        for row in ActionItem.objects.filter(postmortem_id__in=ids)
        .annotate(
            done_confirmed=ExpressionWrapper(
                action_extensions.confirmed_done(), output_field=BooleanField()
            )
        )
        .order_by("pk")
        .values(
            "id",
            "postmortem_id",
            "title",
            "status",
            "completed_at",
            "priority",
            "owner__username",
            "done_confirmed",
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
        memberships=report_memberships(ids, run=run),
        actions=actions,
        factors=factors,
        classes=classes,
        confidence_threshold=confidence_threshold(run),
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


def postmortems_for_page(*, postmortem_ids: list[int], user) -> dict[int, Postmortem]:
    """These postmortems, those ``user`` may read, with what the class page shows."""
    return {
        postmortem.pk: postmortem
        for postmortem in visible_postmortems(
            user,
            Postmortem.objects.filter(pk__in=postmortem_ids)
            .select_related("incident__team")
            .prefetch_related(
                "incident__services",
                Prefetch(
                    "action_items",
                    queryset=ActionItem.objects.select_related("owner").order_by(
                        "status", "pk"
                    ),
                ),
            ),
        )
    }


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
    run = last_successful_run()
    found = postmortem_class_memberships(postmortem_ids, run=run)
    memberships = []
    for pk in sorted(found):
        for m in found[pk]:
            if class_slug and m.slug != class_slug:
                continue
            row = report.MembershipRow(
                postmortem_id=pk,
                class_slug=m.slug,
                confidence=m.confidence,
                confirmed=m.confirmed,
                calibrated=m.calibrated,
                kind_validated=m.counts_kind,
            )
            if threshold is None and not row.confirmed:
                threshold = confidence_threshold(run)
            memberships.append(
                {
                    "postmortem": pk,
                    "failure_class": m.slug,
                    "class_name": m.name,
                    "confirmed": m.confirmed,
                    "confidence": round(m.confidence, 4),
                    "counted": report.membership_counted(row, threshold or 0.0),
                    "calibrated": row.calibrated,
                    "kind_validated": row.kind_validated,
                    "source": m.source,
                    "threshold": threshold,
                    "evidence": m.evidence,
                    "statement_kind": m.statement_kind,
                    "statement_key": m.statement_key,
                    "primary": m.primary,
                }
            )
    return memberships


def class_memberships(
    *, user, postmortem_ids: list[int] | None = None, class_slug: str | None = None
) -> list[dict]:
    """``memberships_of`` the postmortems ``user`` may read."""
    visible = Postmortem.objects.visible_to(user)
    if postmortem_ids is not None:
        visible = visible.filter(pk__in=postmortem_ids)
    return memberships_of(
        list(visible.values_list("pk", flat=True)),
        class_slug=class_slug,
        threshold=confidence_threshold(),
    )


# --- Cause statements: memberships, evidence, "confirm these next" ----------


@dataclass(frozen=True)
class Membership:
    """A postmortem's membership of one failure class, and why.

    A postmortem belongs to every class one of its cause statements is in, and
    to its primary class (``PostmortemClassification``). ``statement_kind`` is
    ``root_cause``, ``trigger`` or ``factor`` (``statement_key`` names the
    statement: ``factor:<id>`` for a contributing factor), or ``postmortem``
    when only the primary class puts it there (the evidence is then its root
    cause, or empty). ``confirmed`` means a person confirmed it; otherwise it is
    inferred with ``confidence`` (0-1). ``kind_validated``: the classifier was
    validated on statements of this kind (see :func:`validated_statement_kinds`).
    """

    class_id: int
    slug: str
    name: str
    confidence: float
    confirmed: bool
    evidence: str
    statement_kind: str
    statement_key: str
    source: str
    primary: bool
    kind_validated: bool = True

    @property
    def calibrated(self) -> bool:
        """Its confidence is a validated probability: from the calibrated
        classifier, on the primary class or a statement kind it was validated on.
        """
        return self.source in CALIBRATED_SOURCES and self.counts_kind

    @property
    def counts_kind(self) -> bool:
        """Confirmed, or from a statement kind the classifier was validated on."""
        return self.confirmed or self.kind_validated


def validated_statement_kinds(run: InsightRun | None | object = UNREAD) -> set[str]:
    """Statement kinds the last full run validated its classifier on.

    People's labels are mostly root causes (a confirmed postmortem labels its
    root cause), so the validated threshold says nothing about how often a
    contributing factor, mostly a detection or process gap, is put in the
    right class. The run records the kinds with enough labelled statements.
    """
    run = last_successful_run() if run is UNREAD else run
    return set(((run.validation or {}).get("statement_kinds") or []) if run else [])


def postmortem_class_memberships(
    postmortem_ids, *, run: InsightRun | None | object = UNREAD
) -> dict[int, list[Membership]]:
    """Every class each postmortem belongs to, with its evidence (3 queries).

    One membership per (postmortem, class): the strongest statement (confirmed
    first, then highest confidence). Lists are ordered primary first, then
    confirmed, then by confidence (highest first) and class name. Postmortems
    with no class are absent. The caller filters ids by visibility.
    """
    ids = list(postmortem_ids)
    validated = validated_statement_kinds(run)
    memberships: dict[int, dict[int, Membership]] = {}
    root_text: dict[int, str] = {}
    primary = {
        row["postmortem_id"]: row
        for row in PostmortemClassification.objects.filter(
            postmortem_id__in=ids, failure_class__isnull=False
        ).values(
            "postmortem_id",
            "failure_class_id",
            "failure_class__slug",
            "failure_class__name",
            "confidence",
            "source",
        )
    }
    statements = (
        CauseStatement.objects.filter(postmortem_id__in=ids)
        .order_by("postmortem_id", "pk")
        .values(
            "postmortem_id",
            "key",
            "kind",
            "text",
            "failure_class_id",
            "failure_class__slug",
            "failure_class__name",
            "confidence",
            "source",
        )
    )
    for row in statements:
        pk = row["postmortem_id"]
        if row["kind"] == StatementKind.ROOT_CAUSE:
            root_text[pk] = row["text"]
        if row["failure_class_id"] is None:
            continue
        confirmed = row["source"] == ClassificationSource.CONFIRMED
        head = primary.get(pk)
        candidate = Membership(
            class_id=row["failure_class_id"],
            slug=row["failure_class__slug"],
            name=row["failure_class__name"],
            confidence=1.0 if confirmed else float(row["confidence"]),
            confirmed=confirmed,
            evidence=row["text"],
            statement_kind=row["kind"],
            statement_key=row["key"],
            source=row["source"],
            primary=bool(head and head["failure_class_id"] == row["failure_class_id"]),
            kind_validated=row["kind"] in validated,
        )
        current = memberships.setdefault(pk, {}).get(candidate.class_id)
        # Confirmed first, then statements of a validated kind, then confidence.
        if current is None or (
            candidate.confirmed,
            candidate.kind_validated,
            candidate.confidence,
        ) > (current.confirmed, current.kind_validated, current.confidence):
            memberships[pk][candidate.class_id] = candidate
    for pk, head in primary.items():
        found = memberships.setdefault(pk, {}).get(head["failure_class_id"])
        confirmed = head["source"] == ClassificationSource.CONFIRMED
        if found is not None and not found.confirmed and not found.kind_validated:
            # The primary class rests on the postmortem's own (validated)
            # confidence, not on a statement of a kind never validated.
            found = None
        if found is None:
            memberships[pk][head["failure_class_id"]] = Membership(
                class_id=head["failure_class_id"],
                slug=head["failure_class__slug"],
                name=head["failure_class__name"],
                confidence=1.0 if confirmed else float(head["confidence"]),
                confirmed=confirmed,
                evidence=root_text.get(pk, ""),
                statement_kind="postmortem",
                statement_key="",
                source=head["source"],
                primary=True,
            )
        elif confirmed and not found.confirmed:
            memberships[pk][head["failure_class_id"]] = Membership(
                **{**found.__dict__, "confirmed": True, "confidence": 1.0}
            )
    return {
        pk: sorted(
            by_class.values(),
            key=lambda m: (not m.primary, not m.confirmed, -m.confidence, m.name),
        )
        for pk, by_class in memberships.items()
        if by_class
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
        postmortems = visible_postmortems(user, postmortems)
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
    failure_class: FailureClass | None = None, limit: int = 10, *, user=None
) -> list[ConfirmCandidate]:
    """The postmortems whose confirmation would teach the classifier most.

    Uncertain statements whose answer would settle the most other uncertain
    statements come first (the last full run's ``teach_score``); one entry per
    postmortem, its best-scoring statement; postmortems whose class a person
    already confirmed are left out. With ``failure_class``, only statements the
    classifier hesitates to put in, or out of, that class (best guess or
    runner-up). With ``user``, only postmortems that user may read.
    """
    postmortems = Postmortem.objects.exclude(
        classification__source=ClassificationSource.CONFIRMED
    )
    if user is not None:
        postmortems = visible_postmortems(user, postmortems)
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


def confirmation_effects(*, limit: int = 20) -> list[EffectRow]:
    """The latest confirmations, newest first, with how many statements'
    (``changed``) and postmortems' primary (``changed_postmortems``) classes
    the retraining after each moved."""
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
        )
        for r in ConfirmationEffect.objects.order_by("-created_at", "-pk").values(
            "postmortem_id",
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


def abstain_threshold(run: InsightRun | None | object = UNREAD) -> float | None:
    """The abstention threshold the last successful full run (``run``, read when
    not given) chose by validation (None: too few confirmations to validate one)."""
    run = last_successful_run() if run is UNREAD else run
    return run.abstain_threshold if run is not None else None


STATEMENT_LABELS = {**dict(StatementKind.choices), "postmortem": "Whole postmortem"}


def statement_label(key: str) -> str:
    """``root_cause`` -> Root cause, ``factor:12`` -> Contributing factor."""
    return STATEMENT_LABELS.get(key.split(":", 1)[0], key)


def confirmation_history(*, user, limit: int = 10) -> list[dict]:
    """The latest confirmations on postmortems ``user`` may read, with what each
    changed once the run that retrained on it finished (2 queries)."""
    effects = confirmation_effects(limit=limit * 3)
    titles = dict(
        visible_postmortems(
            user, Postmortem.objects.filter(pk__in={e.postmortem_id for e in effects})
        ).values_list("pk", "incident__title")
    )
    return [
        {
            "postmortem_id": e.postmortem_id,
            "title": titles[e.postmortem_id],
            "statement": statement_label(e.statement_key),
            "class_slug": e.class_slug,
            "class_name": e.class_name,
            "confirmed_by": e.confirmed_by,
            "created_at": e.created_at,
            "changed": e.changed,
            "changed_postmortems": e.changed_postmortems,
        }
        for e in effects
        if e.postmortem_id in titles
    ][:limit]
