"""Benchmark: Slack's requests to Hindsight, and the relay of outgoing messages.

Slack gives an app 3 seconds to answer an event or a command before it counts
the delivery as failed (and retries it). This times signed ``reaction_added``
events and ``/hindsight link`` commands through the Django test client (every
middleware, the signature check, the channel lookup, the outbox row of the
background task) against a throwaway SQLite database, with Slack's Web API
served by the local test server (tests/chat/slack_server.py). It also times the
relay sending 500 queued messages (each a chat.postMessage to the local server).

    /work/main/.venv/bin/python bench/chat_bench.py [--repeat 300]

Not a test: nothing here asserts.
"""

import argparse
import hashlib
import hmac
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-signing-secret"
# Slack's deadline for an answer; the target leaves most of it to the network.
TARGET_P95_MS = 300.0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--messages", type=int, default=500)
    return parser.parse_args(argv)


def signed(body: bytes) -> dict:
    timestamp = str(int(time.time()))
    digest = hmac.new(
        SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256
    ).hexdigest()
    return {
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": timestamp,
        "HTTP_X_SLACK_SIGNATURE": f"v0={digest}",
    }


def main(argv=None) -> None:
    args = parse_args(argv)
    from tests.chat import slack_server

    state, httpd = slack_server.start()
    tmp = tempfile.mkdtemp(prefix="chat-bench-")
    for key in [k for k in os.environ if k.startswith("KB_")]:
        del os.environ[key]
    os.environ.update(
        DJANGO_SETTINGS_MODULE="kb.settings",
        KB_DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite3",
        KB_CELERY_BROKER_URL="memory://",
        KB_SLACK_SIGNING_SECRET=SECRET,
        KB_SLACK_BOT_TOKEN="xoxb-bench",
        KB_SLACK_API_URL=state.url,
        KB_LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from bench.report import Result, emit, median, percentile
    from chat import services
    from chat.models import ChannelLink, ChatMessage
    from chat.providers.base import OutgoingMessage
    from postmortems.models import Incident, OutboxTask, Profile, Role, Team

    call_command("migrate", verbosity=0)
    team = Team.objects.create(slug="payments", name="Payments")
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        "ana", email="ana@example.com", password="x"
    )
    profile = Profile.objects.create(user=user, role=Role.EDITOR)
    profile.teams.add(team)
    incident = Incident.objects.create(
        title="Checkout 502s",
        severity="SEV2",
        team=team,
        started_at="2026-05-01T10:00:00Z",
    )
    ChannelLink.objects.create(channel_id="C123ABC456", incident=incident)
    state.answers["users.info"] = (
        200,
        {"ok": True, "user": {"id": "U2", "profile": {"email": "ana@example.com"}}},
    )

    client = Client()
    event = json.loads(
        (slack_server.FIXTURES / "events" / "reaction_added.json").read_text()
    )
    command = json.loads((slack_server.FIXTURES / "commands" / "link.json").read_text())
    command["text"] = f"link {incident.reference}"

    def timed(url: str, body: bytes, kind: str) -> list[float]:
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            response = client.post(url, data=body, content_type=kind, **signed(body))
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content
        return times

    # The task itself would run on a worker; here only its outbox row is written
    # (the in-memory broker has no consumer).
    events = timed("/chat/slack/events", json.dumps(event).encode(), "application/json")
    commands = timed(
        "/chat/slack/commands",
        urlencode(command).encode(),
        "application/x-www-form-urlencoded",
    )
    print(
        f"events: median {median(events):.1f} ms, p95 {percentile(events, 95):.1f} ms;"
        f" commands: median {median(commands):.1f} ms, "
        f"p95 {percentile(commands, 95):.1f} ms; "
        f"{OutboxTask.objects.count()} task(s) still waiting in the outbox"
    )

    ChatMessage.objects.all().delete()
    services.chat_message_queue(
        provider="slack",
        channel_ids=[f"C{n:08d}" for n in range(args.messages)],
        event_key="bench:1",
        subject="bench",
        message=OutgoingMessage(text="INC-1 Checkout 502s: ready for review."),
    )
    started = time.perf_counter()
    sent = 0
    while True:
        batch = services.chat_messages_relay()
        sent += batch
        if not batch:
            break
    relay_rate = sent / (time.perf_counter() - started)
    print(f"relay: {sent} messages at {relay_rate:.0f}/s")
    httpd.shutdown()

    emit(
        "chat",
        [
            Result("Slack event median", round(median(events), 1), "ms"),
            Result(
                "Slack event p95",
                round(percentile(events, 95), 1),
                "ms",
                target=TARGET_P95_MS,
                note="signed reaction_added to a linked channel; Slack allows 3 s",
            ),
            Result(
                "/hindsight link p95",
                round(percentile(commands, 95), 1),
                "ms",
                target=TARGET_P95_MS,
                note="includes users.info on the local Slack server",
            ),
            Result(
                "relay of queued messages",
                round(relay_rate),
                "messages/s",
                better="higher",
                note="chat.postMessage to the local server; Slack itself allows "
                "about 1 message/s per channel",
            ),
        ],
    )


if __name__ == "__main__":
    main()
