"""Celery tasks of the chat app: thin, idempotent, ids and plain values only."""

import datetime as dt
import logging

from celery import shared_task
from django.db import OperationalError

from chat import services
from chat.providers.base import ChatError
from chat.slack import pins

logger = logging.getLogger(__name__)


class TransientChatError(Exception):
    """A chat call worth retrying (rate limit, outage)."""


def _transient(exc: ChatError) -> None:
    if exc.transient:
        raise TransientChatError(str(exc)) from exc
    logger.error("Chat call failed for good: %s", exc)


RETRY = {
    "autoretry_for": (TransientChatError, OperationalError),
    "retry_backoff": 30,
    "max_retries": 6,
}


@shared_task(name="chat.notify_postmortem_status", **RETRY)
def notify_postmortem_status(*, postmortem_id: int, to_status: str) -> str:
    count = services.chat_notify_postmortem_status(
        postmortem_id=postmortem_id, to_status=to_status
    )
    return f"postmortem {postmortem_id} {to_status}: {count} message(s)"


@shared_task(name="chat.notify_action_item_overdue", **RETRY)
def notify_action_item_overdue(*, item_id: int, due_date: str) -> str:
    count = services.chat_notify_action_item_overdue(
        item_id=item_id, due_date=dt.date.fromisoformat(due_date)
    )
    return f"action item {item_id} overdue: {count} message(s)"


@shared_task(name="chat.notify_action_item_closed", **RETRY)
def notify_action_item_closed(*, item_id: int) -> str:
    try:
        count = services.chat_notify_action_item_closed(item_id=item_id)
    except ChatError as exc:
        _transient(exc)
        return f"action item {item_id} closed: not updated ({exc})"
    return f"action item {item_id} closed: {count} message(s) updated"


@shared_task(name="chat.notify_alert_matches", **RETRY)
def notify_alert_matches(*, finding_ids: list[int]) -> str:
    count = services.chat_notify_alert_matches(finding_ids=finding_ids)
    return f"{len(finding_ids)} finding(s): {count} message(s)"


@shared_task(name="chat.slack_sync_pin", **RETRY)
def slack_sync_pin(*, channel_id: str, message_ts: str) -> str:
    """The team's reaction was added or removed: the timeline follows."""
    try:
        return pins.sync(channel_id=channel_id, message_ts=message_ts)
    except ChatError as exc:
        _transient(exc)
        return f"{channel_id}/{message_ts}: not synced ({exc})"
