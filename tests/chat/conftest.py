"""Slack without Slack: a local Web API server, and requests signed as Slack does."""

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import pytest

from chat.models import ChannelLink, TeamChatSettings
from tests import factories
from tests.chat import slack_server

# The signing secret of Slack's own documentation example.
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
CHANNEL = "C123ABC456"
# The team's own channel (``team_channel``).
TEAM_CHANNEL = "C0TEAM0001"


def channel_posts(slack) -> list[dict]:
    """Posts to channels (direct messages, D..., are personal notifications:
    tests/notifications/test_chat_notifications.py)."""
    return [
        c.params
        for c in slack.called("chat.postMessage")
        if not c.params["channel"].startswith("D")
    ]


def sign(body: bytes, *, timestamp: int | None = None, secret: str = SIGNING_SECRET):
    """Slack's headers for ``body``: v0=HMAC-SHA256(secret, "v0:ts:body")."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": str(timestamp),
        "HTTP_X_SLACK_SIGNATURE": f"v0={digest}",
    }


@pytest.fixture(scope="session")
def _slack_server():
    state, httpd = slack_server.start()
    yield state
    httpd.shutdown()


@pytest.fixture
def slack(_slack_server, settings):
    """The local Slack Web API, with Hindsight configured to use it."""
    _slack_server.calls.clear()
    _slack_server.answers.clear()
    settings.KB_SLACK_API_URL = _slack_server.url
    settings.KB_SLACK_BOT_TOKEN = BOT_TOKEN
    settings.KB_SLACK_SIGNING_SECRET = SIGNING_SECRET
    settings.SITE_URL = "https://hindsight.example.com"
    return _slack_server


@pytest.fixture
def post_signed(client):
    """POST a body to one of the Slack URLs, signed as Slack signs it."""

    def _post(url: str, body: bytes | dict, *, form: bool = False, **headers):
        if isinstance(body, dict):
            body = urlencode(body).encode() if form else json.dumps(body).encode()
        kind = "application/x-www-form-urlencoded" if form else "application/json"
        signed = sign(body)
        signed.update(headers)
        return client.post(url, data=body, content_type=kind, **signed)

    return _post


@pytest.fixture
def incident(team):
    return factories.IncidentFactory(team=team, title="Checkout latency")


@pytest.fixture
def linked(incident):
    return ChannelLink.objects.create(channel_id=CHANNEL, incident=incident)


@pytest.fixture
def team_channel(team):
    return TeamChatSettings.objects.create(team=team, channel_id=TEAM_CHANNEL)
