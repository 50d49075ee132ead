"""The Slack app manifest shipped in deploy/ matches what Hindsight serves."""

from pathlib import Path
from urllib.parse import urlsplit

import yaml
from django.conf import settings
from django.urls import reverse

from chat.slack import events

MANIFEST = Path(settings.BASE_DIR) / "deploy" / "slack-manifest.yml"


def _manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text())


def test_manifest_points_slack_at_hindsights_three_urls():
    manifest = _manifest()
    [command] = manifest["features"]["slash_commands"]
    urls = {
        urlsplit(command["url"]).path,
        urlsplit(manifest["settings"]["event_subscriptions"]["request_url"]).path,
        urlsplit(manifest["settings"]["interactivity"]["request_url"]).path,
    }
    assert urls == {
        reverse("chat:slack_commands"),
        reverse("chat:slack_events"),
        reverse("chat:slack_interactions"),
    }
    assert command["command"] == "/hindsight"


def test_manifest_subscribes_to_exactly_the_events_hindsight_handles():
    subscribed = set(_manifest()["settings"]["event_subscriptions"]["bot_events"])
    assert {name.split(".")[0] for name in subscribed} == set(events.EVENT_TYPES)
    assert "message.channels" in subscribed and "message.groups" in subscribed


def test_manifest_asks_for_the_scopes_of_every_web_api_call():
    scopes = set(_manifest()["oauth_config"]["scopes"]["bot"])
    # chat.postMessage/update, the command, conversations.history in public and
    # private channels, reactions, users.info and users.lookupByEmail with the
    # email, conversations.open for direct messages.
    assert scopes == {
        "im:write",
        "chat:write",
        "commands",
        "channels:history",
        "groups:history",
        "reactions:read",
        "users:read",
        "users:read.email",
    }
