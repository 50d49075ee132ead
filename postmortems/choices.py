"""Choices of the core, defined once; the models and everything else import
them from here."""

from django.db import models


class Severity(models.TextChoices):
    SEV0 = "SEV0", "SEV0 - critical"
    SEV1 = "SEV1", "SEV1 - major"
    SEV2 = "SEV2", "SEV2 - minor"
    SEV3 = "SEV3", "SEV3 - low"


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"


class TimelineKind(models.TextChoices):
    ALERT = "alert", "Alert"
    DETECTION = "detection", "Detection"
    ESCALATION = "escalation", "Escalation"
    DIAGNOSIS = "diagnosis", "Diagnosis"
    CHANGE = "change", "Change"
    MITIGATION = "mitigation", "Mitigation"
    COMMUNICATION = "communication", "Communication"
    RECOVERY = "recovery", "Recovery"
    OTHER = "other", "Other"


class TimelineSource(models.TextChoices):
    MANUAL = "manual", "Written by a person"
    ALERT = "alert", "Alert"
    FINDING = "finding", "Analyzer finding"
    IMPORT = "import", "Imported"


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"
    REVIEWER = "reviewer", "Reviewer"
    ADMIN = "admin", "Admin"


class PostmortemStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    PUBLISHED = "published", "Published"


class ContributingFactorKind(models.TextChoices):
    TECHNICAL = "technical", "Technical"
    PROCESS = "process", "Process"
    HUMAN_FACTORS = "human_factors", "Human factors"
    ORGANISATIONAL = "organisational", "Organisational"
    DETECTION_GAP = "detection_gap", "Detection gap"


class HypothesisTrack(models.TextChoices):
    DIAGNOSIS = "diagnosis", "Diagnosis"
    MITIGATION = "mitigation", "Mitigation"


class HypothesisStatus(models.TextChoices):
    OPEN = "open", "Open"
    CONFIRMED = "confirmed", "Confirmed"
    RULED_OUT = "ruled_out", "Ruled out"


class SecurityEventKind(models.TextChoices):
    LOGIN_FAILED = "login_failed", "Login failed"
    LOCKED_OUT = "locked_out", "Locked out after repeated failures"
    API_KEY_CREATED = "api_key_created", "API key created"
    API_KEY_REVOKED = "api_key_revoked", "API key revoked"
    API_KEY_REJECTED = "api_key_rejected", "API key rejected"
    WEBHOOK_SIGNATURE_REJECTED = (
        "webhook_signature_rejected",
        "Webhook signature rejected",
    )
    PERMISSION_DENIED = "permission_denied", "Permission denied on a write"
