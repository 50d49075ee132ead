"""Receivers of the core's signals. They only hand ids to the dispatchers; a
receiver that fails is logged by ``send_on_commit`` and never fails the change."""

from notifications import dispatch


def on_reviewers_added(sender, *, postmortem_id, user_ids, actor_id=None, **kwargs):
    dispatch.reviewers_added(
        postmortem_id=postmortem_id, user_ids=list(user_ids), actor_id=actor_id
    )


def on_status_changed(
    sender,
    *,
    postmortem_id,
    from_status,
    to_status,
    actor_id=None,
    comment="",
    **kwargs,
):
    dispatch.postmortem_status_changed(
        postmortem_id=postmortem_id,
        from_status=from_status,
        to_status=to_status,
        actor_id=actor_id,
        comment=comment or "",
        event_id=kwargs.get("event_id"),
    )


def on_item_assigned(sender, *, item_id, owner_id, actor_id=None, **kwargs):
    dispatch.action_item_assigned(item_id=item_id, owner_id=owner_id, actor_id=actor_id)
