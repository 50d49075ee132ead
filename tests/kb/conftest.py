"""Fixtures of the cross-cutting sweeps (the schemathesis case count is printed by
tests/conftest.py, which an xdist controller loads)."""

import pytest

from tests.kb.matrix_client import JIRA_SECRET


@pytest.fixture(autouse=True)
def _tracker_webhook_secret(settings):
    """The matrix signs tracker webhooks as Jira does, with this secret."""
    settings.KB_JIRA_WEBHOOK_SECRET = JIRA_SECRET
