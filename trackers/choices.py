"""Choices of the trackers app, defined once."""

from django.db import models


class Provider(models.TextChoices):
    # The same values as actions.models.TrackerProvider, which the item keeps.
    JIRA = "jira", "Jira"
    GITHUB = "github", "GitHub"
    LINEAR = "linear", "Linear"


class RemoteStatus(models.TextChoices):
    """What a tracker issue's state means for the action item."""

    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    WONT_DO = "wont_do", "Won't do"


REMOTE_OPEN_STATUSES = (RemoteStatus.OPEN, RemoteStatus.IN_PROGRESS)
