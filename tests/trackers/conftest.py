"""Fixtures of the tracker tests: a local fake tracker, credentials, team configs."""

import hashlib
import hmac

import pytest

from tests import factories
from tests.trackers import fake_server
from trackers.models import TrackerConfig

SECRETS = {"jira": "jira-secret", "github": "github-secret", "linear": "linear-secret"}
PROJECTS = {
    "jira": "OPS",
    "github": "octocat/Hello-World",
    "linear": "72b2a2dc-6f4f-4423-9d34-24b5bd10634a",
}
KEYS = {"jira": "OPS-24", "github": "octocat/Hello-World#1347", "linear": "ENG-123"}


@pytest.fixture
def fake_tracker(settings):
    """One local server standing in for Jira, GitHub and Linear at once."""
    fake, server = fake_server.start()
    settings.KB_JIRA_BASE_URL = fake.url
    settings.KB_JIRA_EMAIL = "hindsight@example.com"
    settings.KB_JIRA_API_TOKEN = "jira-token"
    settings.KB_JIRA_WEBHOOK_SECRET = SECRETS["jira"]
    settings.KB_GITHUB_API_URL = fake.url
    settings.KB_GITHUB_TOKEN = "github-token"
    settings.KB_GITHUB_WEBHOOK_SECRET = SECRETS["github"]
    settings.KB_LINEAR_API_URL = f"{fake.url}/graphql"
    settings.KB_LINEAR_API_KEY = "lin_api_key"
    settings.KB_LINEAR_WEBHOOK_SECRET = SECRETS["linear"]
    settings.KB_TRACKER_TIMEOUT = 5
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def tracker_config(team):
    def _make(provider: str, **fields) -> TrackerConfig:
        fields.setdefault("labels", "postmortem, hindsight")
        return TrackerConfig.objects.create(
            team=team, provider=provider, project=PROJECTS[provider], **fields
        )

    return _make


@pytest.fixture
def item(team, editor):
    return factories.ActionItemFactory(team=team, owner=editor)


def sign(provider: str, body: bytes, secret: str | None = None) -> dict:
    """The headers the provider sends with ``body``, signed as it signs."""
    digest = hmac.new(
        (secret or SECRETS[provider]).encode(), body, hashlib.sha256
    ).hexdigest()
    if provider == "jira":
        return {"HTTP_X_HUB_SIGNATURE": f"sha256={digest}"}
    if provider == "github":
        return {
            "HTTP_X_HUB_SIGNATURE_256": f"sha256={digest}",
            "HTTP_X_GITHUB_EVENT": "issues",
        }
    return {"HTTP_LINEAR_SIGNATURE": digest}
