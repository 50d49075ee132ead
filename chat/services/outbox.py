"""Outgoing messages, durably: the ``ChatMessage`` rows are the outbox.

A row is written before anything is sent, with a key unique per event and
channel, so an event heard twice never posts twice. Sending claims the row with a
conditional update; a failed send leaves it pending with a later due time (a chat
outage never blocks a write in Hindsight, and never loses the message), and the
relay (``postmortems.outbox_relay``, every minute) sends what is due.
"""

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from chat.choices import MessageStatus
from chat.models import ChatMessage
from chat.providers import get_provider
from chat.providers.base import Button, ChatError, OutgoingMessage
from postmortems import extensions

logger = logging.getLogger(__name__)

# Give up after this many transient failures (about a day with the backoff below).
MAX_ATTEMPTS = 12
# A send that claimed a row and never reported back (its process died) is retried
# after this long. Slack has no idempotency key, so this is the one case that may
# post twice; it needs a crash between Slack's answer and our update.
STALE_CLAIM = dt.timedelta(minutes=10)


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 4 * 3600))


def as_message(row: ChatMessage) -> OutgoingMessage:
    return OutgoingMessage(
        text=row.text, buttons=tuple(Button(**button) for button in row.buttons)
    )


def chat_message_queue(
    *,
    provider: str,
    channel_ids: list[str],
    event_key: str,
    subject: str,
    message: OutgoingMessage,
) -> list[ChatMessage]:
    """Record the message for each channel; returns only the rows that are new."""
    created = []
    buttons = _buttons(message)
    for channel_id in dict.fromkeys(c for c in channel_ids if c):
        try:
            with transaction.atomic():
                row, was_created = ChatMessage.objects.get_or_create(
                    provider=provider,
                    channel_id=channel_id,
                    event_key=event_key,
                    defaults={
                        "subject": subject,
                        "text": message.text,
                        "buttons": buttons,
                    },
                )
        except IntegrityError:
            continue  # a concurrent run recorded it first
        if was_created:
            created.append(row)
    return created


def chat_message_deliver(*, message_id: int, now: dt.datetime | None = None) -> str:
    """Send one recorded message if it is due; a short status for the task."""
    now = now or timezone.now()
    claimed = ChatMessage.objects.filter(
        pk=message_id, status=MessageStatus.PENDING, due_at__lte=now
    ).update(
        # The claim's own time, not the relay's start: a long relay's rows must not
        # look stale to an overlapping relay, which would post them again.
        status=MessageStatus.SENDING,
        claimed_at=timezone.now(),
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return f"message {message_id}: not due, already sent, or gone"
    row = ChatMessage.objects.get(pk=message_id)
    try:
        message_ts = get_provider(row.provider).post_message(
            channel_id=row.channel_id, message=as_message(row)
        )
    except ChatError as exc:
        retry = exc.transient and row.attempts < MAX_ATTEMPTS
        ChatMessage.objects.filter(pk=row.pk, status=MessageStatus.SENDING).update(
            status=MessageStatus.PENDING if retry else MessageStatus.FAILED,
            due_at=now + _backoff(row.attempts),
            last_error=str(exc)[:2000],
            claimed_at=None,
        )
        log = logger.warning if retry else logger.error
        log("Chat message %s not sent (%s): %s", row.pk, row.event_key, exc)
        return f"message {message_id}: {'will retry' if retry else 'failed'}: {exc}"
    ChatMessage.objects.filter(pk=row.pk).update(
        status=MessageStatus.SENT,
        message_ts=message_ts,
        sent_at=timezone.now(),
        last_error="",
        claimed_at=None,
    )
    return f"message {message_id}: sent"


def chat_messages_relay(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """Send the messages that are due (after an outage, or a lost task)."""
    now = now or timezone.now()
    ChatMessage.objects.filter(
        status=MessageStatus.SENDING, claimed_at__lt=now - STALE_CLAIM
    ).update(status=MessageStatus.PENDING, claimed_at=None)
    due = list(
        ChatMessage.objects.filter(Q(status=MessageStatus.PENDING) & Q(due_at__lte=now))
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for message_id in due:
        if chat_message_deliver(message_id=message_id, now=now).endswith(": sent"):
            sent += 1
    return sent


def chat_messages_pending() -> int:
    """How many messages wait to be sent (due now or later)."""
    return ChatMessage.objects.filter(
        status__in=(MessageStatus.PENDING, MessageStatus.SENDING)
    ).count()


# Sent by the one relay (postmortems.outbox_relay, every minute, and
# ``manage.py relay_outbox``), as the core's outbox and findings' follow-ups are.
RELAY = extensions.Relay(
    sent_label="{count} chat message(s)",
    pending_label="{count} chat message(s) waiting",
    send=chat_messages_relay,
    pending=chat_messages_pending,
)


def _buttons(message: OutgoingMessage) -> list[dict]:
    return [
        {"text": b.text, "url": b.url, "action_id": b.action_id}
        for b in message.buttons
    ]


def chat_messages_update(*, subject: str, message: OutgoingMessage) -> int:
    """Replace the messages about ``subject`` with ``message``; returns how many.

    Rows not sent yet (waiting out an outage, or failed) get the new text, so the
    relay or the admin never posts the stale one; sent ones are edited in chat.
    Idempotent: updating a message to the same content again changes nothing.
    Transient errors propagate, so the task retries.
    """
    unsent = ChatMessage.objects.filter(
        subject=subject, status__in=[MessageStatus.PENDING, MessageStatus.FAILED]
    ).update(text=message.text, buttons=_buttons(message))
    rows = list(
        ChatMessage.objects.filter(subject=subject, status=MessageStatus.SENT)
        .exclude(message_ts="")
        .order_by("pk")
    )
    for row in rows:
        get_provider(row.provider).update_message(
            channel_id=row.channel_id, message_id=row.message_ts, message=message
        )
    return unsent + len(rows)


def chat_messages_send_again(*, message_ids: list[int]) -> dict[str, list[str]]:
    """Send the chosen failed or waiting messages now (an admin fixed the cause).

    Only these rows: others stay with the relay. Returns the outcome of each, as
    ``{"sent": [...], "pending": [...], "failed": [...], "skipped": [...]}`` with
    the error (or the reason for skipping) of each row.
    """
    outcome: dict[str, list[str]] = {
        "sent": [],
        "pending": [],
        "failed": [],
        "skipped": [],
    }
    now = timezone.now()
    for message_id in sorted(set(message_ids)):
        reset = ChatMessage.objects.filter(
            pk=message_id, status__in=[MessageStatus.FAILED, MessageStatus.PENDING]
        ).update(status=MessageStatus.PENDING, due_at=now, attempts=0, last_error="")
        if not reset:
            row = ChatMessage.objects.filter(pk=message_id).first()
            reason = "gone" if row is None else f"already {row.get_status_display()}"
            outcome["skipped"].append(reason.lower())
            continue
        chat_message_deliver(message_id=message_id, now=now)
        row = ChatMessage.objects.get(pk=message_id)
        error = row.last_error.rsplit(": ", 1)[-1]
        if row.status == MessageStatus.SENT:
            outcome["sent"].append("")
        elif row.status == MessageStatus.FAILED:
            outcome["failed"].append(error)
        else:
            outcome["pending"].append(error or "in progress")
    return outcome
