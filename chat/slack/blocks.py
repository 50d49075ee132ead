"""Slack's message formats, both ways. Pure: plain data in, plain data out."""

import re

from chat.providers.base import OutgoingMessage

# Slack caps a section's text at 3,000 characters and a button's at 75.
SECTION_LIMIT = 3000
BUTTON_TEXT_LIMIT = 75


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn reserves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def message_blocks(message: OutgoingMessage) -> list[dict]:
    """Block Kit for a message: its text, then a row of link buttons."""
    result: list[dict] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": escape(message.text)[:SECTION_LIMIT]},
        }
    ]
    if message.buttons:
        result.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {
                            "type": "plain_text",
                            "text": button.text[:BUTTON_TEXT_LIMIT],
                        },
                        "url": button.url,
                        "action_id": button.action_id,
                    }
                    for button in message.buttons
                ],
            }
        )
    return result


_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def to_markdown(text: str, *, names: dict[str, str] | None = None) -> str:
    """Slack's message text as Markdown: links, mentions and channels readable.

    ``<https://x|label>`` becomes ``[label](https://x)``, ``<@U1>`` becomes
    ``@name`` (from ``names``, else the id), ``<#C1|ops>`` ``#ops``.
    """
    names = names or {}

    def replace(match: re.Match) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            user_id = target[1:]
            return "@" + (label or names.get(user_id) or user_id)
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            # <!here>, <!channel>, <!subteam^ID|@team>
            return label or "@" + target[1:].split("^")[0]
        if target.startswith(("http://", "https://", "mailto:")):
            return f"[{label}]({target})" if label else target
        return match.group(0)

    converted = _LINK.sub(replace, text)
    return converted.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
