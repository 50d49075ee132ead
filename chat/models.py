"""Chat: linked channels, messages pinned to timelines, and the outgoing outbox.

Secrets (signing secret, bot token) are never stored here: they come from the
environment (``KB_SLACK_*`` settings).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from chat.choices import MessageStatus, Provider
from postmortems.models import Incident, Team, TimelineEntry

DEFAULT_REACTION = "pushpin"


class TeamChatSettings(models.Model):
    """A team's chat configuration: its channel, reaction and notifications."""

    team = models.OneToOneField(
        Team, on_delete=models.CASCADE, related_name="chat_settings"
    )
    provider = models.CharField(
        max_length=16, choices=Provider.choices, default=Provider.SLACK
    )
    channel_id = models.CharField(
        "team channel id",
        max_length=64,
        blank=True,
        help_text="Where the team hears about its postmortems, overdue items and "
        "alerts that look like past incidents (in Slack: the channel's details, "
        "e.g. C0123ABCD). Empty: only incident channels are told.",
    )
    reaction = models.CharField(
        max_length=64,
        default=DEFAULT_REACTION,
        help_text="Emoji name, without colons, that adds a message in an incident's "
        "channel to its timeline.",
    )
    notify_review = models.BooleanField("postmortem ready for review", default=True)
    notify_approved = models.BooleanField("postmortem approved", default=True)
    notify_published = models.BooleanField("postmortem published", default=True)
    notify_overdue = models.BooleanField("action item overdue", default=True)
    notify_alert_match = models.BooleanField(
        "alert looks like a past incident", default=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "team chat settings"
        verbose_name_plural = "team chat settings"
        ordering = ["team__name"]

    def __str__(self) -> str:
        return f"{self.team} on {self.get_provider_display()}"

    def clean(self) -> None:
        reaction = (self.reaction or "").strip().strip(":")
        if not reaction or any(c.isspace() for c in reaction):
            raise ValidationError(
                {"reaction": "Give one emoji name, such as pushpin or bookmark."}
            )
        self.reaction = reaction
        self.channel_id = (self.channel_id or "").strip()


class ChannelLink(models.Model):
    """A chat channel that follows one incident."""

    provider = models.CharField(
        max_length=16, choices=Provider.choices, default=Provider.SLACK
    )
    channel_id = models.CharField(max_length=64)
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="chat_channels"
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # A channel follows one incident at a time; linking again moves it.
            models.UniqueConstraint(
                fields=["provider", "channel_id"], name="chat_channel_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.channel_id} -> {self.incident}"


class PinnedMessage(models.Model):
    """A chat message that became a timeline entry (marked with the reaction).

    Only entries with a row here are ever removed when the reaction goes: entries
    people wrote in Hindsight are never touched.
    """

    provider = models.CharField(
        max_length=16, choices=Provider.choices, default=Provider.SLACK
    )
    channel_id = models.CharField(max_length=64)
    message_ts = models.CharField(max_length=32)
    entry = models.OneToOneField(
        TimelineEntry, on_delete=models.CASCADE, related_name="chat_message"
    )
    author_name = models.CharField(max_length=200, blank=True)
    author_chat_id = models.CharField(max_length=64, blank=True)
    permalink = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "channel_id", "message_ts"],
                name="chat_pinned_message_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}/{self.message_ts}"


class ChatMessage(models.Model):
    """A message Hindsight posts: the outbox row that makes the send durable.

    Written before anything is sent; the task and the one relay
    (``postmortems.outbox_relay``, every minute) send the pending ones. The
    (provider, channel, event key) is unique, so an event announced twice, or a
    send retried, never posts twice.
    """

    provider = models.CharField(
        max_length=16, choices=Provider.choices, default=Provider.SLACK
    )
    channel_id = models.CharField(max_length=64)
    # What happened, once: "workflow-event:12", "action-item:4:overdue:2026-12-01".
    event_key = models.CharField(max_length=200)
    # What it is about, so later events can update it: "action-item:4".
    subject = models.CharField(max_length=100, db_index=True)
    text = models.TextField()
    buttons = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    message_ts = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    due_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "channel_id", "event_key"],
                name="chat_message_unique_event",
            )
        ]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"{self.event_key} to {self.channel_id} ({self.status})"
