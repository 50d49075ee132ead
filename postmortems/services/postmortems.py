"""Postmortem documents: creation, edits with optimistic locking, the review
workflow (draft -> in review -> approved -> published) and comments.

Every write saves the postmortem through the model so django-simple-history keeps
a version with who and why; every change of state is a WorkflowEvent.
"""

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from postmortems import extensions, permissions, selectors, signals
from postmortems.models import (
    Comment,
    ContributingFactor,
    Hypothesis,
    HypothesisStatus,
    Incident,
    Postmortem,
    PostmortemStatus,
    PostmortemTemplate,
    Role,
    WorkflowEvent,
)
from postmortems.services.drafting import postmortem_fill_draft

logger = logging.getLogger(__name__)


class PostmortemConflict(Exception):
    """The save was based on an older version; nothing was written."""

    def __init__(self, current: Postmortem, base_version: int):
        super().__init__(
            f"Postmortem {current.pk} is at version {current.version}, "
            f"the save was based on version {base_version}."
        )
        self.current = current
        self.base_version = base_version


class BlameNotAcknowledged(Exception):
    """Submitting with blame hits needs an explicit acknowledgement."""

    def __init__(self, hits: list[dict]):
        super().__init__(f"{len(hits)} blameless-language warning(s) not acknowledged.")
        self.hits = hits


@dataclass
class FactorInput:
    kind: str
    description: str
    id: int | None = None


@dataclass
class HypothesisInput:
    track: str
    text: str
    status: str = HypothesisStatus.OPEN
    test: str = ""
    settled_by: object | None = None  # a user
    settled_at: dt.datetime | None = None
    id: int | None = None


@dataclass
class PostmortemContent:
    """Everything the editor changes in one save."""

    sections: dict[str, str]
    five_whys: list[str] = field(default_factory=list)
    impact_users_affected: int | None = None
    impact_revenue_usd: Decimal | None = None
    impact_error_budget_pct: Decimal | None = None
    impact_regions: list[str] = field(default_factory=list)
    # None leaves the contributing factors, investigation log or reviewers as
    # they are (the API does not carry the first two).
    contributing_factors: list[FactorInput] | None = None
    hypotheses: list[HypothesisInput] | None = None
    reviewers: Sequence | None = None


def _document_state(postmortem: Postmortem) -> tuple:
    """Everything a save can change, to tell a real edit from a resubmission."""
    return (
        # A section missing and an empty one read the same.
        {key: text for key, text in (postmortem.sections or {}).items() if text},
        postmortem.five_whys,
        postmortem.impact_users_affected,
        postmortem.impact_revenue_usd,
        postmortem.impact_error_budget_pct,
        postmortem.impact_regions,
        sorted(postmortem.reviewers.values_list("pk", flat=True)),
        list(
            postmortem.contributing_factors.order_by("position", "pk").values_list(
                "kind", "description"
            )
        ),
        list(
            postmortem.hypotheses.order_by("pk").values_list(
                "track", "text", "status", "test", "settled_by", "settled_at"
            )
        ),
    )


def _save(postmortem: Postmortem, actor, reason: str) -> None:
    """Save through the model so the history row names who and why, and keeps
    the lists (factors, investigation log) as they are for version diffs."""
    postmortem.list_parts = (
        selectors.postmortem_list_parts(postmortem=postmortem)
        if postmortem.pk
        else {"factors": [], "hypotheses": []}
    )
    postmortem._history_user = actor
    postmortem._change_reason = reason
    postmortem.save()


def postmortem_version_record(*, postmortem: Postmortem, actor, reason: str) -> None:
    """Record the postmortem's newest version as it stands, its contributing
    factors and investigation log included: for writers that build a postmortem
    from parts (the importer, the demo loader), rows first, version last."""
    _save(postmortem, actor, reason)


def _announce_reviewers(postmortem: Postmortem, user_ids: list[int], actor) -> None:
    if user_ids:
        signals.send_on_commit(
            signals.postmortem_reviewers_added,
            sender=Postmortem,
            postmortem_id=postmortem.pk,
            user_ids=user_ids,
            actor_id=getattr(actor, "pk", None),
        )


def _check_reviewers(reviewers: Iterable, *, author, incident: Incident) -> list:
    """The named reviewers, if each may review: the one rule for pages and API.

    A reviewer approves, so must hold the reviewer role, is never the author, and
    belongs to the incident's team (or is an admin): naming someone grants them
    the private draft, so it must not be a way to show it to another team.
    """
    reviewers = list(reviewers)
    for reviewer in reviewers:
        name = reviewer.get_full_name() or reviewer.get_username()
        if reviewer.pk == author.pk:
            raise ValidationError(
                {"reviewers": "The author cannot review their own postmortem."}
            )
        if not permissions.has_role(reviewer, Role.REVIEWER):
            raise ValidationError(
                {"reviewers": f"{name} is not a reviewer and cannot approve."}
            )
        if not permissions.is_admin(reviewer) and (
            incident.team_id not in permissions.team_ids(reviewer)
        ):
            raise ValidationError(
                {
                    "reviewers": f"{name} is not on {incident.team}: reviewers come "
                    "from the incident's team (or are admins)."
                }
            )
    return reviewers


@transaction.atomic
def postmortem_create(
    *,
    incident: Incident,
    template: PostmortemTemplate,
    author,
    reviewers: Iterable = (),
    content: PostmortemContent | None = None,
    draft: bool = False,
) -> Postmortem:
    """Start the incident's postmortem as a draft written by ``author``.

    With ``content``, its first text (the API can send it with the start). With
    ``draft``, its sections, factors and investigation log start from what the
    incident recorded (postmortems.drafting), marked as drafted.
    """
    if not permissions.can_create_postmortem(author, incident):
        raise PermissionDenied(
            "Only editors of the incident's team start its postmortem."
        )
    if Postmortem.objects.filter(incident=incident).exists():
        raise ValidationError("This incident already has a postmortem.")
    reviewers = _check_reviewers(reviewers, author=author, incident=incident)
    postmortem = Postmortem(
        incident=incident,
        template=template,
        author=author,
        status=PostmortemStatus.DRAFT,
        sections={key: "" for key in template.section_keys},
    )
    if content is not None:
        _apply_document(postmortem, content)
    _save(postmortem, author, "Started the postmortem")
    postmortem.reviewers.set(reviewers)
    _announce_reviewers(postmortem, [r.pk for r in reviewers], author)
    if draft:
        postmortem_fill_draft(postmortem=postmortem, actor=author)
    else:
        # Its first text: sent with the start, or its incident's confirmed
        # findings' root causes (a draft tells the hooks itself).
        extensions.postmortem_text_changed(postmortem_id=postmortem.pk)
    logger.info("Postmortem %s started for incident %s", postmortem.pk, incident.pk)
    return postmortem


def _apply_document(postmortem: Postmortem, content: PostmortemContent) -> None:
    """Set the document's own fields (sections, whys, impact) from ``content``."""
    sections = dict(postmortem.sections or {})
    for key in postmortem.template.section_keys:
        sections[key] = (content.sections.get(key) or "").replace("\r\n", "\n")
    postmortem.sections = sections
    postmortem.five_whys = [why.strip() for why in content.five_whys if why.strip()]
    postmortem.impact_users_affected = content.impact_users_affected
    postmortem.impact_revenue_usd = content.impact_revenue_usd
    postmortem.impact_error_budget_pct = content.impact_error_budget_pct
    postmortem.impact_regions = [
        region.strip() for region in content.impact_regions if region.strip()
    ]


def _sync_factors(postmortem: Postmortem, rows: list[FactorInput]) -> None:
    existing = {factor.pk: factor for factor in postmortem.contributing_factors.all()}
    keep = []
    for position, row in enumerate(rows):
        factor = existing.get(row.id) or ContributingFactor(postmortem=postmortem)
        if (factor.kind, factor.description) != (row.kind, row.description):
            factor.drafted_from = ""  # a person's words now, not the draft's
        factor.kind = row.kind
        factor.description = row.description
        factor.position = position
        factor.full_clean(exclude=["postmortem"])
        factor.save()
        keep.append(factor.pk)
    postmortem.contributing_factors.exclude(pk__in=keep).delete()


def _sync_hypotheses(
    postmortem: Postmortem, rows: list[HypothesisInput], actor
) -> None:
    existing = {hyp.pk: hyp for hyp in postmortem.hypotheses.all()}
    keep = []
    for row in rows:
        hyp = existing.get(row.id) or Hypothesis(postmortem=postmortem)
        if (hyp.text, hyp.test, hyp.status) != (row.text, row.test, row.status):
            hyp.drafted_from = ""
        hyp.track = row.track
        hyp.text = row.text
        hyp.status = row.status
        hyp.test = row.test
        hyp.settled_by = row.settled_by
        if not (
            # The editor shows minutes: an unchanged minute keeps its seconds.
            row.settled_at
            and hyp.settled_at
            and row.settled_at == hyp.settled_at.replace(second=0, microsecond=0)
        ):
            hyp.settled_at = row.settled_at
        if row.status != HypothesisStatus.OPEN:
            # Settling a hypothesis records who and when unless the writer said.
            hyp.settled_by = hyp.settled_by or actor
            hyp.settled_at = hyp.settled_at or timezone.now()
        hyp.full_clean(exclude=["postmortem"])
        hyp.save()
        keep.append(hyp.pk)
    postmortem.hypotheses.exclude(pk__in=keep).delete()


@transaction.atomic
def postmortem_update(
    *,
    postmortem: Postmortem,
    actor,
    base_version: int,
    content: PostmortemContent,
) -> Postmortem:
    """Save the editor's content; raise PostmortemConflict if someone saved first.

    A save that changes nothing keeps the version: no history row, no re-reading
    by insights.
    """
    current = (
        Postmortem.objects.select_for_update()
        .select_related("incident", "template")
        .get(pk=postmortem.pk)
    )
    if not permissions.can_edit_postmortem(actor, current):
        raise PermissionDenied("You cannot edit this postmortem.")
    if current.version != base_version:
        # Nothing is written: the caller shows both versions side by side.
        raise PostmortemConflict(current, base_version)

    unchanged = _document_state(current)
    _apply_document(current, content)
    if content.reviewers is not None:
        before = set(current.reviewers.values_list("pk", flat=True))
        reviewers = _check_reviewers(
            content.reviewers, author=current.author, incident=current.incident
        )
        current.reviewers.set(reviewers)
        _announce_reviewers(
            current, [r.pk for r in reviewers if r.pk not in before], actor
        )
    if content.contributing_factors is not None:
        _sync_factors(current, content.contributing_factors)
    if content.hypotheses is not None:
        _sync_hypotheses(current, content.hypotheses, actor)
    if _document_state(current) == unchanged:
        return current
    current.version += 1
    # Saved last, so the history row is newer than the factor and hypothesis rows.
    _save(current, actor, "Edited")
    # Inside the transaction, so work recorded for the edit (insights re-reading
    # the root cause) commits or rolls back with it.
    extensions.postmortem_text_changed(postmortem_id=current.pk)
    return current


def _transition(
    *,
    postmortem: Postmortem,
    actor,
    allowed_from: Sequence[str],
    to_status: str,
    reason: str,
    check=None,
    **event_fields,
) -> WorkflowEvent:
    current = (
        Postmortem.objects.select_for_update()
        .select_related("incident", "template")
        .get(pk=postmortem.pk)
    )
    if current.status not in allowed_from:
        raise ValidationError(
            f"The postmortem is {current.get_status_display().lower()}; it cannot go "
            f"to {PostmortemStatus(to_status).label.lower()} from there."
        )
    if check is not None:
        check(current)
    event = WorkflowEvent.objects.create(
        postmortem=current,
        from_status=current.status,
        to_status=to_status,
        actor=actor,
        **event_fields,
    )
    current.status = to_status
    if to_status == PostmortemStatus.PUBLISHED:
        current.published_at = timezone.now()
    current.version += 1
    _save(current, actor, reason)
    # The caller's object reflects the new state.
    postmortem.status = current.status
    postmortem.version = current.version
    postmortem.published_at = current.published_at
    signals.send_on_commit(
        signals.postmortem_status_changed,
        sender=Postmortem,
        postmortem_id=current.pk,
        from_status=event.from_status,
        to_status=to_status,
        actor_id=getattr(actor, "pk", None),
        comment=event.comment,
        event_id=event.pk,
    )
    logger.info(
        "Postmortem %s: %s -> %s by %s",
        current.pk,
        event.from_status,
        to_status,
        actor.pk,
    )
    return event


@transaction.atomic
def postmortem_submit(
    *, postmortem: Postmortem, actor, acknowledge_blame: bool = False, comment: str = ""
) -> WorkflowEvent:
    """Send a draft to its reviewers; blame hits need ``acknowledge_blame``."""
    current = Postmortem.objects.select_for_update().get(pk=postmortem.pk)
    if not permissions.can_edit_postmortem(actor, current):
        raise PermissionDenied("You cannot submit this postmortem.")
    if current.status == PostmortemStatus.DRAFT and not (
        current.reviewers.exclude(pk=current.author_id).exists()
    ):
        raise ValidationError("Name at least one reviewer before submitting.")
    hits = selectors.postmortem_blame_hits(postmortem=current)
    if hits and not acknowledge_blame:
        raise BlameNotAcknowledged(hits)
    return _transition(
        postmortem=postmortem,
        actor=actor,
        allowed_from=[PostmortemStatus.DRAFT],
        to_status=PostmortemStatus.IN_REVIEW,
        reason="Submitted for review",
        comment=comment.strip(),
        # What the author saw and chose to keep, for the reviewers and the record.
        blame_acknowledged=bool(hits),
        blame_hits=[
            {key: hit[key] for key in ("field", "field_label", "rule", "label", "text")}
            for hit in hits
        ],
    )


def _require_reviewer(actor):
    def check(current: Postmortem) -> None:
        if not permissions.can_review_postmortem(actor, current):
            raise PermissionDenied(
                "Only a named reviewer who is not the author can do this."
            )

    return check


@transaction.atomic
def postmortem_approve(
    *, postmortem: Postmortem, actor, comment: str = ""
) -> WorkflowEvent:
    """A named reviewer (not the author) approves a postmortem in review.

    Every registered approval check must pass (actions: the coverage policy,
    e.g. SEV0/SEV1 need a detection and a prevention item).
    """
    require_reviewer = _require_reviewer(actor)

    def check(current: Postmortem) -> None:
        require_reviewer(current)
        for approval_check in extensions.approval_checks:
            approval_check(postmortem=current)

    return _transition(
        postmortem=postmortem,
        actor=actor,
        allowed_from=[PostmortemStatus.IN_REVIEW],
        to_status=PostmortemStatus.APPROVED,
        reason="Approved",
        check=check,
        comment=comment.strip(),
    )


@transaction.atomic
def postmortem_send_back(
    *, postmortem: Postmortem, actor, comment: str
) -> WorkflowEvent:
    """A reviewer returns the postmortem to draft, saying what to change."""
    if not (comment or "").strip():
        raise ValidationError({"comment": "Say what needs to change."})
    return _transition(
        postmortem=postmortem,
        actor=actor,
        allowed_from=[PostmortemStatus.IN_REVIEW, PostmortemStatus.APPROVED],
        to_status=PostmortemStatus.DRAFT,
        reason="Sent back to draft",
        check=_require_reviewer(actor),
        comment=comment.strip(),
    )


@transaction.atomic
def postmortem_publish(*, postmortem: Postmortem, actor) -> WorkflowEvent:
    """The author or an admin publishes an approved postmortem."""

    def check(current: Postmortem) -> None:
        if not permissions.can_publish_postmortem(actor, current):
            raise PermissionDenied("Only the author or an admin publishes.")

    return _transition(
        postmortem=postmortem,
        actor=actor,
        allowed_from=[PostmortemStatus.APPROVED],
        to_status=PostmortemStatus.PUBLISHED,
        reason="Published",
        check=check,
    )


@transaction.atomic
def comment_create(
    *,
    postmortem: Postmortem,
    author,
    body: str,
    section: str = "",
    parent: Comment | None = None,
) -> Comment:
    """Comment on a section (or the whole document), or reply to a comment."""
    if not permissions.can_comment_postmortem(author, postmortem):
        raise PermissionDenied("You cannot comment on this postmortem.")
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write a comment."})
    if parent is not None:
        if parent.postmortem_id != postmortem.pk:
            raise ValidationError({"parent": "That comment is on another postmortem."})
        # Threads are one level deep: a reply to a reply joins the same thread.
        while parent.parent_id is not None:
            parent = parent.parent
        section = parent.section
    elif section and section not in postmortem.template.section_keys:
        raise ValidationError({"section": "No such section in this postmortem."})
    return Comment.objects.create(
        postmortem=postmortem,
        author=author,
        body=body,
        section=section,
        parent=parent,
    )
