"""Write a full run's results: only the classifications, similar links and
statements that changed, and the classes the clustering proposed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from insights.models import (
    ClassificationSource,
    ClassOrigin,
    ClassStatus,
    FailureClass,
    InsightRun,
    PostmortemClassification,
    RunKind,
    RunStatus,
    SimilarPostmortem,
)
from insights.services.statements import confirmation_effects_settle, statements_save


@dataclass(frozen=True)
class ExistingRow:
    """A stored classification, as plain values for comparing with a new one."""

    slug: str | None
    class_id: int | None
    source: str
    confidence: float
    model_name: str
    text_hash: str
    embedding_id: int | None
    confirmed_by_id: int | None
    confirmed_at: dt.datetime | None


def existing_rows() -> dict[int, ExistingRow]:
    rows = PostmortemClassification.objects.values_list(
        "postmortem_id",
        "failure_class__slug",
        "failure_class_id",
        "source",
        "confidence",
        "model_name",
        "text_hash",
        "embedding_id",
        "confirmed_by_id",
        "confirmed_at",
    )
    return {
        pk: ExistingRow(slug, class_id, source, round(confidence, 6), *rest)
        for pk, slug, class_id, source, confidence, *rest in rows
    }


@transaction.atomic
def save_full_results(
    *,
    run,
    ids,
    hashes,
    cache_rows,
    model_name,
    result,
    neighbours,
    existing,
    statement_rows=None,
    inputs_read_at=None,
    similar_digest="",
) -> dict:
    """Write a run's results in one transaction: all or nothing.

    ``neighbours`` None: the stored similar incidents stand (no text changed
    since the run that found them). ``similar_digest`` (the texts the results
    come from) is stored on the run in the same transaction, so the stored
    results always name the run that wrote them."""
    by_slug = {c.slug: c for c in FailureClass.objects.all()}
    created = 0
    for proposed in result.proposed:
        failure_class = by_slug.get(proposed.slug)
        if failure_class is None:
            failure_class, made = FailureClass.objects.get_or_create(
                slug=proposed.slug,
                defaults={
                    "name": proposed.name,
                    "status": ClassStatus.PROPOSED,
                    "origin": ClassOrigin.CLUSTER,
                    "terms": list(proposed.terms),
                    "centroid": proposed.centroid.tobytes(),
                },
            )
            created += int(made)
            by_slug[proposed.slug] = failure_class
        elif failure_class.is_proposed:
            FailureClass.objects.filter(pk=failure_class.pk).update(
                centroid=proposed.centroid.tobytes()
            )

    # A person who confirmed a class after the run read its inputs wins: the
    # run's row comes from before that answer (the confirmation queued the
    # run that learns from it).
    answered = {
        pk
        for pk, class_id, confirmed_at in PostmortemClassification.objects.filter(
            source=ClassificationSource.CONFIRMED, failure_class__isnull=False
        ).values_list("postmortem_id", "failure_class_id", "confirmed_at")
        if (pk not in existing)
        or (existing[pk].source, existing[pk].class_id, existing[pk].confirmed_at)
        != (ClassificationSource.CONFIRMED, class_id, confirmed_at)
    }
    # Nor does it touch a postmortem a single run read or wrote meanwhile
    # (from a newer text, or with nothing left to read): not its class, its
    # statements or its similar incidents.
    touched = single_runs_since(inputs_read_at)
    answered |= touched

    # Only rows that change are written: a nightly run over unchanged
    # postmortems touches almost nothing.
    index_of = {pk: i for i, pk in enumerate(ids)}
    wanted: dict[int, tuple] = {}
    for assignment in result.assignments:
        pk = assignment.item_id
        if pk in answered:
            continue
        row = existing.get(pk)
        failure_class = by_slug.get(assignment.slug) if assignment.slug else None
        if _persons(row):
            class_id, source, confidence = row.class_id, row.source, row.confidence
        else:
            class_id = failure_class.pk if failure_class else None
            source = assignment.source or ClassificationSource.NONE
            confidence = assignment.confidence
        wanted[pk] = ExistingRow(
            slug=assignment.slug
            if source != ClassificationSource.CONFIRMED
            else row.slug,
            class_id=class_id,
            source=source,
            confidence=round(float(confidence), 6),
            model_name=model_name,
            text_hash=hashes[pk],
            embedding_id=cache_rows[index_of[pk]].pk,
            confirmed_by_id=row.confirmed_by_id if row else None,
            confirmed_at=row.confirmed_at if row else None,
        )
    stale = [
        pk
        for pk, row in existing.items()
        if pk not in wanted and not _persons(row) and pk not in answered
    ]
    changed = [pk for pk, row in wanted.items() if existing.get(pk) != row]
    # A person's class on a postmortem with nothing left to read stays, but no
    # longer says what text it read (see runs._execute_single).
    emptied = [
        pk
        for pk, row in existing.items()
        if pk not in wanted
        and _persons(row)
        and (row.text_hash or row.embedding_id)
        and pk not in answered
    ]
    PostmortemClassification.objects.filter(postmortem_id__in=emptied).update(
        text_hash="", embedding=None
    )
    # Rows read as computed are deleted only while still computed: on
    # PostgreSQL a confirmation committed meanwhile is re-checked here, kept,
    # and the run's row for it dropped (ignore_conflicts below).
    was_confirmed = [
        pk
        for pk in stale + changed
        if pk in existing and existing[pk].source == ClassificationSource.CONFIRMED
    ]
    PostmortemClassification.objects.filter(postmortem_id__in=stale + changed).filter(
        Q(postmortem_id__in=was_confirmed)
        | ~Q(source=ClassificationSource.CONFIRMED)
        | Q(failure_class__isnull=True)
    ).delete()
    PostmortemClassification.objects.bulk_create(
        [
            PostmortemClassification(
                postmortem_id=pk,
                failure_class_id=wanted[pk].class_id,
                source=wanted[pk].source,
                confidence=wanted[pk].confidence,
                model_name=model_name,
                text_hash=wanted[pk].text_hash,
                embedding_id=wanted[pk].embedding_id,
                confirmed_by_id=wanted[pk].confirmed_by_id,
                confirmed_at=wanted[pk].confirmed_at,
            )
            for pk in changed
        ],
        batch_size=500,
        ignore_conflicts=True,
    )

    redo = [] if neighbours is None else _similar_save(ids, neighbours, leave=touched)
    # A postmortem a single run found with nothing left to read is no one's
    # similar incident, whatever this run read of it.
    emptied_since = touched - set(
        PostmortemClassification.objects.filter(postmortem_id__in=touched)
        .exclude(text_hash="")
        .values_list("postmortem_id", flat=True)
    )
    SimilarPostmortem.objects.filter(similar_id__in=emptied_since).delete()
    # With the results, so that the run that wrote the stored ones is known.
    InsightRun.objects.filter(pk=run.pk).update(similar_digest=similar_digest)
    moved_statements = 0
    if statement_rows is not None:
        moved_statements = statements_save(rows=statement_rows, run=run, leave=touched)
    moved_postmortems = sum(
        1
        for pk in changed
        if pk in existing
        and existing[pk].class_id != wanted[pk].class_id
        and wanted[pk].source != ClassificationSource.CONFIRMED
    )
    if inputs_read_at is not None:
        confirmation_effects_settle(
            run=run,
            inputs_read_at=inputs_read_at,
            changed=moved_statements,
            changed_postmortems=moved_postmortems,
        )
    return {
        "statements_moved": moved_statements,
        "postmortems_moved": moved_postmortems,
        "rows_written": len(changed),
        "similar_rewritten": len(redo),
        "similar_kept": neighbours is None,
        "classified": sum(1 for a in result.assignments if a.slug),
        "unassigned": sum(1 for a in result.assignments if not a.slug),
        "classes": len({a.slug for a in result.assignments if a.slug}),
        "proposed_created": created,
    }


def _persons(row: ExistingRow | None) -> bool:
    """A person's class that still stands: deleting a class in the admin
    leaves its confirmations with none, and runs classify them again."""
    return (
        row is not None
        and row.source == ClassificationSource.CONFIRMED
        and row.class_id is not None
    )


def single_runs_since(read_at: dt.datetime | None) -> set[int]:
    """Postmortems whose single run was running, or started or finished, since
    a full run began reading its inputs at ``read_at``: what it read of them
    may be older than what is stored."""
    if read_at is None:
        return set()
    return set(
        InsightRun.objects.filter(kind=RunKind.SINGLE)
        .filter(
            Q(status=RunStatus.RUNNING)
            | Q(started_at__gte=read_at)
            | Q(finished_at__gte=read_at)
        )
        .exclude(postmortem_id=None)
        .values_list("postmortem_id", flat=True)
    )


def _similar_save(ids, neighbours, *, leave=frozenset()) -> list[int]:
    """Rewrite the similar incidents of the postmortems whose list changed,
    but those in ``leave``; returns their ids."""
    current: dict[int, list[tuple[int, float]]] = {}
    for pk, similar_id, score in SimilarPostmortem.objects.order_by(
        "postmortem_id", "rank"
    ).values_list("postmortem_id", "similar_id", "score"):
        current.setdefault(pk, []).append((similar_id, score))
    links = {
        ids[i]: [(ids[j], round(score, 6)) for j, score in row]
        for i, row in enumerate(neighbours)
    }
    redo = [
        pk
        for pk in set(current) | set(links)
        if current.get(pk) != links.get(pk) and pk not in leave
    ]
    SimilarPostmortem.objects.filter(postmortem_id__in=redo).delete()
    SimilarPostmortem.objects.bulk_create(
        [
            SimilarPostmortem(postmortem_id=pk, similar_id=j, score=score, rank=r)
            for pk in sorted(redo)
            for r, (j, score) in enumerate(links.get(pk, []), start=1)
        ],
        batch_size=1000,
    )
    return redo
