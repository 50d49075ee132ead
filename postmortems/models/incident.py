"""Incidents and their timelines."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

# Defined in choices.py; also importable from the models, as migrations do.
from postmortems.choices import (  # noqa: F401
    IncidentStatus,
    Severity,
    TimelineKind,
    TimelineSource,
)
from postmortems.metrics import lifecycle_errors
from postmortems.models.org import Service, Team
from postmortems.permissions import IncidentQuerySet

# Shown beside the severity picker and in docs/severity.md.
SEVERITY_DEFINITIONS = {
    Severity.SEV0: "Critical: the whole product or a core flow (login, checkout) is "
    "down or losing data for most users; all hands, executive updates every 30 min.",
    Severity.SEV1: "Major: a core feature is unavailable or badly degraded for many "
    "users, or a security or data-integrity risk; page the owning team at once.",
    Severity.SEV2: "Minor: a feature is degraded for some users or a workaround "
    "exists; handled by the owning team during working hours.",
    Severity.SEV3: "Low: little or no user impact (internal tooling, a near miss); "
    "worth learning from.",
}


# The incident's lifecycle timestamps, in the order they should happen.
LIFECYCLE_FIELDS = (
    "started_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
)


class Incident(models.Model):
    title = models.CharField(max_length=200)
    severity = models.CharField(max_length=4, choices=Severity.choices)
    status = models.CharField(
        max_length=16,
        choices=IncidentStatus.choices,
        default=IncidentStatus.INVESTIGATING,
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="incidents")
    services = models.ManyToManyField(Service, blank=True, related_name="incidents")
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="incident commander",
    )
    comms_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="communications lead",
    )
    ops_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="operations lead",
    )
    scribe = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(help_text="When impact began.")
    detected_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    near_miss = models.BooleanField(
        default=False,
        help_text="Nothing reached customers: caught or contained before any "
        "customer impact. Near misses still feed the failure classes.",
    )
    # An outside system's identity for this incident (Alertmanager groupKey,
    # PagerDuty incident id, a demo key); unique per source.
    external_source = models.CharField(max_length=32, blank=True)
    external_key = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Incident.objects.writable_by(user): where a write may reach (permissions.py).
    objects = IncidentQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_source", "external_key"],
                condition=~models.Q(external_key=""),
                name="incident_unique_external_key",
            )
        ]
        indexes = [models.Index(fields=["severity", "started_at"])]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("postmortems:incident_detail", args=[self.pk])

    def clean(self) -> None:
        errors = lifecycle_errors(self.lifecycle)
        if errors:
            raise ValidationError(errors)

    @property
    def reference(self) -> str:
        return f"INC-{self.pk}"

    @property
    def lifecycle(self) -> dict:
        """The lifecycle timestamps by field name, in order."""
        return {name: getattr(self, name) for name in LIFECYCLE_FIELDS}


class TimelineEntry(models.Model):
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="timeline"
    )
    occurred_at = models.DateTimeField()
    kind = models.CharField(
        max_length=16, choices=TimelineKind.choices, default=TimelineKind.OTHER
    )
    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(
        max_length=16, choices=TimelineSource.choices, default=TimelineSource.MANUAL
    )
    # Machine-written entries carry a key so re-delivery never duplicates them.
    dedupe_key = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "pk"]
        verbose_name_plural = "timeline entries"
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="timeline_unique_dedupe_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.get_kind_display()}"
