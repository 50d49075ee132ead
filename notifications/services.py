"""Notifications: queue one per person, event and channel; send it once."""

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from notifications import channels, tasks
from notifications.messages import build_message
from notifications.models import (
    DeliveryStatus,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from postmortems import extensions as outbox_extensions
from postmortems import outbox

logger = logging.getLogger(__name__)

# A send claimed this long ago whose worker never finished (it was killed) may be
# claimed again when the task is redelivered.
STALE_CLAIM = dt.timedelta(minutes=10)
# A channel that said "try later" (a rate limit, an outage) is tried again by the
# relay this long after; a fresh notification is left to its own task this long.
RETRY_AFTER = dt.timedelta(minutes=2)
RELAY_GRACE = dt.timedelta(seconds=60)


def notification_wanted(*, user_id: int, kind: str) -> bool:
    """A kind is on unless the person turned it off."""
    return not NotificationPreference.objects.filter(
        user_id=user_id, kind=kind, enabled=False
    ).exists()


def notification_queue(
    *,
    user_id: int,
    kind: str,
    key: str,
    object_id: int,
    actor_id: int | None = None,
    comment: str = "",
) -> list[Notification]:
    """Record a notification for ``user_id`` on every channel and send it after
    commit; nothing when it was recorded before (same key), when the person did
    it themselves, or when they turned this kind off."""
    if user_id is None or user_id == actor_id:
        return []
    if not notification_wanted(user_id=user_id, kind=kind):
        return []
    queued = []
    for channel in channels.registered():
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    user_id=user_id,
                    kind=kind,
                    channel=channel,
                    key=key[:120],
                    object_id=object_id,
                    actor_id=actor_id,
                    comment=comment,
                )
                # Through the outbox: with the broker down, the send waits.
                outbox.enqueue(tasks.send_notification, notification_id=notification.pk)
        except IntegrityError:
            continue  # made once already: the unique key says so
        queued.append(notification)
    return queued


def notification_send(*, notification_id: int) -> str:
    """Send one notification if it still waits; safe to run twice."""
    now = timezone.now()
    claimed = (
        Notification.objects.filter(pk=notification_id)
        .filter(
            Q(status=DeliveryStatus.PENDING)
            | Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_CLAIM)
        )
        .update(status=DeliveryStatus.SENDING, claimed_at=now)
    )
    if not claimed:
        return "not waiting"
    notification = Notification.objects.select_related("user", "actor").get(
        pk=notification_id
    )
    if not notification_wanted(user_id=notification.user_id, kind=notification.kind):
        return _finish(notification, DeliveryStatus.SKIPPED, "turned off")
    message = build_message(notification)
    if message is None:
        return _finish(notification, DeliveryStatus.SKIPPED, "nothing to show")
    sender = channels.sender_for(notification.channel)
    if sender is None:
        return _finish(notification, DeliveryStatus.SKIPPED, "channel removed")
    try:
        sender(notification, message)
    except channels.Undeliverable as exc:
        return _finish(notification, DeliveryStatus.SKIPPED, str(exc))
    except channels.TryLater as exc:
        # Waits in its row; the relay tries again after RETRY_AFTER.
        Notification.objects.filter(pk=notification.pk).update(
            status=DeliveryStatus.PENDING, claimed_at=now, note=f"waiting: {exc}"[:200]
        )
        logger.info("Notification %s waits: %s", notification.pk, exc)
        return "waiting"
    except Exception:
        # Let the task retry: the row waits again.
        Notification.objects.filter(pk=notification.pk).update(
            status=DeliveryStatus.PENDING
        )
        raise
    return _finish(notification, DeliveryStatus.SENT, "")


def notifications_pending() -> int:
    """How many notifications wait to be sent."""
    return Notification.objects.filter(
        status__in=(DeliveryStatus.PENDING, DeliveryStatus.SENDING)
    ).count()


def notifications_relay(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """Send the notifications still waiting: a channel that said "try later", a
    worker killed mid-send, a task lost. Returns how many went out."""
    now = now or timezone.now()
    due = list(
        Notification.objects.filter(
            Q(status=DeliveryStatus.PENDING, created_at__lt=now - RELAY_GRACE)
            & (Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - RETRY_AFTER))
            | Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_CLAIM)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for notification_id in due:
        try:
            outcome = notification_send(notification_id=notification_id)
        except Exception:  # noqa: BLE001 - one failure must not stop the others
            logger.exception("Notification %s: send failed", notification_id)
            continue
        sent += outcome == DeliveryStatus.SENT
    return sent


# Sent by the one relay (postmortems.outbox_relay, every minute, and
# ``manage.py relay_outbox``), as every app's waiting work is.
RELAY = outbox_extensions.Relay(
    sent_label="{count} notification(s)",
    pending_label="{count} notification(s) waiting",
    send=notifications_relay,
    pending=notifications_pending,
)


def _finish(notification: Notification, status: str, note: str) -> str:
    Notification.objects.filter(pk=notification.pk).update(
        status=status,
        note=note[:200],
        sent_at=timezone.now() if status == DeliveryStatus.SENT else None,
    )
    if note:
        logger.info("Notification %s not sent: %s", notification.pk, note)
    return status


def notification_preferences_set(*, user, enabled: Iterable[str]) -> None:
    """Turn the kinds in ``enabled`` on and every other kind off for ``user``."""
    enabled = set(enabled)
    unknown = enabled - set(NotificationKind.values)
    if unknown:
        raise ValueError(f"unknown notification kinds: {sorted(unknown)}")
    with transaction.atomic():
        for kind in NotificationKind.values:
            NotificationPreference.objects.update_or_create(
                user=user, kind=kind, defaults={"enabled": kind in enabled}
            )
