"""Choices of the insights app, defined once; the models and everything else
import them from here."""

from django.db import models


class ClassStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    MERGED = "merged", "Merged"


class ClassOrigin(models.TextChoices):
    TAXONOMY = "taxonomy", "Starter taxonomy"
    PERSON = "person", "Created by a person"
    CLUSTER = "cluster", "Proposed by clustering"


class ClassAxis(models.TextChoices):
    """What a class names: the change that set an incident off, read from the
    trigger, or the mechanism by which things failed, read from the root cause
    and contributing factors."""

    CHANGE = "change", "A change that set incidents off"
    MECHANISM = "mechanism", "How things failed"


class ClassificationSource(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed by a person"
    CLASSIFIER = "classifier", "Learned from confirmed examples"
    TAXONOMY = "taxonomy", "Matched a class description"
    CLUSTER = "cluster", "Clustered with similar postmortems"
    NONE = "none", "Fits no class yet"


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped (inputs unchanged)"


class RunKind(models.TextChoices):
    FULL = "full", "All postmortems"
    SINGLE = "single", "One postmortem"


class StatementKind(models.TextChoices):
    ROOT_CAUSE = "root_cause", "Root cause"
    TRIGGER = "trigger", "Trigger"
    FACTOR = "factor", "Contributing factor"
