"""Fixtures of the cross-cutting sweeps."""

import pytest

from tests.kb.matrix_client import JIRA_SECRET


@pytest.fixture(autouse=True)
def _tracker_webhook_secret(settings):
    """The matrix signs tracker webhooks as Jira does, with this secret."""
    settings.KB_JIRA_WEBHOOK_SECRET = JIRA_SECRET
