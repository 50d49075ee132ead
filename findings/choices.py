"""The findings app's choices, defined once; models, validation and schemas use them."""

from django.db import models


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


class ApiKeyScope(models.TextChoices):
    FINDINGS_WRITE = "findings:write", "Send analyzer findings"
    ALERTS_WRITE = "alerts:write", "Send alerts (Alertmanager, PagerDuty, Robusta)"
    READ = "read", "Read findings"
