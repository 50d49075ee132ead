"""Fixtures of the cross-cutting sweeps, and the schemathesis run's case count."""

import sys

import pytest

from tests.kb.matrix_client import JIRA_SECRET


@pytest.fixture(autouse=True)
def _tracker_webhook_secret(settings):
    """The matrix signs tracker webhooks as Jira does, with this secret."""
    settings.KB_JIRA_WEBHOOK_SECRET = JIRA_SECRET


def pytest_terminal_summary(terminalreporter):
    """How many requests the schemathesis run sent (tests/kb/test_api_fuzz.py)."""
    module = sys.modules.get("tests.kb.test_api_fuzz")
    count = module.CASES_SENT["count"] if module else 0
    if count:
        terminalreporter.write_line(f"schemathesis: {count} cases sent")
