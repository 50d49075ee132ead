"""Action items: the follow-up work a postmortem calls for, tracked to the end."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from postmortems.models import Postmortem, Team


class Category(models.TextChoices):
    DETECTION = "detection", "Detection"
    MITIGATION = "mitigation", "Mitigation"
    PREVENTION = "prevention", "Prevention"
    PROCESS = "process", "Process"
    DOCUMENTATION = "documentation", "Documentation / training"


class Priority(models.TextChoices):
    P0 = "P0", "P0"
    P1 = "P1", "P1"
    P2 = "P2", "P2"
    P3 = "P3", "P3"


class Status(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    BLOCKED = "blocked", "Blocked"
    DONE = "done", "Done"
    WONT_DO = "wont_do", "Won't do"


OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS, Status.BLOCKED)
CLOSED_STATUSES = (Status.DONE, Status.WONT_DO)
# Statuses that need a written reason.
REASON_REQUIRED = (Status.BLOCKED, Status.WONT_DO)


class TrackerProvider(models.TextChoices):
    JIRA = "jira", "Jira"
    GITHUB = "github", "GitHub"
    LINEAR = "linear", "Linear"
    OTHER = "other", "Other"


class ActionItem(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown.")
    category = models.CharField(max_length=16, choices=Category.choices)
    priority = models.CharField(
        max_length=2, choices=Priority.choices, default=Priority.P2
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="action_items",
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="action_items"
    )
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN
    )
    status_reason = models.TextField(
        blank=True, help_text="Required when blocked or won't do."
    )
    verification_note = models.TextField(
        blank=True, help_text="How do we know it worked?"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    postmortem = models.ForeignKey(
        Postmortem,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="action_items",
    )
    tracker_provider = models.CharField(
        max_length=16, choices=TrackerProvider.choices, blank=True
    )
    tracker_key = models.CharField(max_length=100, blank=True)
    tracker_url = models.URLField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["due_date", "pk"]
        indexes = [
            models.Index(fields=["status", "due_date"]),
            models.Index(fields=["team", "status"]),
            models.Index(fields=["owner", "status"]),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("actions:item_detail", args=[self.pk])

    def clean(self) -> None:
        if self.status in REASON_REQUIRED and not self.status_reason.strip():
            raise ValidationError(
                {"status_reason": "Say why the item is blocked or won't be done."}
            )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return (
            self.is_open
            and self.due_date is not None
            and self.due_date < timezone.localdate()
        )


class DuePolicy(models.Model):
    """How many days an item of a priority gets by default. Edited in the admin."""

    priority = models.CharField(max_length=2, choices=Priority.choices, unique=True)
    days = models.PositiveIntegerField()

    class Meta:
        ordering = ["priority"]
        verbose_name_plural = "due policies"

    def __str__(self) -> str:
        return f"{self.priority}: {self.days} days"
