"""Insights runs: request, claim, execute (full or one postmortem)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import replace

import numpy as np
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Exists, F, Q
from django.utils import timezone

from insights import classifier, clustering
from insights.embeddings import Embedder, text_hash
from insights.evaluation import known_examples
from insights.models import (
    CauseStatement,
    ClassificationSource,
    InsightRun,
    PostmortemClassification,
    RunKind,
    RunStatus,
    SimilarPostmortem,
)
from insights.services.inputs import (
    _inputs,
    _known_classes,
    cached_vectors,
    class_inputs,
    current_params,
    fingerprint,
    get_embedder,
    postmortem_texts,
    similar_digest,
)
from insights.services.results import existing_rows, save_full_results
from insights.services.statements import (
    classifier_params,
    classify_statements,
    confirmed_postmortem_labels,
    primary_supervision,
    statement_inputs,
    statements_save,
    unchanged_kept,
    validated_kinds,
)
from insights.topk import top_k
from postmortems import extensions
from postmortems.models import Postmortem

logger = logging.getLogger(__name__)

SIMILAR_LIMIT = 5
# Errors worth retrying: the database was briefly locked or unreachable.
TRANSIENT_ERRORS = (OperationalError,)


class RunNotClaimed(Exception):
    """Another worker holds the run, or it already finished."""


@transaction.atomic
def insight_run_request(
    *, user=None, kind: str = RunKind.FULL, postmortem_id: int | None = None
) -> InsightRun:
    """Record a pending run and enqueue it (outbox) once the transaction commits.

    A run of the same kind (for a single run, of the same postmortem) already
    waiting is returned instead of a second one, and sent again: a message
    lost, or refused while another full run ran, cannot strand it. A run
    already running has read its inputs, so a change made now gets a new run;
    a full one starts once the running one finishes (:func:`insight_run_claim`).
    """
    from insights import tasks
    from postmortems import outbox

    note = ""
    if kind == RunKind.FULL:
        live = _fail_stale_full_runs()
        if live:
            note = f"Waiting for run {live[0].pk} to finish."
    # A run still waiting reads its inputs after this change commits, if it
    # cannot be claimed meanwhile: the row stays locked until then (PostgreSQL;
    # SQLite lets one transaction write at a time). One claimed before the
    # lock is no longer pending, and a new run is recorded.
    waiting = (
        InsightRun.objects.select_for_update()
        .filter(kind=kind, status=RunStatus.PENDING)
        .filter(postmortem_id=postmortem_id if kind == RunKind.SINGLE else None)
        .order_by("pk")
        .first()
    )
    if waiting is not None:
        outbox.enqueue(tasks.run_insights, run_id=waiting.pk)
        return waiting
    run = InsightRun.objects.create(
        kind=kind,
        postmortem_id=postmortem_id,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
        model_name=settings.KB_EMBEDDING_MODEL,
        progress_note=note,
    )
    outbox.enqueue(tasks.run_insights, run_id=run.pk)
    return run


def postmortem_changed(*, postmortem_id: int) -> InsightRun | None:
    """Hook for postmortem services: classify one saved postmortem after commit.

    Call it inside the transaction that saves the postmortem (or its
    contributing factors); the task runs only if that transaction commits. An
    edit that leaves the text insights reads unchanged queues nothing.
    """
    text = postmortem_texts([postmortem_id]).get(postmortem_id, "")
    if not text:
        # Nothing left to read: what was found from its old text must go.
        stored = (
            PostmortemClassification.objects.filter(postmortem_id=postmortem_id)
            .exclude(source=ClassificationSource.CONFIRMED)
            .exists()
            or CauseStatement.objects.filter(postmortem_id=postmortem_id).exists()
            or SimilarPostmortem.objects.filter(postmortem_id=postmortem_id).exists()
        )
        if not stored:
            return None
        return insight_run_request(kind=RunKind.SINGLE, postmortem_id=postmortem_id)
    unchanged = PostmortemClassification.objects.filter(
        postmortem_id=postmortem_id,
        model_name=settings.KB_EMBEDDING_MODEL,
        text_hash=text_hash(text),
    ).exists()
    if unchanged:
        return None
    return insight_run_request(kind=RunKind.SINGLE, postmortem_id=postmortem_id)


def _is_stale(run: InsightRun) -> bool:
    if run.status != RunStatus.RUNNING or run.heartbeat_at is None:
        return False
    limit = dt.timedelta(seconds=settings.KB_INSIGHTS_STALE_SECONDS)
    return run.heartbeat_at < timezone.now() - limit


# Serialises the claims of full runs on PostgreSQL (pg_advisory_xact_lock).
FULL_RUN_CLAIM_LOCK = 7_301_001


def insight_run_claim(*, run_id: int) -> bool:
    """Take a pending run, or a running one whose worker stopped beating.

    A full run waits while another full run is running (not stale): two would
    write their results in the order they finish, not the order they read
    their inputs. The one running sends it again when it ends, and the outbox
    relay sends a full run still waiting when none runs (:func:`waiting_runs_send`).
    Claims of full runs take one lock in turn (PostgreSQL), so two workers
    cannot each miss the other's claim; SQLite writes one at a time.
    """
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.KB_INSIGHTS_STALE_SECONDS)
    another_full_running = InsightRun.objects.filter(
        kind=RunKind.FULL, status=RunStatus.RUNNING, heartbeat_at__gte=stale
    ).exclude(pk=run_id)
    kind = InsightRun.objects.filter(pk=run_id).values_list("kind", flat=True).first()
    with transaction.atomic():
        if kind == RunKind.FULL and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s)", [FULL_RUN_CLAIM_LOCK]
                )
        claimed = (
            InsightRun.objects.filter(pk=run_id)
            .filter(
                Q(status=RunStatus.PENDING)
                | Q(status=RunStatus.RUNNING, heartbeat_at__lt=stale)
            )
            .filter(Q(kind=RunKind.SINGLE) | ~Exists(another_full_running))
            .update(
                status=RunStatus.RUNNING,
                started_at=now,
                heartbeat_at=now,
                attempts=F("attempts") + 1,
                progress=0,
                progress_note="",
                error="",
            )
        )
    return claimed == 1


def _fail_stale_full_runs() -> list[InsightRun]:
    """Record full runs whose worker stopped beating as failed; returns the
    full runs still live."""
    live = []
    for running in InsightRun.objects.filter(
        kind=RunKind.FULL, status=RunStatus.RUNNING
    ).order_by("pk"):
        if not _is_stale(running):
            live.append(running)
            continue
        # Its worker died and no retry took it over: say so.
        _finish(
            running,
            RunStatus.FAILED,
            error="The worker running it stopped reporting; a new run replaced it.",
        )
    return live


def _send_waiting_full_run(*, older_than: dt.datetime | None = None) -> int:
    """Send the oldest full run waiting, if any; returns how many were sent."""
    from insights import tasks
    from postmortems import outbox

    waiting = InsightRun.objects.filter(kind=RunKind.FULL, status=RunStatus.PENDING)
    if older_than is not None:
        waiting = waiting.filter(created_at__lt=older_than)
    waiting = waiting.order_by("pk").first()
    if waiting is None:
        return 0
    outbox.enqueue(tasks.run_insights, run_id=waiting.pk)
    return 1


def _left_waiting_since() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.KB_INSIGHTS_STALE_SECONDS)


def waiting_runs_send() -> int:
    """For the outbox relay (every minute): when no full run is live, send the
    oldest one left waiting longer than a run may go without a heartbeat, so
    none is stranded (its worker was killed, its retries ran out, or its
    message was refused while another ran). Fresher ones have their own
    message on the way."""
    if _fail_stale_full_runs():
        return 0
    return _send_waiting_full_run(older_than=_left_waiting_since())


def waiting_runs_count() -> int:
    return InsightRun.objects.filter(
        kind=RunKind.FULL,
        status=RunStatus.PENDING,
        created_at__lt=_left_waiting_since(),
    ).count()


# The outbox relay's entry for insights (registered by InsightsConfig.ready()).
RELAY = extensions.Relay(
    sent_label="{count} waiting insights run(s)",
    pending_label="{count} insights run(s) waiting",
    send=waiting_runs_send,
    pending=waiting_runs_count,
)


def _progress(run: InsightRun, percent: int, note: str) -> None:
    """Record progress and prove the worker is alive (outside the result write)."""
    percent = max(0, min(100, int(percent)))
    InsightRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        progress=percent, progress_note=note[:200], heartbeat_at=timezone.now()
    )


def _finish(run: InsightRun, status: str, **fields) -> None:
    InsightRun.objects.filter(pk=run.pk).update(
        status=status, finished_at=timezone.now(), heartbeat_at=timezone.now(), **fields
    )


def insight_run_execute(*, run_id: int, embedder: Embedder | None = None) -> str:
    """Claim and execute one run; returns its final status.

    Transient database errors put the run back to pending and propagate, so the
    task's retry can claim it again; anything else marks the run failed.
    """
    if not insight_run_claim(run_id=run_id):
        raise RunNotClaimed(run_id)
    run = InsightRun.objects.get(pk=run_id)
    embedder = embedder or get_embedder()
    try:
        if run.kind == RunKind.SINGLE:
            status = _execute_single(run, embedder)
        else:
            status = _execute_full(run, embedder)
    except TRANSIENT_ERRORS:
        InsightRun.objects.filter(pk=run.pk).update(status=RunStatus.PENDING)
        raise
    except Exception as exc:
        logger.exception("Insights run %s failed", run.pk)
        _finish(run, RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
        status = RunStatus.FAILED
    if run.kind == RunKind.FULL:
        _send_waiting_full_run()
    return status


def _last_success(kind: str) -> InsightRun | None:
    return (
        InsightRun.objects.filter(kind=kind, status=RunStatus.SUCCEEDED)
        .order_by("-finished_at", "-pk")
        .first()
    )


def _execute_full(run: InsightRun, embedder: Embedder) -> str:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    # Before the first read: whatever is written from here on may be newer
    # than what this run reads (save_full_results leaves it).
    inputs_read_at = timezone.now()
    params = current_params()
    items = _inputs()
    classes = _known_classes()
    existing = existing_rows()
    confirmed = {
        pk: row.slug
        for pk, row in existing.items()
        if row.source == ClassificationSource.CONFIRMED and row.slug
    }
    hashes = [(pk, text_hash(text)) for pk, text in items]
    statements = statement_inputs()
    statement_hashes = [text_hash(s.text) for s in statements]
    statement_labels = sorted(
        [pk, key, slug]
        # Labels derived from confirmed postmortems are in ``confirmed``.
        for pk, key, slug in CauseStatement.objects.filter(
            source=ClassificationSource.CONFIRMED, from_postmortem=False
        ).values_list("postmortem_id", "key", "failure_class__slug")
    )
    model_params = classifier_params()
    run_fingerprint = fingerprint(
        model_name=embedder.model_name,
        version=embedder.version,
        params={**params.as_dict(), "classifier": model_params.as_dict()},
        classes=classes,
        confirmed=confirmed,
        items=hashes,
        statements=[
            [s.postmortem_id, s.key, h]
            for s, h in zip(statements, statement_hashes, strict=True)
        ],
        statement_labels=statement_labels,
    )
    InsightRun.objects.filter(pk=run.pk).update(
        fingerprint=run_fingerprint,
        model_name=embedder.model_name,
        params=params.as_dict(),
    )
    stored = _results_stored()
    if stored is not None and stored.fingerprint == run_fingerprint:
        _finish(
            run,
            RunStatus.SKIPPED,
            progress=100,
            progress_note=f"Inputs unchanged since run {stored.pk}.",
            counts={"postmortems": len(items)},
        )
        return RunStatus.SKIPPED
    timings["inputs"] = time.perf_counter() - started

    _progress(run, 5, f"Embedding {len(items)} postmortems")
    mark = time.perf_counter()

    def on_progress(done: int, total: int) -> None:
        _progress(run, 5 + 75 * done // max(total, 1), f"Embedded {done} of {total}")

    texts = [text for _, text in items]
    vectors, cache_rows, embedded = cached_vectors(
        texts=texts + [s.text for s in statements],
        embedder=embedder,
        on_progress=on_progress,
        hashes=[h for _, h in hashes] + statement_hashes,
    )
    statement_vectors = vectors[len(texts) :]
    vectors, cache_rows = vectors[: len(texts)], cache_rows[: len(texts)]
    known = class_inputs(classes, embedder)
    timings["embed"] = time.perf_counter() - mark

    _progress(run, 82, "Classifying")
    mark = time.perf_counter()
    ids = [pk for pk, _ in items]
    previous = {
        pk: row.slug
        for pk, row in existing.items()
        if row.source == ClassificationSource.CLUSTER and row.slug
    }
    statement_rows, statement_outcome = classify_statements(
        statements=statements,
        vectors=statement_vectors,
        classes=classes,
        known=known,
        confirmed_postmortems=confirmed_postmortem_labels(),
        zero_shot_threshold=params.zero_shot_threshold,
        params=model_params,
    )
    timings["statements"] = time.perf_counter() - mark

    mark = time.perf_counter()
    in_run = {pk: s for pk, s in confirmed.items() if pk in set(ids)}
    primary = classifier.fit_predict(
        ids=ids,
        vectors=vectors,
        texts=texts,
        labels=in_run,
        examples=known_examples(known),
        params=model_params,
    )
    result = clustering.classify(
        ids=ids,
        vectors=vectors,
        texts=texts,
        classes=known,
        confirmed=in_run,
        previous=previous,
        params=params,
        supervised=primary_supervision(
            primary=primary,
            statement_rows=statement_rows,
            classes=classes,
            statements_validated=statement_outcome.threshold is not None,
        ),
    )
    timings["classify"] = time.perf_counter() - mark

    mark = time.perf_counter()
    texts_digest = similar_digest(
        model_name=embedder.model_name,
        version=embedder.version,
        items=hashes,
        k=SIMILAR_LIMIT,
    )
    # No text changed since the stored results: their similar incidents stand.
    neighbours = None
    if stored is None or stored.similar_digest != texts_digest:
        _progress(run, 90, "Finding similar incidents")
        neighbours = top_similar(vectors, k=SIMILAR_LIMIT)
    timings["similar"] = time.perf_counter() - mark

    _progress(run, 95, "Saving results")
    mark = time.perf_counter()
    counts = save_full_results(
        run=run,
        ids=ids,
        hashes=dict(hashes),
        cache_rows=cache_rows,
        model_name=embedder.model_name,
        result=result,
        neighbours=neighbours,
        existing=existing,
        statement_rows=statement_rows,
        inputs_read_at=inputs_read_at,
        similar_digest=texts_digest,
    )
    timings["save"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    distinct = len({h for _, h in hashes} | set(statement_hashes))
    counts.update(
        postmortems=len(items),
        statements=len(statements),
        embedded=embedded,
        cached=distinct - embedded,
    )
    _finish(
        run,
        RunStatus.SUCCEEDED,
        progress=100,
        progress_note="Done",
        counts=counts,
        timings={k: round(v, 3) for k, v in timings.items()},
        # The report counts an inferred class from this confidence on: only a
        # threshold people's confirmations validated (one the classes' example
        # statements validated decides what is shown, never what counts).
        abstain_threshold=primary.threshold if validated_on_people(primary) else None,
        params={**params.as_dict(), "classifier": model_params.as_dict()},
        validation={
            "postmortems": primary.validation,
            # What a single run classifies a postmortem's whole text with.
            "postmortem_threshold": primary.threshold,
            "statements": statement_outcome.validation,
            "statement_threshold": statement_outcome.threshold,
            # Read by insights.selectors.validated_statement_kinds.
            "statement_kinds": validated_kinds(
                statement_outcome.validation.get("kinds", {}), model_params
            ),
        },
    )
    return RunStatus.SUCCEEDED


def _results_stored() -> InsightRun | None:
    """The full run whose results are stored, while nothing else has written
    any since: else None (then a full run recomputes everything).

    A full run stores its digest of the texts (``similar_digest``) in the
    transaction that writes its results, so the run that wrote the stored
    results is the last to finish among those with a digest, whatever its
    status: one that failed after writing counts, and of two overlapping runs
    the one that wrote last. A single run requested, started or finished since
    it started may have rewritten one postmortem's class and similar incidents
    (one queued before it but executed after it too), so none is trusted then;
    one still running is caught by the first full run after it finishes.
    """
    wrote = (
        InsightRun.objects.filter(kind=RunKind.FULL)
        .exclude(similar_digest="")
        .exclude(finished_at=None)
        .order_by("-finished_at", "-pk")
        .first()
    )
    if wrote is None or wrote.started_at is None:
        return None
    since = wrote.started_at
    # Skipped and failed single runs wrote nothing (a single run writes in
    # one transaction, last).
    singles = (
        InsightRun.objects.filter(kind=RunKind.SINGLE)
        .exclude(status__in=[RunStatus.SKIPPED, RunStatus.FAILED])
        .filter(
            Q(created_at__gte=since)
            | Q(started_at__gte=since)
            | Q(finished_at__gte=since)
        )
    )
    return None if singles.exists() else wrote


def top_similar(vectors: np.ndarray, *, k: int = SIMILAR_LIMIT):
    """For each row, the ``k`` most similar other rows as (index, score) lists."""
    return top_k(vectors, vectors, k=k, exclude_self=True)


def validated_on_people(outcome: classifier.Outcome) -> bool:
    """Whether people's confirmations (not the classes' example statements)
    validated the outcome's threshold."""
    return (
        outcome.threshold is not None
        and outcome.validation.get("validated_on") == "people"
    )


def _postmortem_threshold(last_full: InsightRun | None) -> float | None:
    """The whole-text threshold the last full run validated, on people's
    confirmations or on the example statements (runs before the examples
    stored only the first, as ``abstain_threshold``)."""
    if last_full is None:
        return None
    stored = (last_full.validation or {}).get("postmortem_threshold")
    return stored if stored is not None else last_full.abstain_threshold


def _validated_params(last_full, level: str):
    """Classifier parameters for a single run: what the last full run chose by
    validation (the prior's weight and temperature), without label spreading
    (there is no neighbourhood of one postmortem to spread over)."""
    chosen = ((last_full.validation or {}) if last_full else {}).get(level) or {}
    return replace(
        classifier_params(),
        spread_weight=0.0,
        prior_weight=chosen.get("prior_weight", 0.0),
        prior_temperature=chosen.get("prior_temperature"),
        proto_weight=chosen.get("proto_weight", 0.0),
        proto_temperature=chosen.get("proto_temperature"),
    )


def _single_statements(
    postmortem_id, statements, vectors, embedder, classes, known, last_full
):
    """Classify one postmortem's new or changed statements with the last full
    run's threshold, trained on every confirmed statement (vectors from the
    cache); the others keep their stored rows (see ``unchanged_kept``)."""
    confirmed = list(
        CauseStatement.objects.filter(source=ClassificationSource.CONFIRMED)
        .exclude(postmortem_id=postmortem_id)
        .exclude(failure_class=None)
        .values_list("failure_class__slug", "text")
        .order_by("pk")
    )
    confirmed_vectors, _, _ = cached_vectors(
        texts=[t for _, t in confirmed], embedder=embedder
    )
    threshold = (
        (last_full.validation or {}).get("statement_threshold") if last_full else None
    )
    rows, outcome = classify_statements(
        statements=statements,
        vectors=vectors,
        classes=classes,
        known=known,
        confirmed_postmortems={
            pk: label
            for pk, label in confirmed_postmortem_labels().items()
            if pk == postmortem_id
        },
        zero_shot_threshold=current_params().zero_shot_threshold,
        params=_validated_params(last_full, "statements"),
        # Without a validated threshold the classifier abstains on everything.
        threshold=threshold if threshold is not None else 1.01,
        extra_labelled=[
            (slug, confirmed_vectors[i], text)
            for i, (slug, text) in enumerate(confirmed)
        ],
    )
    return _kept(rows, classes, last_full, embedder), threshold is not None


def _kept(rows, classes, last_full, embedder):
    """``unchanged_kept``, when the stored rows came from this model."""
    if last_full is None or last_full.model_name != embedder.model_name:
        return rows
    return unchanged_kept(rows, {c.pk for c in classes})


def _execute_single(run: InsightRun, embedder: Embedder) -> str:
    """Classify one postmortem and find its similar incidents, quickly."""
    started = time.perf_counter()
    postmortem = Postmortem.objects.filter(pk=run.postmortem_id).first()
    if postmortem is None:
        _finish(run, RunStatus.SKIPPED, progress=100, progress_note="Postmortem gone")
        return RunStatus.SKIPPED
    text = postmortem_texts([postmortem.pk]).get(postmortem.pk, "")
    if not text:
        # As a full run leaves a postmortem with nothing to read: no inferred
        # class, statements or similar incidents (a person's class stays).
        with transaction.atomic():
            rows = PostmortemClassification.objects.filter(postmortem=postmortem)
            rows.exclude(source=ClassificationSource.CONFIRMED).delete()
            # A person's class stays, but no longer says what text it read:
            # the same text coming back is then read afresh, and no other
            # postmortem finds this one similar from a text it no longer has.
            rows.update(text_hash="", embedding=None)
            statements_save(rows={}, run=run, postmortem_ids=[postmortem.pk])
            # Neither its similar incidents nor it among theirs: it says
            # nothing now (their lists are one shorter until the next full run).
            SimilarPostmortem.objects.filter(
                Q(postmortem=postmortem) | Q(similar=postmortem)
            ).delete()
        _finish(
            run,
            RunStatus.SUCCEEDED,
            progress=100,
            progress_note="Nothing to read: what its old text gave is cleared",
            counts={"postmortems": 1, "cleared": True},
        )
        return RunStatus.SUCCEEDED
    statements = statement_inputs([postmortem.pk])
    # One encode call for the postmortem and its statements: each call to the
    # model has a fixed cost, and only texts not cached are encoded at all.
    vectors, rows, embedded = cached_vectors(
        texts=[text] + [s.text for s in statements], embedder=embedder
    )
    vector, cache_row = vectors[0], rows[0]

    others = list(
        PostmortemClassification.objects.filter(model_name=embedder.model_name)
        .exclude(postmortem_id=postmortem.pk)
        .exclude(embedding=None)
        .values_list(
            "postmortem_id", "source", "failure_class__slug", "embedding__vector"
        )
        .order_by("postmortem_id")
    )
    other_ids = [row[0] for row in others]
    matrix = (
        np.vstack([np.frombuffer(bytes(row[3]), dtype=np.float32) for row in others])
        if others
        else np.zeros((0, len(vector)), dtype=np.float32)
    )
    current = (
        PostmortemClassification.objects.filter(postmortem_id=postmortem.pk)
        .select_related("failure_class")
        .first()
    )
    classes = _known_classes()
    known = class_inputs(classes, embedder)
    last_full = _last_success(RunKind.FULL)
    statement_rows, statements_validated = _single_statements(
        postmortem.pk, statements, vectors[1:], embedder, classes, known, last_full
    )
    if current is not None and current.is_confirmed:
        assignment = None
    else:
        confirmed_rows = [
            i
            for i, row in enumerate(others)
            if row[1] == ClassificationSource.CONFIRMED and row[2]
        ]
        previous = {}
        if (
            current
            and current.source == ClassificationSource.CLUSTER
            and current.failure_class
        ):
            previous[postmortem.pk] = current.failure_class.slug
        single_ids = [postmortem.pk] + [other_ids[i] for i in confirmed_rows]
        single_vectors = np.vstack([vector[None, :], matrix[confirmed_rows]])
        confirmed_labels = {other_ids[i]: others[i][2] for i in confirmed_rows}
        outcome = None
        threshold = _postmortem_threshold(last_full)
        if threshold is not None:
            # The last full run validated a threshold: reuse it, retrain on the
            # confirmed postmortems (cheap), no validation here.
            other_texts = postmortem_texts(single_ids[1:])
            outcome = classifier.fit_predict(
                ids=single_ids,
                vectors=single_vectors,
                texts=[text] + [other_texts.get(pk, "") for pk in single_ids[1:]],
                labels=confirmed_labels,
                examples=known_examples(known),
                params=_validated_params(last_full, "postmortems"),
                threshold=threshold,
            )
        supervised = primary_supervision(
            primary=outcome,
            statement_rows=statement_rows,
            classes=classes,
            statements_validated=statements_validated,
        )
        result = clustering.classify(
            ids=single_ids,
            vectors=single_vectors,
            texts=[text] + [""] * len(confirmed_rows),
            classes=known,
            confirmed=confirmed_labels,
            previous=previous,
            params=current_params(),
            supervised=supervised,
        )
        assignment = next(a for a in result.assignments if a.item_id == postmortem.pk)

    # Rows are in postmortem id order, so ties go to the older postmortem.
    best = top_k(vector[None, :], matrix, k=SIMILAR_LIMIT)[0]
    by_slug = {c.slug: c for c in classes}
    with transaction.atomic():
        fields = {
            "model_name": embedder.model_name,
            "text_hash": cache_row.text_hash,
            "embedding": cache_row,
        }
        # Read again, locked: a person who confirmed a class while this run
        # worked wins over what it computed.
        now = (
            PostmortemClassification.objects.select_for_update()
            .filter(postmortem=postmortem)
            .first()
        )
        if assignment is not None and not (now is not None and now.is_confirmed):
            fields.update(
                failure_class=by_slug.get(assignment.slug) if assignment.slug else None,
                source=assignment.source or ClassificationSource.NONE,
                confidence=assignment.confidence,
            )
        PostmortemClassification.objects.update_or_create(
            postmortem=postmortem, defaults=fields
        )
        # Kept rows read again inside the write: a full run may have written
        # since they were read.
        statement_rows = _kept(statement_rows, classes, last_full, embedder)
        statements_save(rows=statement_rows, run=run, postmortem_ids=[postmortem.pk])
        SimilarPostmortem.objects.filter(postmortem=postmortem).delete()
        SimilarPostmortem.objects.bulk_create(
            [
                SimilarPostmortem(
                    postmortem=postmortem,
                    similar_id=other_ids[j],
                    score=round(score, 6),
                    rank=r,
                )
                for r, (j, score) in enumerate(best, start=1)
            ]
        )
    _finish(
        run,
        RunStatus.SUCCEEDED,
        progress=100,
        progress_note="Done",
        model_name=embedder.model_name,
        counts={"postmortems": 1, "embedded": embedded, "compared": len(other_ids)},
        timings={"total": round(time.perf_counter() - started, 3)},
    )
    return RunStatus.SUCCEEDED
