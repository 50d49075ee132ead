"""Choices of the notifications app, defined once; the models and everything
else import them from here."""

from django.db import models


class NotificationKind(models.TextChoices):
    REVIEW_REQUESTED = "review_requested", "A postmortem asks for my review"
    POSTMORTEM_APPROVED = "postmortem_approved", "My postmortem was approved"
    POSTMORTEM_SENT_BACK = "postmortem_sent_back", "My postmortem was sent back"
    ACTION_ITEM_ASSIGNED = "action_item_assigned", "An action item was assigned to me"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    CHAT = "chat", "Slack direct message"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Not sent"
