"""Choices of the actions app, defined once; the models and everything else
import them from here."""

from django.db import models


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


class Decision(models.TextChoices):
    REDATE = "redate", "Re-date"
    ACCEPT_RISK = "accept_risk", "Accept the risk"
    ESCALATE = "escalate", "Escalate"
    WONT_DO = "wont_do", "Close as won't do"
