"""Slack's Events API: reactions that pin messages, edits that update them.

``handle`` gets a verified JSON body and answers (status, body). A body Hindsight
cannot read (an unknown event type, a missing field) is a 400 and writes nothing.
A well-formed event Hindsight has nothing to do with (a reaction or an edit in a
channel linked to no incident, such as the team's channel, where Hindsight's own
chat.update arrives as an edit) is a 200 saying it was ignored: Slack retries
failures and turns off an app's events when most of them fail.
"""

import logging
from dataclasses import dataclass, field

from chat import selectors, services, tasks
from chat.choices import Provider
from chat.slack import blocks, parsing
from chat.slack.parsing import BadRequest
from postmortems import outbox

logger = logging.getLogger(__name__)

# Subscribed in deploy/slack-manifest.yml.
EVENT_TYPES = ("reaction_added", "reaction_removed", "message")


@dataclass
class Answer:
    status: int
    body: dict = field(default_factory=dict)


def handle(payload: dict) -> Answer:
    kind = payload.get("type")
    if kind == "url_verification":
        return Answer(
            200, {"challenge": parsing.text(payload.get("challenge"), "challenge")}
        )
    if kind != "event_callback":
        raise BadRequest(f"Unknown request type {str(kind)[:40]!r}.")
    event = parsing.mapping(payload.get("event"), "event")
    event_type = event.get("type")
    if event_type in ("reaction_added", "reaction_removed"):
        return _reaction(event)
    if event_type == "message":
        return _message(event)
    raise BadRequest(
        f"Unknown event type {str(event_type)[:40]!r}; Hindsight handles "
        f"{', '.join(EVENT_TYPES)}."
    )


def _linked(channel_id: str):
    return selectors.channel_link(provider=Provider.SLACK, channel_id=channel_id)


def _unknown_channel() -> Answer:
    return Answer(200, {"ok": True, "ignored": "channel not linked"})


def _reaction(event: dict) -> Answer:
    reaction = parsing.text(event.get("reaction"), "reaction")
    item = parsing.mapping(event.get("item"), "item")
    if item.get("type") != "message":
        return Answer(200, {"ok": True, "ignored": "not a message"})
    channel_id = parsing.channel_id(item.get("channel"), "item.channel")
    message_ts = parsing.message_ts(item.get("ts"), "item.ts")
    link = _linked(channel_id)
    if link is None:
        return _unknown_channel()
    if reaction != selectors.reaction_for(link):
        return Answer(200, {"ok": True, "ignored": "another reaction"})
    # Reading the message, its reactions, author and permalink takes Slack calls:
    # a task (durable through the outbox), so Slack gets its answer at once. The
    # task reads the message as it is then, for an added and a removed reaction
    # alike, so events arriving out of order, or one of two people removing
    # theirs, leave the timeline right.
    outbox.enqueue(tasks.slack_sync_pin, channel_id=channel_id, message_ts=message_ts)
    return Answer(200, {"ok": True, "queued": "timeline sync"})


def _message(event: dict) -> Answer:
    channel_id = parsing.channel_id(event.get("channel"), "channel")
    if event.get("subtype") != "message_changed":
        # New, deleted or bot messages, in any channel the bot is in (the team's
        # channel too): the timeline only follows edits. Not an error: Slack turns
        # off an app's events when most of them fail.
        return Answer(200, {"ok": True, "ignored": "not an edit"})
    link = _linked(channel_id)
    if link is None:
        return _unknown_channel()
    message = parsing.mapping(event.get("message"), "message")
    message_ts = parsing.message_ts(message.get("ts"), "message.ts")
    text = message.get("text")
    if not isinstance(text, str):
        raise BadRequest("message.text must be a string.")
    edited = services.pinned_message_edit(
        provider=Provider.SLACK,
        channel_id=channel_id,
        message_ts=message_ts,
        text=blocks.to_markdown(text),
    )
    return Answer(200, {"ok": True, "updated": edited})
