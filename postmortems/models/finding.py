"""Analyzer findings, the draft actions they suggest, and matches to past incidents."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from postmortems.models.incident import Incident
from postmortems.models.org import Service, Team


class FindingSource(models.TextChoices):
    API = "api", "Analyzer API"
    ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
    PAGERDUTY = "pagerduty", "PagerDuty"
    ROBUSTA = "robusta", "Robusta"
    DEMO = "demo", "Demo corpus"


class FindingSeverity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"
    INFO = "info", "Info"


class RootCauseVerdict(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    PARTIAL = "partial", "Partly right"
    REFUTED = "refuted", "Refuted"


class EvidenceKind(models.TextChoices):
    METRIC = "metric", "Metric"
    TRACE = "trace", "Trace"
    LOG = "log", "Log"
    DEPLOY = "deploy", "Deploy"
    CONFIG_CHANGE = "config_change", "Config change"
    LINK = "link", "Link"


class SuggestionKind(models.TextChoices):
    REVERT_CHANGE = "revert_change", "Revert a change"
    ROLLBACK_CONFIG = "rollback_config", "Roll back a config"
    FILE_BUG = "file_bug", "File a bug"
    OTHER = "other", "Other"


class SuggestionCategory(models.TextChoices):
    # The action-item categories a suggestion can become (actions.models.Category).
    MITIGATION = "mitigation", "Mitigation"
    PREVENTION = "prevention", "Prevention"


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a decision"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"


class Finding(models.Model):
    """What an analyzer or alerting system reported about an incident.

    ``dedupe_key`` (analyzer + fingerprint) is unique per team: re-sending a finding
    updates this row. Evidence and suggested actions are kept as sent (validated
    JSON lists); ``raw`` is the payload exactly as received.
    """

    # No single-column indexes on team and incident: the unique (team, dedupe_key)
    # and the (incident, first_seen_at) indexes lead with them, and every index
    # slows the batch inserts down.
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="findings", db_index=False
    )
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="findings", db_index=False
    )
    source = models.CharField(
        max_length=16, choices=FindingSource.choices, default=FindingSource.API
    )
    analyzer = models.CharField(max_length=100)
    analyzer_version = models.CharField(max_length=50, blank=True)
    fingerprint = models.CharField(max_length=200)
    dedupe_key = models.CharField(max_length=340)
    service = models.ForeignKey(
        Service,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="findings",
    )
    severity = models.CharField(
        max_length=8, choices=FindingSeverity.choices, default=FindingSeverity.MEDIUM
    )
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True)
    root_cause = models.TextField(blank=True, help_text="Suspected root cause.")
    root_cause_class = models.SlugField(
        max_length=64,
        blank=True,
        help_text="Failure class slug, if the analyzer names one.",
    )
    root_cause_confidence = models.FloatField(null=True, blank=True)
    # [{"kind", "url", "excerpt", "data"}], validated on the way in.
    evidence = models.JSONField(default=list, blank=True)
    # [{"kind", "title", "target", "category"}]; become FindingSuggestion rows.
    suggested_actions = models.JSONField(default=list, blank=True)
    # Source-specific normalised data: alert labels, PagerDuty status times.
    meta = models.JSONField(default=dict, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    # The parent's dedupe key as sent; a child that arrives before its parent is
    # linked when the parent arrives.
    parent_key = models.CharField(max_length=340, blank=True)
    opened_incident = models.BooleanField(
        default=False, help_text="This finding opened its incident."
    )
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    verdict = models.CharField(
        max_length=16, choices=RootCauseVerdict.choices, blank=True
    )
    verdict_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # only read when a user is deleted
    )
    verdict_at = models.DateTimeField(null=True, blank=True)
    # The row is its own outbox entry for the follow-up task (timeline, services,
    # suggestions, matches): set by every write, cleared by the task that saw the
    # latest write. Still set at this time, the relay sends the follow-up again
    # (postmortems/findings/services/follow_up_outbox.py).
    follow_up_due = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["first_seen_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "dedupe_key"], name="finding_unique_dedupe_key"
            ),
            models.CheckConstraint(
                condition=models.Q(root_cause_confidence__isnull=True)
                | models.Q(root_cause_confidence__gte=0, root_cause_confidence__lte=1),
                name="finding_confidence_between_0_and_1",
            ),
        ]
        indexes = [
            models.Index(fields=["incident", "first_seen_at"]),
            models.Index(fields=["team", "parent_key"]),
            models.Index(fields=["analyzer", "analyzer_version"]),
            models.Index(fields=["team", "source", "fingerprint"]),
            # Only the few rows whose follow-up has not run yet.
            models.Index(
                fields=["follow_up_due"],
                condition=models.Q(follow_up_due__isnull=False),
                name="finding_follow_up_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.analyzer}: {self.title}"

    @property
    def is_resolved(self) -> bool:
        return self.ended_at is not None


class FindingSuggestion(models.Model):
    """A follow-up action an analyzer suggested, waiting for a person's decision.

    Accepting creates an action item; a re-sent finding never duplicates it
    (unique per finding and ``dedupe_key``, a hash of kind, title and target).
    """

    finding = models.ForeignKey(
        Finding, on_delete=models.CASCADE, related_name="suggestions"
    )
    dedupe_key = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=SuggestionKind.choices)
    title = models.CharField(max_length=200)
    target = models.CharField(max_length=500, blank=True)
    category = models.CharField(max_length=16, choices=SuggestionCategory.choices)
    status = models.CharField(
        max_length=16,
        choices=SuggestionStatus.choices,
        default=SuggestionStatus.PENDING,
    )
    action_item = models.ForeignKey(
        "actions.ActionItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["finding", "dedupe_key"], name="suggestion_unique_per_finding"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"


class FindingMatch(models.Model):
    """A past incident this one resembles whose action item is still open.

    Shown as "this looks like INC-42; its prevention item is still open".
    """

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="finding_matches"
    )
    finding = models.ForeignKey(
        Finding, on_delete=models.CASCADE, related_name="matches"
    )
    past_incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="+"
    )
    action_item = models.ForeignKey(
        "actions.ActionItem", on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["past_incident__started_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "action_item"], name="match_unique_per_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.incident} looks like {self.past_incident}"
