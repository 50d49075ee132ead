"""Action items: the follow-up work a postmortem calls for, tracked to the end."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

# Defined in choices.py; also importable from the models, as migrations do.
from actions.choices import (  # noqa: F401
    CLOSED_STATUSES,
    OPEN_STATUSES,
    REASON_REQUIRED,
    Category,
    Decision,
    Priority,
    Status,
    TrackerProvider,
)
from postmortems.models import Postmortem, Severity, Team


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
    tracker_key = models.CharField(max_length=200, blank=True)
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
            # Covers every column the dashboard reads, so its GROUP BYs scan this
            # narrow index instead of the wide table (10x faster on SQLite).
            models.Index(
                fields=[
                    "team",
                    "status",
                    "category",
                    "due_date",
                    "created_at",
                    "owner",
                    "completed_at",
                    "postmortem",
                ],
                name="actionitem_dashboard_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("actions:item_detail", args=[self.pk])

    def clean(self) -> None:
        errors = {}
        if self.status in REASON_REQUIRED and not (self.status_reason or "").strip():
            label = "is blocked" if self.status == Status.BLOCKED else "won't be done"
            errors["status_reason"] = f"Say why this item {label}."
        if self.status == Status.DONE and not (self.verification_note or "").strip():
            errors["verification_note"] = (
                "Say how we know it worked (a test, an alert that fired, a drill)."
            )
        if (self.tracker_key or self.tracker_url) and not self.tracker_provider:
            errors["tracker_provider"] = "Pick the tracker the reference belongs to."
        if errors:
            raise ValidationError(errors)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def has_tracker(self) -> bool:
        return bool(self.tracker_key or self.tracker_url)

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


def category_labels() -> dict[str, str]:
    return dict(Category.choices)


class CoveragePolicy(models.Model):
    """Which action-item categories a postmortem of a severity needs before approval.

    Edited in the admin. A severity without a row requires nothing.
    """

    severity = models.CharField(max_length=4, choices=Severity.choices, unique=True)
    required_categories = models.JSONField(
        default=list,
        blank=True,
        help_text="Categories that need at least one item (not won't do).",
    )

    class Meta:
        ordering = ["severity"]
        verbose_name_plural = "coverage policies"

    def __str__(self) -> str:
        labels = category_labels()
        names = ", ".join(labels.get(c, c) for c in self.required_categories)
        return f"{self.severity}: {names or 'nothing required'}"

    def clean(self) -> None:
        unknown = sorted(set(self.required_categories) - set(Category.values))
        if unknown:
            raise ValidationError(
                {"required_categories": f"Unknown categories: {', '.join(unknown)}."}
            )


class ReminderLog(models.Model):
    """One reminder about one item on one day; the unique row is the claim."""

    item = models.ForeignKey(
        ActionItem, on_delete=models.CASCADE, related_name="reminders"
    )
    date = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "date"], name="reminder_once_per_item_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"Reminder for item {self.item_id} on {self.date}"


class LeadershipReview(models.Model):
    """A leadership meeting that went through open action items."""

    date = models.DateField(default=timezone.localdate)
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="leadership_reviews"
    )
    notes = models.TextField(blank=True, help_text="Markdown.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date", "-pk"]

    def __str__(self) -> str:
        return f"Leadership review of {self.date:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("actions:review_detail", args=[self.pk])


class ReviewDecision(models.Model):
    """What a leadership review decided about one item, applied by a service."""

    review = models.ForeignKey(
        LeadershipReview, on_delete=models.CASCADE, related_name="decisions"
    )
    item = models.ForeignKey(
        ActionItem, on_delete=models.CASCADE, related_name="review_decisions"
    )
    decision = models.CharField(max_length=16, choices=Decision.choices)
    note = models.TextField(blank=True)
    new_due_date = models.DateField(
        null=True, blank=True, help_text="Required when re-dating."
    )
    # What the item looked like before, so the ledger reads on its own.
    previous_due_date = models.DateField(null=True, blank=True)
    previous_priority = models.CharField(max_length=2, blank=True)
    previous_status = models.CharField(max_length=16, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} on item {self.item_id}"

    def clean(self) -> None:
        if self.decision == Decision.REDATE and self.new_due_date is None:
            raise ValidationError({"new_due_date": "Give the new due date."})
        if self.decision == Decision.WONT_DO and not (self.note or "").strip():
            raise ValidationError(
                {"note": "Say why the item will not be done; it becomes its reason."}
            )
