"""Class memberships of postmortems: which classes each belongs to, and why."""

from __future__ import annotations

from dataclasses import dataclass

from insights import report
from insights.models import (
    CauseStatement,
    ClassificationSource,
    InsightRun,
    PostmortemClassification,
    StatementKind,
)
from insights.selectors.runs import UNREAD, confidence_threshold, last_successful_run
from postmortems.models import Postmortem

# Sources whose confidence is the calibrated classifier's probability.
CALIBRATED_SOURCES = (ClassificationSource.CONFIRMED, ClassificationSource.CLASSIFIER)


def classification_of(*, postmortem_id: int) -> PostmortemClassification | None:
    return (
        PostmortemClassification.objects.select_related("failure_class", "confirmed_by")
        .filter(postmortem_id=postmortem_id)
        .first()
    )


def membership_row(postmortem_id: int, m: Membership) -> report.MembershipRow:
    """A membership as the report's pure code reads it."""
    return report.MembershipRow(
        postmortem_id=postmortem_id,
        class_slug=m.slug,
        confidence=m.confidence,
        confirmed=m.confirmed,
        evidence=m.evidence,
        statement_kind=m.statement_kind,
        calibrated=m.calibrated,
        kind_validated=m.counts_kind,
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
            row = membership_row(pk, m)
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

    People's labels fall on root causes and triggers (a confirmed postmortem
    labels its trigger for a class of change, its root cause otherwise), so
    the validated threshold says nothing about how often a contributing
    factor, mostly a detection or process gap, is put in the right class. The
    run records the kinds validated on their own labels: enough of them, and
    right answers at the threshold outweighing the cost of wrong ones
    (:func:`insights.services.statements.validated_kinds`).
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
