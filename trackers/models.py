"""Issue trackers: each team's tracker, and each action item's link to its issue."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from actions.models import ActionItem
from postmortems.models import Team
from trackers import sync
from trackers.choices import Provider, RemoteStatus

PROJECT_FORMATS = {
    Provider.JIRA: (
        re.compile(r"^[A-Z][A-Z0-9_]+$"),
        "A Jira project key is capitals and digits, such as OPS.",
    ),
    Provider.GITHUB: (
        re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"),
        "A GitHub repository is owner/repo, such as acme/platform.",
    ),
    Provider.LINEAR: (
        re.compile(r"^[0-9a-fA-F-]{8,}$"),
        "A Linear team id is the team's UUID (Settings → Teams → copy team id).",
    ),
}


class TrackerConfig(models.Model):
    """Where a team's action items go. Secrets are not here: see settings."""

    team = models.OneToOneField(
        Team, on_delete=models.CASCADE, related_name="tracker_config"
    )
    provider = models.CharField(max_length=16, choices=Provider.choices)
    project = models.CharField(
        max_length=200,
        help_text="Jira project key (OPS), GitHub owner/repo, or Linear team id.",
    )
    labels = models.CharField(
        max_length=500,
        blank=True,
        help_text="Comma-separated labels for new issues (Linear: label ids).",
    )
    issue_type = models.CharField(
        max_length=50, default="Task", blank=True, help_text="Jira only."
    )
    base_url = models.URLField(
        blank=True,
        help_text="Jira site (https://acme.atlassian.net) or GitHub Enterprise API "
        "URL; empty uses KB_JIRA_BASE_URL / KB_GITHUB_API_URL.",
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["team__name"]

    def __str__(self) -> str:
        return f"{self.team}: {self.get_provider_display()} {self.project}"

    def clean(self) -> None:
        pattern, message = PROJECT_FORMATS.get(self.provider, (None, ""))
        if pattern and not pattern.match(self.project.strip()):
            raise ValidationError({"project": message})

    @property
    def label_list(self) -> list[str]:
        return [label.strip() for label in self.labels.split(",") if label.strip()]


class TrackerLink(models.Model):
    """An action item's issue and the state of keeping the two in step.

    ``sync_due`` is the outbox: set when the issue must be created or its state
    fetched, cleared when that succeeded; the relay resends what stays due.
    """

    item = models.OneToOneField(
        ActionItem, on_delete=models.CASCADE, related_name="tracker_link"
    )
    provider = models.CharField(max_length=16, choices=Provider.choices)
    base_url = models.URLField(blank=True)
    remote_id = models.CharField(max_length=100, blank=True)
    remote_key = models.CharField(max_length=200, blank=True)
    remote_url = models.URLField(blank=True)
    remote_state = models.CharField(
        max_length=100, blank=True, help_text="The tracker's own name for the state."
    )
    remote_status = models.CharField(
        max_length=16, choices=RemoteStatus.choices, blank=True
    )
    remote_changed_by = models.CharField(max_length=200, blank=True)
    remote_changed_at = models.DateTimeField(null=True, blank=True)
    # The issue's own updated time as last applied (from a webhook or an API
    # read); an older delivery arriving late is stale.
    remote_updated_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    sync_due = models.DateTimeField(null=True, blank=True, db_index=True)
    # Set by the sync that is calling the tracker now (a conditional update).
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "remote_key"],
                condition=~models.Q(remote_key=""),
                name="tracker_link_one_item_per_issue",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.remote_key or '(being created)'}"

    @property
    def is_pending(self) -> bool:
        return not self.remote_key

    @property
    def disagrees(self) -> bool:
        return sync.disagreement(
            item_status=self.item.status, remote_status=self.remote_status
        )
