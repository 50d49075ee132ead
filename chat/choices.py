"""Choices of the chat app, defined once."""

from django.db import models


class Provider(models.TextChoices):
    SLACK = "slack", "Slack"


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
