"""What each person wants to hear about, and what was sent to whom (once)."""

from django.conf import settings
from django.db import models

# Defined in choices.py; also importable from the models, as migrations do.
from notifications.choices import (  # noqa: F401
    Channel,
    DeliveryStatus,
    NotificationKind,
)
from notifications.permissions import NotificationQuerySet


class NotificationPreference(models.Model):
    """A person turned one kind of notification off (or back on).

    No row means the default: on.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind"], name="notification_preference_once"
            )
        ]

    def __str__(self) -> str:
        state = "on" if self.enabled else "off"
        return f"{self.user}: {self.get_kind_display()} {state}"


class Notification(models.Model):
    """One notification to one person over one channel: the sent-log.

    ``key`` names the event (a workflow step, a review round, an assignment);
    the unique constraint makes each notification once, however often the event
    is announced or the task runs.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    channel = models.CharField(
        max_length=16, choices=Channel.choices, default=Channel.EMAIL
    )
    key = models.CharField(max_length=120)
    # What the notification is about: a postmortem or an action item id.
    object_id = models.PositiveBigIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    comment = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    note = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    # Notification.objects.visible_to(user): who may read what (permissions.py).
    objects = NotificationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "user", "kind", "key"], name="notification_once"
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.user} ({self.status})"
