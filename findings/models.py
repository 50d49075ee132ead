"""Analyzer findings, the draft actions they suggest, matches to past incidents,
and the API keys machines send them with.

The tables keep the names they had inside ``postmortems`` (``db_table``): the models
moved to this app without a row moving (migrations/0001_initial.py).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey

from findings.choices import (
    ApiKeyScope,
    EvidenceKind,
    FindingSeverity,
    FindingSource,
    RootCauseVerdict,
    SuggestionCategory,
    SuggestionKind,
    SuggestionStatus,
)
from findings.permissions import FindingMatchQuerySet, FindingQuerySet
from postmortems.models import Incident, Service, Team

__all__ = [
    "ApiKey",
    "ApiKeyScope",
    "EvidenceKind",
    "Finding",
    "FindingMatch",
    "FindingSeverity",
    "FindingSource",
    "FindingSuggestion",
    "IdempotencyRecord",
    "RootCauseVerdict",
    "SuggestionCategory",
    "SuggestionKind",
    "SuggestionStatus",
]


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
    # (findings/dispatch.py).
    follow_up_due = models.DateTimeField(null=True, blank=True, editable=False)

    # Finding.objects.visible_to(user): who may read what (permissions.py).
    objects = FindingQuerySet.as_manager()

    class Meta:
        db_table = "postmortems_finding"
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
        db_table = "postmortems_findingsuggestion"
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

    # FindingMatch.objects.visible_to(user): who may read what (permissions.py).
    objects = FindingMatchQuerySet.as_manager()

    class Meta:
        db_table = "postmortems_findingmatch"
        ordering = ["past_incident__started_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "action_item"], name="match_unique_per_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.incident} looks like {self.past_incident}"


class ApiKey(AbstractAPIKey):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="api_keys")
    scopes = models.JSONField(
        default=list, blank=True, help_text="What the key may do, e.g. findings:write."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        db_table = "postmortems_apikey"
        verbose_name = "API key"
        verbose_name_plural = "API keys"

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])

    @property
    def is_usable(self) -> bool:
        return not self.revoked and not self.has_expired

    def revoke(self) -> None:
        """Mark revoked (irreversible); the caller saves."""
        self.revoked = True
        self.revoked_at = self.revoked_at or timezone.now()


class IdempotencyRecord(models.Model):
    """The response to a request sent with an ``Idempotency-Key`` header.

    The same key with the same body replays the stored response; the same key with a
    different body is refused (422). Records are purged after a day.
    """

    api_key = models.ForeignKey(
        ApiKey, on_delete=models.CASCADE, related_name="idempotency_records"
    )
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "postmortems_idempotencyrecord"
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "key"], name="idempotency_unique_key_per_api_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"
