"""Postmortems, their templates and the records around them."""

import hashlib

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

# Defined in choices.py; also importable from the models, as migrations do.
from postmortems.choices import (  # noqa: F401
    ContributingFactorKind,
    HypothesisStatus,
    HypothesisTrack,
    PostmortemStatus,
)
from postmortems.models.incident import Incident
from postmortems.permissions import PostmortemQuerySet, is_public_status


def text_digest(text: str) -> str:
    """The digest a drafted section is recognised by."""
    return hashlib.sha256((text or "").encode("utf-8", "surrogatepass")).hexdigest()


class PostmortemTemplate(models.Model):
    """The sections a postmortem asks for. Editable in the admin.

    ``sections`` is a list of ``{"key", "title", "help"}``. Keys are shared across
    templates where the meaning is shared (``root_cause``, ``trigger``, ``impact``),
    which is what lets insights read any template.
    """

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    sections = models.JSONField(default=list)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def section_keys(self) -> list[str]:
        return [section["key"] for section in self.sections]


class Postmortem(models.Model):
    incident = models.OneToOneField(
        Incident, on_delete=models.CASCADE, related_name="postmortem"
    )
    template = models.ForeignKey(PostmortemTemplate, on_delete=models.PROTECT)
    status = models.CharField(
        max_length=16, choices=PostmortemStatus.choices, default=PostmortemStatus.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="postmortems_to_review"
    )
    # Markdown text per template section key.
    sections = models.JSONField(default=dict, blank=True)
    five_whys = models.JSONField(default=list, blank=True)
    impact_users_affected = models.PositiveIntegerField(null=True, blank=True)
    impact_revenue_usd = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True
    )
    impact_error_budget_pct = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Share of the period's error budget consumed.",
    )
    impact_regions = models.JSONField(default=list, blank=True)
    # Sections written by postmortems.drafting from the incident's record, as
    # {section key: SHA-256 of the drafted text}. A section stays "drafted" while
    # its text is still exactly what was drafted and nobody accepted it.
    drafted_sections = models.JSONField(default=dict, blank=True, editable=False)
    # The contributing factors and investigation log as readable lines, written
    # with every service save ({"factors": [...], "hypotheses": [...]}), so each
    # history row keeps them and version diffs can compare them. Empty on
    # versions saved before it existed ("not recorded").
    list_parts = models.JSONField(default=dict, blank=True, editable=False)
    # Optimistic locking: every save increments it; a save based on an older
    # version is a conflict (409), never a silent overwrite.
    version = models.PositiveIntegerField(default=1)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Postmortem.objects.visible_to(user): who may read what (permissions.py).
    objects = PostmortemQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-incident__started_at", "-pk"]

    def __str__(self) -> str:
        return f"Postmortem of {self.incident}"

    def get_absolute_url(self) -> str:
        return reverse("postmortems:postmortem_detail", args=[self.pk])

    @property
    def is_public(self) -> bool:
        """Approved or published: everyone signed in reads it, and its incident's
        recorded times change only by a correction."""
        return is_public_status(self.status)

    @property
    def title(self) -> str:
        return self.incident.title

    def section(self, key: str) -> str:
        return (self.sections or {}).get(key, "")

    @property
    def section_items(self) -> list[dict]:
        """The template's sections in order, each with this postmortem's text."""
        drafted = self.drafted_keys
        return [
            {
                **section,
                "text": self.section(section["key"]),
                "drafted": section["key"] in drafted,
            }
            for section in self.template.sections
        ]

    @property
    def drafted_keys(self) -> set[str]:
        """Sections whose text is still the unaccepted first draft."""
        return {
            key
            for key, digest in (self.drafted_sections or {}).items()
            if text_digest(self.section(key)) == digest
        }


class ContributingFactor(models.Model):
    postmortem = models.ForeignKey(
        Postmortem, on_delete=models.CASCADE, related_name="contributing_factors"
    )
    kind = models.CharField(max_length=16, choices=ContributingFactorKind.choices)
    description = models.TextField()
    position = models.PositiveIntegerField(default=0)
    # The analyzer a drafted factor came from; cleared once a person edits or
    # accepts it.
    drafted_from = models.CharField(max_length=100, blank=True, editable=False)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description[:60]}"


class Hypothesis(models.Model):
    """One line of the investigation log: what was suspected and what settled it."""

    postmortem = models.ForeignKey(
        Postmortem, on_delete=models.CASCADE, related_name="hypotheses"
    )
    track = models.CharField(
        max_length=16,
        choices=HypothesisTrack.choices,
        default=HypothesisTrack.DIAGNOSIS,
    )
    text = models.TextField()
    status = models.CharField(
        max_length=16, choices=HypothesisStatus.choices, default=HypothesisStatus.OPEN
    )
    test = models.TextField(blank=True, help_text="The check that settled it.")
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    settled_at = models.DateTimeField(null=True, blank=True)
    # As for contributing factors: the analyzer a drafted hypothesis came from.
    drafted_from = models.CharField(max_length=100, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["track", "created_at", "pk"]
        verbose_name_plural = "hypotheses"

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.text[:60]}"


class WorkflowEvent(models.Model):
    """A change of a postmortem's review state: who, when, and why."""

    postmortem = models.ForeignKey(
        Postmortem, on_delete=models.CASCADE, related_name="workflow_events"
    )
    from_status = models.CharField(max_length=16, choices=PostmortemStatus.choices)
    to_status = models.CharField(max_length=16, choices=PostmortemStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    comment = models.TextField(blank=True)
    # Submitting with unresolved blame hits needs an explicit acknowledgement.
    blame_acknowledged = models.BooleanField(default=False)
    blame_hits = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status} -> {self.to_status} by {self.actor}"


class Comment(models.Model):
    postmortem = models.ForeignKey(
        Postmortem, on_delete=models.CASCADE, related_name="comments"
    )
    section = models.CharField(
        max_length=64,
        blank=True,
        help_text="Section key; empty for the whole document.",
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.section or 'postmortem'}"
