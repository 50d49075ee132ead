"""Slack interactivity: the buttons on Hindsight's messages.

Every button opens a Hindsight page (a URL button); Slack still reports the click
and expects a 200. Nothing is written, so a click delivered twice is harmless.
"""

from chat.slack import parsing
from chat.slack.events import Answer
from chat.slack.parsing import BadRequest

# The action ids chat/messages.py gives its buttons.
BUTTON_ACTIONS = {
    "open_postmortem",
    "open_action_item",
    "open_incident",
    "open_past_incident",
}


def handle(form: dict[str, str]) -> Answer:
    payload = parsing.json_object(form["payload"].encode())
    kind = payload.get("type")
    if kind != "block_actions":
        raise BadRequest(f"Unknown interaction type {str(kind)[:40]!r}.")
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions:
        raise BadRequest("actions must be a non-empty list.")
    for action in actions:
        action_id = parsing.mapping(action, "action").get("action_id")
        if action_id not in BUTTON_ACTIONS:
            raise BadRequest(f"Unknown action {str(action_id)[:40]!r}.")
    return Answer(200, {"ok": True})
