"""People's curation of classes: confirm, create, accept, rename, merge, split."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from insights.models import (
    CauseStatement,
    ClassAxis,
    ClassificationSource,
    ClassOrigin,
    ClassStatus,
    FailureClass,
    PostmortemClassification,
    clean_examples,
)
from insights.services.inputs import class_reading
from insights.services.runs import insight_run_request
from insights.services.statements import (
    confirmation_record,
    confirmation_statement_keys,
)
from postmortems.models import Postmortem

logger = logging.getLogger(__name__)


@transaction.atomic
def postmortem_class_confirm(
    *,
    postmortem: Postmortem,
    failure_class: FailureClass,
    user,
    retrain: bool = True,
) -> PostmortemClassification:
    """A person confirms a postmortem's class; it wins over every computed one.

    Each run derives a label for one of the postmortem's statements from it
    (its trigger for a class of change, its root cause otherwise), and a full
    run is queued to retrain the classifier on it; that run records, on a
    :class:`ConfirmationEffect` naming that statement, how many
    classifications the answer changed.
    """
    if failure_class.status == ClassStatus.MERGED and failure_class.merged_into:
        failure_class = failure_class.merged_into
    classification, _ = PostmortemClassification.objects.update_or_create(
        postmortem=postmortem,
        defaults={
            "failure_class": failure_class,
            "source": ClassificationSource.CONFIRMED,
            "confidence": 1.0,
            "confirmed_by": user,
            "confirmed_at": timezone.now(),
        },
    )
    if retrain:
        confirmation_record(
            postmortem_ids=[postmortem.pk],
            statement_key=confirmation_statement_keys([postmortem.pk], failure_class)[
                postmortem.pk
            ],
            failure_class=failure_class,
            user=user,
        )
    return classification


def classes_changed(*, user=None) -> None:
    """The classes the classifier reads changed: queue a full run (one already
    waiting is reused), sent once the calling transaction commits, so the
    report and class pages follow the change instead of waiting for the
    nightly run."""
    insight_run_request(user=user)


def _unique_slug(base: str) -> str:
    base = slugify(base)[:70] or "class"
    slug, n = base, 2
    while FailureClass.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _axis(axis: str | None, default: str) -> str:
    return axis if axis in ClassAxis.values else default


@transaction.atomic
def failure_class_create(
    *, name: str, description: str = "", axis: str = ClassAxis.MECHANISM, user=None
) -> FailureClass:
    """A person adds a class of their own; it is accepted from the start.

    It names a mechanism unless the person says it names a change (``axis``).
    A full run is queued: every postmortem may now belong to it.
    """
    failure_class = FailureClass.objects.create(
        slug=_unique_slug(name),
        name=name.strip(),
        description=description.strip(),
        status=ClassStatus.ACCEPTED,
        origin=ClassOrigin.PERSON,
        axis=_axis(axis, ClassAxis.MECHANISM),
    )
    classes_changed(user=user)
    return failure_class


@transaction.atomic
def failure_class_accept(
    *,
    failure_class: FailureClass,
    name: str = "",
    description: str = "",
    axis: str | None = None,
    user=None,
) -> FailureClass:
    """Accept a proposed class, optionally naming, describing it and saying
    its axis (it keeps its own otherwise).

    The slug stays. Without a description, its distinctive terms stand in.
    The classifier now reads it as a person's class: a full run is queued.
    """
    failure_class.status = ClassStatus.ACCEPTED
    failure_class.axis = _axis(axis, failure_class.axis)
    if name.strip():
        failure_class.name = name.strip()
    failure_class.description = (
        description.strip()
        or failure_class.description
        or (
            "Postmortems about " + ", ".join(failure_class.terms) + "."
            if failure_class.terms
            else ""
        )
    )
    failure_class.save()
    classes_changed(user=user)
    return failure_class


@transaction.atomic
def failure_class_rename(
    *,
    failure_class: FailureClass,
    name: str,
    description: str | None = None,
    axis: str | None = None,
    examples: Sequence[str] | None = None,
    user=None,
) -> FailureClass:
    """Rename (and optionally redescribe, give new example statements, or
    change the axis of) a class; its slug never changes. Examples beyond the
    limits are a ValidationError (models.clean_examples), nothing saved.

    A change to what the classifier reads (:func:`class_reading`: the name
    too, embedded with the description) queues a full run, as a confirmation
    does: it learns from them at once."""
    read = class_reading(failure_class)
    failure_class.name = name.strip() or failure_class.name
    if description is not None:
        failure_class.description = description.strip()
    if examples is not None:
        failure_class.examples = clean_examples(examples)
    failure_class.axis = _axis(axis, failure_class.axis)
    failure_class.save()
    if read != class_reading(failure_class):
        classes_changed(user=user)
    return failure_class


@transaction.atomic
def failure_class_merge(
    *, source: FailureClass, target: FailureClass, user=None
) -> FailureClass:
    """Move every postmortem of ``source`` into ``target``; ``source`` is retired.

    A class of change merged in makes ``target`` one: its confirmations keep
    labelling triggers, and triggers keep being read for it. A full run is
    queued to retrain on the merged classes.
    """
    if source.pk == target.pk:
        raise ValueError("A class cannot be merged into itself.")
    if source.axis == ClassAxis.CHANGE and target.axis != ClassAxis.CHANGE:
        target.axis = ClassAxis.CHANGE
    # The examples that taught the classifier the source now teach the target.
    target.examples = clean_examples(
        [*target.examples, *source.examples], truncate=True
    )
    target.save(update_fields=["axis", "examples", "updated_at"])
    PostmortemClassification.objects.filter(failure_class=source).update(
        failure_class=target
    )
    CauseStatement.objects.filter(failure_class=source).update(failure_class=target)
    source.status = ClassStatus.MERGED
    source.merged_into = target
    source.centroid = None
    source.save()
    classes_changed(user=user)
    return target


@transaction.atomic
def failure_class_split(
    *, failure_class: FailureClass, postmortem_ids: Sequence[int], name: str, user
) -> FailureClass:
    """Move the chosen postmortems of a class into a new accepted class.

    The moved postmortems are confirmed in the new class, so the next run
    keeps the split and learns from it. The new class names what the class it
    was split from names (its axis).
    """
    new_class = failure_class_create(
        name=name,
        axis=failure_class.axis if failure_class is not None else ClassAxis.MECHANISM,
        user=user,
    )
    moved = PostmortemClassification.objects.filter(
        failure_class=failure_class, postmortem_id__in=list(postmortem_ids)
    )
    # A split is a confirmation of each moved postmortem: it teaches the
    # classifier, and the run it queues records what it changed.
    by_key: dict[str, list[int]] = {}
    keys = confirmation_statement_keys(
        list(moved.order_by("postmortem_id").values_list("postmortem_id", flat=True)),
        new_class,
    )
    for pk, key in keys.items():
        by_key.setdefault(key, []).append(pk)
    for key, ids in sorted(by_key.items()):
        confirmation_record(
            postmortem_ids=ids, statement_key=key, failure_class=new_class, user=user
        )
    moved.update(
        failure_class=new_class,
        source=ClassificationSource.CONFIRMED,
        confidence=1.0,
        confirmed_by=user,
        confirmed_at=timezone.now(),
    )
    return new_class


def demo_classes_confirm(*, loaded: Sequence) -> int:
    """Record the demo corpus's confirmed classes (``class_confirmed``)."""
    by_slug = {c.slug: c for c in FailureClass.objects.all()}
    count = 0
    for item in loaded:
        failure_class = by_slug.get(getattr(item, "failure_class", ""))
        if not getattr(item, "class_confirmed", False) or failure_class is None:
            continue
        postmortem = Postmortem.objects.select_related("author").get(
            pk=item.postmortem_id
        )
        current = PostmortemClassification.objects.filter(postmortem=postmortem).first()
        if current is not None and current.is_confirmed:
            continue
        # The demo loader runs the pipeline itself once everything is loaded.
        postmortem_class_confirm(
            postmortem=postmortem,
            failure_class=failure_class,
            user=postmortem.author,
            retrain=False,
        )
        count += 1
    return count
