"""Who hears about what: one small function per event.

Each decides the recipients and the event's key (what makes it once) and queues
one notification per person on every registered channel (notifications.channels).
Called by the receivers after the change committed, with ids only.
"""

from notifications import services
from notifications.models import NotificationKind
from postmortems.models import Postmortem, PostmortemStatus, WorkflowEvent


def _review_round(postmortem_id: int) -> int:
    """How many times the postmortem went into review: each round asks again."""

    return WorkflowEvent.objects.filter(
        postmortem_id=postmortem_id, to_status=PostmortemStatus.IN_REVIEW
    ).count()


def _ask_reviewers(*, postmortem_id: int, user_ids, actor_id) -> None:
    key = f"postmortem:{postmortem_id}:review:{_review_round(postmortem_id)}"
    for user_id in user_ids:
        services.notification_queue(
            user_id=user_id,
            kind=NotificationKind.REVIEW_REQUESTED,
            key=key,
            object_id=postmortem_id,
            actor_id=actor_id,
        )


def reviewers_added(*, postmortem_id: int, user_ids: list[int], actor_id) -> None:
    """Reviewers named on a postmortem in review are asked at once; on a draft
    they are asked when it is submitted."""

    status = (
        Postmortem.objects.filter(pk=postmortem_id)
        .values_list("status", flat=True)
        .first()
    )
    if status == PostmortemStatus.IN_REVIEW:
        _ask_reviewers(
            postmortem_id=postmortem_id, user_ids=user_ids, actor_id=actor_id
        )


def postmortem_status_changed(
    *,
    postmortem_id: int,
    from_status: str,
    to_status: str,
    actor_id,
    comment: str = "",
    event_id: int | None = None,
) -> None:
    """Submitted: the reviewers are asked. Approved or sent back: the author hears."""

    postmortem = Postmortem.objects.filter(pk=postmortem_id).first()
    if postmortem is None:
        return
    if to_status == PostmortemStatus.IN_REVIEW:
        reviewer_ids = list(postmortem.reviewers.values_list("pk", flat=True))
        _ask_reviewers(
            postmortem_id=postmortem_id, user_ids=reviewer_ids, actor_id=actor_id
        )
        return
    if to_status == PostmortemStatus.APPROVED:
        kind = NotificationKind.POSTMORTEM_APPROVED
    elif to_status == PostmortemStatus.DRAFT and from_status in (
        PostmortemStatus.IN_REVIEW,
        PostmortemStatus.APPROVED,
    ):
        kind = NotificationKind.POSTMORTEM_SENT_BACK
    else:
        return
    # One per workflow step; without its id, one per review round.
    step = event_id if event_id is not None else f"r{_review_round(postmortem_id)}"
    services.notification_queue(
        user_id=postmortem.author_id,
        kind=kind,
        key=f"postmortem:{postmortem_id}:{kind}:{step}",
        object_id=postmortem_id,
        actor_id=actor_id,
        comment=comment,
    )


def action_item_assigned(*, item_id: int, owner_id: int, actor_id) -> None:
    """The new owner hears, once per item."""
    services.notification_queue(
        user_id=owner_id,
        kind=NotificationKind.ACTION_ITEM_ASSIGNED,
        key=f"action-item:{item_id}:owner:{owner_id}",
        object_id=item_id,
        actor_id=actor_id,
    )
