"""What Hindsight says in chat. Pure: plain values in, provider-neutral messages out.

Text is plain (each provider escapes it); links are buttons.
"""

import datetime as dt
from dataclasses import dataclass

from chat.providers.base import Button, OutgoingMessage

STATUS_SENTENCES = {
    "in_review": "the postmortem is ready for review",
    "approved": "the postmortem is approved",
    "published": "the postmortem is published: read what we learned",
}


@dataclass(frozen=True)
class ItemFacts:
    title: str
    url: str
    category: str = ""
    owner: str = ""
    due_date: dt.date | None = None
    incident_reference: str = ""


def postmortem_status(
    *, reference: str, title: str, to_status: str, actor: str, url: str
) -> OutgoingMessage:
    sentence = STATUS_SENTENCES[to_status]
    by = f" ({actor})" if actor else ""
    return OutgoingMessage(
        text=f"{reference} {title}: {sentence}{by}.",
        buttons=(Button("Open the postmortem", url, "open_postmortem"),),
    )


def action_item_overdue(*, item: ItemFacts) -> OutgoingMessage:
    owner = f", owner {item.owner}" if item.owner else ", no owner"
    about = f" ({item.incident_reference})" if item.incident_reference else ""
    return OutgoingMessage(
        text=f"Overdue since {item.due_date:%d %b %Y}: {item.title}{about}{owner}.",
        buttons=(Button("Open the action item", item.url, "open_action_item"),),
    )


def action_item_closed(*, item: ItemFacts, status_label: str) -> OutgoingMessage:
    """Replaces the overdue message once the item is closed."""
    about = f" ({item.incident_reference})" if item.incident_reference else ""
    return OutgoingMessage(
        text=f"{status_label}: {item.title}{about} (was overdue since "
        f"{item.due_date:%d %b %Y}).",
        buttons=(Button("Open the action item", item.url, "open_action_item"),),
    )


def alert_matches_past_incident(
    *,
    alert_title: str,
    incident_reference: str,
    incident_url: str,
    past_reference: str,
    past_title: str,
    past_url: str,
    items: list[ItemFacts],
) -> OutgoingMessage:
    """ "This looks like INC-42; its prevention item is still open."""
    if len(items) == 1:
        item = items[0]
        kind = f"{item.category} item" if item.category else "action item"
        open_part = f"its {kind} \u201c{item.title}\u201d is still open"
    else:
        open_part = f"{len(items)} of its action items are still open"
    buttons = [
        Button(f"Open {past_reference}", past_url, "open_past_incident"),
        Button(f"Open {incident_reference}", incident_url, "open_incident"),
    ]
    if len(items) == 1:
        buttons.append(Button("Open the item", items[0].url, "open_action_item"))
    return OutgoingMessage(
        text=f"{incident_reference} \u201c{alert_title}\u201d looks like "
        f"{past_reference} {past_title}; {open_part}.",
        buttons=tuple(buttons),
    )


def incident_linked(*, reference: str, title: str, url: str) -> str:
    return f"This channel now follows {reference} {title}. {url}"
