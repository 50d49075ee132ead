"""Cause statements: read them, classify them, confirm them, record the effect.

A postmortem's root cause, trigger and each contributing factor are classified
on their own by :mod:`insights.classifier`, so a postmortem belongs to every
class one of its statements is in (a config push that exhausted a pool is both
a configuration change and capacity exhaustion).

The trigger is read for the change that set the incident off: it is scored
against the classes of change only (``axis`` in the taxonomy), and a person's
confirmation of a change class teaches the classifier through the trigger, not
through the root cause, which describes a mechanism. Each kind of statement is
validated on its own labels: the memberships of a kind count on the report
only once its cross-validated answers are worth showing at the threshold.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence, Set
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from insights import classifier
from insights.embeddings import normalise_rows, text_hash
from insights.evaluation import known_examples
from insights.models import (
    CauseStatement,
    ClassAxis,
    ClassificationSource,
    ConfirmationEffect,
    FailureClass,
    InsightRun,
    PostmortemClassification,
    StatementKind,
)
from postmortems.models import ContributingFactor, Postmortem

logger = logging.getLogger(__name__)

ROOT_CAUSE_KEY = "root_cause"
TRIGGER_KEY = "trigger"


@dataclass(frozen=True)
class StatementInput:
    """One statement to classify, as plain values."""

    postmortem_id: int
    key: str
    kind: str
    factor_id: int | None
    text: str

    @property
    def item_id(self) -> tuple[int, str]:
        return (self.postmortem_id, self.key)


def factor_key(factor_id: int) -> str:
    return f"factor:{factor_id}"


def statement_inputs(
    postmortem_ids: Sequence[int] | None = None,
) -> list[StatementInput]:
    """Every non-empty cause statement, by postmortem id then key."""
    postmortems = Postmortem.objects.order_by("pk")
    factors = ContributingFactor.objects.order_by("postmortem_id", "position", "pk")
    if postmortem_ids is not None:
        postmortems = postmortems.filter(pk__in=postmortem_ids)
        factors = factors.filter(postmortem_id__in=postmortem_ids)
    out: list[StatementInput] = []
    for pk, sections in postmortems.values_list("pk", "sections"):
        for key, kind in (
            (ROOT_CAUSE_KEY, StatementKind.ROOT_CAUSE),
            (TRIGGER_KEY, StatementKind.TRIGGER),
        ):
            text = str((sections or {}).get(key) or "").strip()
            if text:
                out.append(StatementInput(pk, key, kind, None, text))
    for factor_id, pk, description in factors.values_list(
        "pk", "postmortem_id", "description"
    ):
        if description.strip():
            out.append(
                StatementInput(
                    pk,
                    factor_key(factor_id),
                    StatementKind.FACTOR,
                    factor_id,
                    description.strip(),
                )
            )
    return sorted(out, key=lambda s: s.item_id)


def classifier_params() -> classifier.Params:
    """Classifier parameters: the defaults, overridable in settings."""
    return classifier.Params(**getattr(settings, "KB_INSIGHTS_CLASSIFIER_PARAMS", {}))


@dataclass(frozen=True)
class StatementRow:
    """A statement's computed classification, as plain values to compare."""

    kind: str
    factor_id: int | None
    text: str
    text_hash: str
    class_id: int | None
    confidence: float
    source: str
    abstained: bool
    best_guess_id: int | None
    runner_up_id: int | None
    margin: float
    teach_score: float
    confirmed_by_id: int | None
    confirmed_at: dt.datetime | None
    # The label is derived from the postmortem's confirmed class, not a
    # person's confirmation of this statement (see CauseStatement).
    from_postmortem: bool = False


def _zero_shot(vectors, prototypes: Sequence[tuple[str, np.ndarray]], threshold):
    """Best described class by raw cosine to its prototype (as the postmortem
    level's zero-shot stage scores it), where it reaches ``threshold``."""
    if not prototypes or not len(vectors):
        return [None] * len(vectors), np.zeros(len(vectors))
    anchors = normalise_rows(np.vstack([vector for _, vector in prototypes]))
    sims = normalise_rows(vectors) @ anchors.T
    best = sims.argmax(axis=1)
    scores = sims[np.arange(len(vectors)), best]
    return [
        prototypes[j][0] if score >= threshold else None
        for j, score in zip(best, scores, strict=True)
    ], scores


def kind_figures(
    cross_validated: dict, kind_of: dict, threshold: float
) -> dict[str, dict]:
    """Each statement kind's cross-validated answers at the run's threshold:
    labelled, kept (at or above it), right and wrong among those kept.

    The threshold is one of the cross-validated confidences, stored rounded to
    6 places as every confidence is; each confidence is rounded the same way
    before the comparison, or the answer the threshold was chosen at could
    fall below it."""
    out: dict[str, dict] = {}
    for item_id, (confidence, right) in cross_validated.items():
        figures = out.setdefault(
            kind_of[item_id], {"labelled": 0, "kept": 0, "right": 0, "wrong": 0}
        )
        figures["labelled"] += 1
        if round(float(confidence), 6) >= threshold:
            figures["kept"] += 1
            figures["right" if right else "wrong"] += 1
    return dict(sorted(out.items()))


def validated_kinds(kinds: dict[str, dict], params: classifier.Params) -> list[str]:
    """Statement kinds whose inferred classes may count on the report.

    A kind is validated on its own labels, by the rule that chose the
    threshold (Chow's): at least ``min_examples`` of its statements labelled,
    and among its cross-validated answers at or above the threshold, right ones
    outweigh ``abstain_cost`` times the wrong ones. A kind people never label
    (contributing factors, mostly detection gaps) or one the classifier gets
    wrong (a trigger read for its mechanism) is listed, not counted.
    """
    return sorted(
        kind
        for kind, f in kinds.items()
        if f["labelled"] >= params.min_examples
        and f["right"] - params.abstain_cost * f["wrong"] > 0
    )


def classify_statements(
    *,
    statements: Sequence[StatementInput],
    vectors: np.ndarray,
    classes: Sequence[FailureClass],
    known,
    confirmed_postmortems: dict[int, tuple[str, int | None, dt.datetime | None]],
    zero_shot_threshold: float,
    params: classifier.Params,
    threshold: float | None = None,
    extra_labelled: Sequence[tuple[str, np.ndarray, str]] = (),
) -> tuple[dict[tuple[int, str], StatementRow], classifier.Outcome]:
    """Classify every statement; returns rows by (postmortem id, key) and the
    classifier's outcome (threshold, validation).

    Labels are people's: a statement a person confirmed, or the statement a
    postmortem's confirmed class is derived onto: its trigger for a class of
    change, otherwise its root cause (its first statement when it has no root
    cause). Derived labels are worked out afresh on every run from the
    postmortem's current confirmation, never read back from stored rows, so
    re-confirming a postmortem moves them. ``extra_labelled`` adds (slug,
    vector, text) examples beyond the statements (a single-postmortem run
    passes the confirmed ones here).
    """
    by_slug = {c.slug: c for c in classes}
    existing = {
        (row.postmortem_id, row.key): row
        for row in CauseStatement.objects.filter(
            source=ClassificationSource.CONFIRMED,
            from_postmortem=False,
            postmortem_id__in={s.postmortem_id for s in statements},
        ).select_related("failure_class")
    }
    labels: dict[tuple[int, str], str] = {}
    confirmer: dict[tuple[int, str], tuple[int | None, dt.datetime | None]] = {}
    for item_id, row in existing.items():
        if row.failure_class is not None:
            labels[item_id] = row.failure_class.slug
            confirmer[item_id] = (row.confirmed_by_id, row.confirmed_at)
    keys_of: dict[int, list[str]] = {}
    for s in statements:
        keys_of.setdefault(s.postmortem_id, []).append(s.key)
    changes = {c.slug for c in classes if c.axis == ClassAxis.CHANGE}
    derived: set[tuple[int, str]] = set()
    for pk, (slug, user_id, at) in confirmed_postmortems.items():
        key = labelled_key(keys_of.get(pk, []), is_change=slug in changes)
        item_id = (pk, key) if key is not None else None
        if item_id is not None and item_id not in labels and slug in by_slug:
            labels[item_id] = slug
            confirmer[item_id] = (user_id, at)
            derived.add(item_id)

    kind_of = {s.item_id: s.kind for s in statements}
    descriptions = known_examples(known)
    described = {e.slug for e in descriptions}
    prototypes = [
        (k.slug, k.description_vector)
        for k in sorted(known, key=lambda k: k.slug)
        if k.slug in described
    ]
    examples = descriptions + [
        classifier.Example(
            slug=slug, vector=vector, text=text, description=False, confirmed=True
        )
        for slug, vector, text in extra_labelled
    ]
    ids = [s.item_id for s in statements]
    outcome = classifier.fit_predict(
        ids=ids,
        vectors=vectors,
        texts=[s.text for s in statements],
        labels=labels,
        examples=examples,
        params=params,
        threshold=threshold,
        # With no class of change left in the taxonomy, a trigger may take any.
        allowed={s.item_id: changes for s in statements if s.key == TRIGGER_KEY}
        if changes
        else None,
    )
    if outcome.cross_validated:
        outcome.validation["kinds"] = kind_figures(
            outcome.cross_validated, kind_of, outcome.threshold
        )
    predictions = outcome.by_id()
    # A trigger goes zero-shot to a class of change or to none (while the
    # taxonomy has one); every other statement to any described class. Each
    # statement is scored once, against the classes it may take.
    zero_shot: list[str | None] = [None] * len(statements)
    zero_scores = np.zeros(len(statements))
    is_trigger = [bool(changes) and s.key == TRIGGER_KEY for s in statements]
    for trigger, anchors in (
        (False, prototypes),
        (True, [p for p in prototypes if p[0] in changes]),
    ):
        indices = [i for i, t in enumerate(is_trigger) if t == trigger]
        if not indices:
            continue
        picked, scores = _zero_shot(vectors[indices], anchors, zero_shot_threshold)
        for i, slug, score in zip(indices, picked, scores, strict=True):
            zero_shot[i], zero_scores[i] = slug, score
    margins = [predictions[i].margin for i in ids]
    teach = classifier.teach_scores(
        vectors,
        margins,
        [i in labels for i in ids],
        density_threshold=params.density_threshold,
    )
    rows: dict[tuple[int, str], StatementRow] = {}
    for index, s in enumerate(statements):
        p = predictions[s.item_id]

        def class_id(slug):
            return by_slug[slug].pk if slug in by_slug else None

        user_id, at = confirmer.get(s.item_id, (None, None))
        if s.item_id in labels:
            slug, source, confidence, abstained = (
                labels[s.item_id],
                ClassificationSource.CONFIRMED,
                1.0,
                False,
            )
        elif p.slug is not None:
            slug, source, confidence, abstained = (
                p.slug,
                ClassificationSource.CLASSIFIER,
                p.confidence,
                False,
            )
        elif zero_shot[index] is not None:
            slug, source, confidence, abstained = (
                zero_shot[index],
                ClassificationSource.TAXONOMY,
                round(float(zero_scores[index]), 6),
                outcome.threshold is not None,
            )
        else:
            slug, source, confidence, abstained = (
                None,
                ClassificationSource.NONE,
                p.confidence,
                outcome.threshold is not None,
            )
        rows[s.item_id] = StatementRow(
            kind=s.kind,
            factor_id=s.factor_id,
            text=s.text,
            text_hash=text_hash(s.text),
            class_id=class_id(slug),
            confidence=round(float(confidence), 6),
            source=source,
            abstained=abstained,
            best_guess_id=class_id(p.best),
            runner_up_id=class_id(p.runner_up),
            margin=p.margin,
            teach_score=round(float(teach[index]), 6),
            confirmed_by_id=user_id,
            confirmed_at=at,
            from_postmortem=s.item_id in derived,
        )
    return rows, outcome


def _current_rows(postmortem_ids=None):
    """Stored statements as rows by (postmortem id, key), and their pks."""
    query = CauseStatement.objects.all()
    if postmortem_ids is not None:
        query = query.filter(postmortem_id__in=postmortem_ids)
    values = list(query.values())
    pks = {(r["postmortem_id"], r["key"]): r["id"] for r in values}
    return {
        (r["postmortem_id"], r["key"]): StatementRow(
            kind=r["kind"],
            factor_id=r["factor_id"],
            text=r["text"],
            text_hash=r["text_hash"],
            class_id=r["failure_class_id"],
            confidence=r["confidence"],
            source=r["source"],
            abstained=r["abstained"],
            best_guess_id=r["best_guess_id"],
            runner_up_id=r["runner_up_id"],
            margin=r["margin"],
            teach_score=r["teach_score"],
            confirmed_by_id=r["confirmed_by_id"],
            confirmed_at=r["confirmed_at"],
            from_postmortem=r["from_postmortem"],
        )
        for r in values
    }, pks


def unchanged_kept(
    rows: dict[tuple[int, str], StatementRow], class_ids: set[int]
) -> dict[tuple[int, str], StatementRow]:
    """``rows`` (a single run's), with each statement whose text it read
    unchanged given back its stored row.

    A single run classifies one postmortem against the confirmed statements
    alone: no label spreading over every statement, tf-idf weights and
    "confirm these next" scores from a few dozen texts. On the demo it gave
    14 of 120 unchanged statements another class than the full run had. So
    only what changed is classified afresh; the next full run settles the
    rest. A stored row is kept only when neither it nor the new one is a
    person's label (those are worked out afresh), and every class it names
    still stands (none merged away since).
    """
    stored, _ = _current_rows(sorted({pk for pk, _ in rows}))
    out = dict(rows)
    for item_id, row in rows.items():
        old = stored.get(item_id)
        if (
            old is not None
            and (old.text_hash, old.kind, old.factor_id)
            == (row.text_hash, row.kind, row.factor_id)
            and ClassificationSource.CONFIRMED not in (old.source, row.source)
            and all(
                pk is None or pk in class_ids
                for pk in (old.class_id, old.best_guess_id, old.runner_up_id)
            )
        ):
            out[item_id] = old
    return out


def statements_save(
    *,
    rows: dict[tuple[int, str], StatementRow],
    run: InsightRun,
    postmortem_ids: Sequence[int] | None = None,
    leave: Set[int] = frozenset(),
) -> int:
    """Write the rows that changed (and drop statements that are gone).

    Returns how many statements changed class. Call inside the run's
    result transaction. The statements of postmortems in ``leave`` (a single
    run read or wrote them after a full run read its inputs) are left as
    they are.
    """
    current, current_pks = _current_rows(postmortem_ids)
    # A person who put a statement in a class while the run worked (after it
    # read its inputs) wins: the run's row comes from before that answer.
    answered = {
        k
        for k, now in current.items()
        if _persons(now)
        and k in rows
        and (
            rows[k].source != ClassificationSource.CONFIRMED
            or rows[k].class_id != now.class_id
        )
    }
    answered |= {k for k in [*current, *rows] if k[0] in leave}
    gone = [k for k in current if k not in rows and k not in answered]
    changed = [
        k for k, row in rows.items() if current.get(k) != row and k not in answered
    ]
    moved = sum(
        1
        for k in changed
        if k in current
        and current[k].class_id != rows[k].class_id
        and rows[k].source != ClassificationSource.CONFIRMED
    )
    # By primary key, 500 at a time: one DELETE per statement took 36 s when a
    # confirmation moved the scores of 20,000 statements.
    stale = sorted(current_pks[k] for k in gone + changed if k in current_pks)
    persons = {current_pks[k] for k in gone + changed if _persons(current.get(k))}
    for start in range(0, len(stale), 500):
        # Rows read as computed stay deletable only while computed: on
        # PostgreSQL a person's answer committed meanwhile is re-checked here,
        # kept, and the run's row for it dropped (ignore_conflicts below).
        batch = stale[start : start + 500]
        CauseStatement.objects.filter(pk__in=batch).filter(
            Q(pk__in=persons.intersection(batch))
            | ~Q(source=ClassificationSource.CONFIRMED)
            | Q(from_postmortem=True)
            | Q(failure_class__isnull=True)
        ).delete()
    CauseStatement.objects.bulk_create(
        [
            CauseStatement(
                postmortem_id=pk,
                key=key,
                kind=rows[(pk, key)].kind,
                factor_id=rows[(pk, key)].factor_id,
                text=rows[(pk, key)].text,
                text_hash=rows[(pk, key)].text_hash,
                failure_class_id=rows[(pk, key)].class_id,
                confidence=rows[(pk, key)].confidence,
                source=rows[(pk, key)].source,
                abstained=rows[(pk, key)].abstained,
                best_guess_id=rows[(pk, key)].best_guess_id,
                runner_up_id=rows[(pk, key)].runner_up_id,
                margin=rows[(pk, key)].margin,
                teach_score=rows[(pk, key)].teach_score,
                confirmed_by_id=rows[(pk, key)].confirmed_by_id,
                confirmed_at=rows[(pk, key)].confirmed_at,
                from_postmortem=rows[(pk, key)].from_postmortem,
                run=run,
            )
            for pk, key in changed
        ],
        batch_size=500,
        ignore_conflicts=True,
    )
    return moved


def _persons(row: StatementRow | None) -> bool:
    """A person's own answer for this statement (not one derived from the
    postmortem's confirmed class)."""
    return (
        row is not None
        and row.source == ClassificationSource.CONFIRMED
        and not row.from_postmortem
        and row.class_id is not None
    )


def confirmation_effects_settle(
    *,
    run: InsightRun,
    inputs_read_at: dt.datetime,
    changed: int,
    changed_postmortems: int,
) -> int:
    """Give the confirmations this run retrained on their effect."""
    return ConfirmationEffect.objects.filter(
        run=None, created_at__lte=inputs_read_at
    ).update(run=run, changed=changed, changed_postmortems=changed_postmortems)


@transaction.atomic
def cause_statement_confirm(
    *, statement: CauseStatement, failure_class: FailureClass, user
) -> CauseStatement:
    """A person puts one cause statement in a class; the classifier retrains.

    The confirmation wins over every computed class, and the full run it
    queues records how many other classifications it changed.
    """
    if failure_class.merged_into_id:
        failure_class = failure_class.merged_into
    statement.failure_class = failure_class
    statement.source = ClassificationSource.CONFIRMED
    statement.confidence = 1.0
    statement.abstained = False
    statement.teach_score = 0.0
    statement.confirmed_by = user if getattr(user, "is_authenticated", False) else None
    statement.confirmed_at = timezone.now()
    statement.from_postmortem = False
    statement.save()
    confirmation_record(
        postmortem_ids=[statement.postmortem_id],
        statement_key=statement.key,
        failure_class=failure_class,
        user=user,
    )
    return statement


def labelled_key(keys: Sequence[str], *, is_change: bool) -> str | None:
    """The statement a postmortem's confirmed class labels, among its statement
    ``keys`` (in key order): a change is written down in the trigger, a
    mechanism in the root cause; without either, its first statement."""
    if is_change and TRIGGER_KEY in keys:
        return TRIGGER_KEY
    if ROOT_CAUSE_KEY in keys:
        return ROOT_CAUSE_KEY
    return min(keys, default=None)


def confirmation_statement_keys(
    postmortem_ids: Sequence[int], failure_class: FailureClass
) -> dict[int, str]:
    """For each postmortem confirmed in ``failure_class``, the statement the
    confirmation labels (as :func:`classify_statements` derives it); the root
    cause for one without statements."""
    keys_of: dict[int, list[str]] = {pk: [] for pk in postmortem_ids}
    for s in statement_inputs(postmortem_ids):
        keys_of[s.postmortem_id].append(s.key)
    is_change = failure_class.axis == ClassAxis.CHANGE
    return {
        pk: labelled_key(keys, is_change=is_change) or ROOT_CAUSE_KEY
        for pk, keys in keys_of.items()
    }


def confirmation_record(
    *,
    postmortem_ids: Sequence[int],
    statement_key: str,
    failure_class: FailureClass,
    user,
) -> None:
    """Every confirmation path's bookkeeping, in one place: a pending
    :class:`ConfirmationEffect` per postmortem, and a full run that retrains the
    classifier and fills in what the confirmation changed."""
    from insights.services.runs import insight_run_request

    if not postmortem_ids:
        return
    by = user if getattr(user, "is_authenticated", False) else None
    ConfirmationEffect.objects.bulk_create(
        [
            ConfirmationEffect(
                postmortem_id=pk,
                statement_key=statement_key,
                failure_class=failure_class,
                confirmed_by=by,
            )
            for pk in postmortem_ids
        ]
    )
    insight_run_request(user=user)


def confirmed_postmortem_labels() -> dict[
    int, tuple[str, int | None, dt.datetime | None]
]:
    """Postmortems whose class a person confirmed: pk -> (slug, by, at)."""
    return {
        pk: (slug, by, at)
        for pk, slug, by, at in PostmortemClassification.objects.filter(
            source=ClassificationSource.CONFIRMED
        )
        .exclude(failure_class=None)
        .values_list(
            "postmortem_id", "failure_class__slug", "confirmed_by_id", "confirmed_at"
        )
    }


def primary_supervision(
    *,
    primary: classifier.Outcome | None,
    statement_rows: dict[tuple[int, str], StatementRow],
    classes: Sequence[FailureClass],
    statements_validated: bool,
) -> dict[int, tuple[str | None, float]] | None:
    """The supervised answer for each postmortem's primary class, or None when
    no classifier could validate a threshold (the prototype stage decides).

    A postmortem's primary class is the class a person confirmed its root
    cause or trigger in; else the class the classifier put its root cause in
    (its first statement's when it has none), unless it put the trigger in a
    class of change more surely: then that change, as a person confirming the
    postmortem in a class of change labels its trigger. With neither, the
    whole-text classifier's class where it is sure, or an abstention (the
    prototype, zero-shot and clustering stages then decide).
    """
    whole = primary is not None and primary.threshold is not None
    if not whole and not statements_validated:
        return None
    answers: dict[int, tuple[str | None, float]] = {}
    if whole:
        answers = {p.item_id: (p.slug, p.confidence) for p in primary.predictions}
    slug_of = {c.pk: c.slug for c in classes}
    first: dict[int, tuple[str, StatementRow]] = {}
    for (pk, key), row in sorted(statement_rows.items()):
        if pk not in first or (
            key == ROOT_CAUSE_KEY and first[pk][0] != ROOT_CAUSE_KEY
        ):
            first[pk] = (key, row)
    changes = {c.pk for c in classes if c.axis == ClassAxis.CHANGE}
    for pk, (_, row) in first.items():
        trigger = statement_rows.get((pk, TRIGGER_KEY))
        candidates = [
            r
            for r in (row, trigger)
            if r is not None
            and r.class_id in slug_of
            and (
                r.source == ClassificationSource.CONFIRMED
                or (
                    r.source == ClassificationSource.CLASSIFIER
                    and (r is row or r.class_id in changes)
                )
            )
        ]
        if candidates:
            # A person's word over any guess; then the surer guess.
            confirmed = ClassificationSource.CONFIRMED
            best = max(candidates, key=lambda r: (r.source == confirmed, r.confidence))
            answers[pk] = (slug_of[best.class_id], best.confidence)
    return answers
