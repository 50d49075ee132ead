"""What Hindsight tells chat channels when something happens in the core.

Each function is called by a task with ids, works out the channels (the
incident's linked channels and the team's channel, as the team's settings say),
records one ``ChatMessage`` per channel under a key unique to the event, and sends
the new ones. Running one twice posts nothing twice.
"""

import datetime as dt
import logging

from django.conf import settings

from actions.models import OPEN_STATUSES, ActionItem
from chat import messages, selectors
from chat.choices import Provider
from chat.models import ChatMessage
from chat.providers.base import OutgoingMessage
from chat.services.outbox import (
    chat_message_deliver,
    chat_message_queue,
    chat_messages_update,
)
from findings.models import Finding, FindingMatch
from postmortems.models import Postmortem, WorkflowEvent

logger = logging.getLogger(__name__)

STATUS_FLAGS = {
    "in_review": "notify_review",
    "approved": "notify_approved",
    "published": "notify_published",
}


def _url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _post(
    *, channel_ids: list[str], event_key: str, subject: str, message: OutgoingMessage
) -> list[ChatMessage]:
    rows = chat_message_queue(
        provider=Provider.SLACK,
        channel_ids=channel_ids,
        event_key=event_key,
        subject=subject,
        message=message,
    )
    for row in rows:
        # A failure leaves the row pending for the relay; the others still go.
        chat_message_deliver(message_id=row.pk)
    return rows


def _item_facts(item: ActionItem) -> messages.ItemFacts:
    incident = item.postmortem.incident if item.postmortem_id else None
    return messages.ItemFacts(
        title=item.title,
        url=_url(item.get_absolute_url()),
        category=item.get_category_display().lower(),
        owner=_name(item.owner),
        due_date=item.due_date,
        incident_reference=incident.reference if incident else "",
    )


def chat_notify_postmortem_status(*, postmortem_id: int, to_status: str) -> int:
    """Ready for review, approved, published: tell the incident's and team's
    channels. Returns how many messages were newly recorded."""
    flag = STATUS_FLAGS.get(to_status)
    if flag is None:
        return 0  # sent back to draft: nothing to announce
    postmortem = (
        Postmortem.objects.select_related("incident", "incident__team")
        .filter(pk=postmortem_id)
        .first()
    )
    if postmortem is None:
        return 0
    incident = postmortem.incident
    channels = selectors.channels_for(incident=incident, team=incident.team, flag=flag)
    if not channels:
        return 0
    # The workflow event makes the key: resubmitting after changes is a new event.
    event = (
        WorkflowEvent.objects.filter(postmortem=postmortem, to_status=to_status)
        .select_related("actor")
        .order_by("-pk")
        .first()
    )
    key = (
        f"workflow-event:{event.pk}"
        if event
        else f"postmortem:{postmortem.pk}:{to_status}"
    )
    message = messages.postmortem_status(
        reference=incident.reference,
        title=incident.title,
        to_status=to_status,
        actor=_name(event.actor) if event else "",
        url=_url(postmortem.get_absolute_url()),
    )
    rows = _post(
        channel_ids=channels,
        event_key=key,
        subject=f"postmortem:{postmortem.pk}",
        message=message,
    )
    return len(rows)


def item_subject(item_id: int) -> str:
    """What a message about an action item is about, so later events find it."""
    return f"action-item:{item_id}"


def overdue_event_key(item_id: int, due_date: str) -> str:
    """The overdue announcement's key: once per item and due date (ISO)."""
    return f"{item_subject(item_id)}:overdue:{due_date}"


def chat_notify_action_item_overdue(*, item_id: int, due_date: dt.date) -> int:
    """An item became overdue: once per item and due date (not every morning)."""
    item = (
        ActionItem.objects.select_related(
            "owner", "team", "postmortem", "postmortem__incident"
        )
        .filter(pk=item_id)
        .first()
    )
    if item is None or item.status not in OPEN_STATUSES or item.due_date is None:
        return 0
    incident = item.postmortem.incident if item.postmortem_id else None
    channels = selectors.channels_for(
        incident=incident, team=item.team, flag="notify_overdue"
    )
    rows = _post(
        channel_ids=channels,
        event_key=overdue_event_key(item.pk, item.due_date.isoformat()),
        subject=item_subject(item.pk),
        message=messages.action_item_overdue(item=_item_facts(item)),
    )
    return len(rows)


def chat_notify_action_item_closed(*, item_id: int) -> int:
    """An item announced as overdue was closed: its messages say so."""
    item = (
        ActionItem.objects.select_related("owner", "postmortem", "postmortem__incident")
        .filter(pk=item_id)
        .first()
    )
    if item is None or item.status in OPEN_STATUSES or item.due_date is None:
        return 0
    return chat_messages_update(
        subject=item_subject(item.pk),
        message=messages.action_item_closed(
            item=_item_facts(item), status_label=item.get_status_display()
        ),
    )


def chat_notify_alert_matches(*, finding_ids: list[int]) -> int:
    """Firing alerts that look like a past incident with open action items.

    One message per (incident, past incident), whatever the number of alerts.
    """
    firing = list(
        Finding.objects.filter(pk__in=finding_ids, ended_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not firing:
        return 0
    matches = (
        selectors.alert_matches_visible_to_the_team(finding_ids=firing)
        .select_related(
            "incident",
            "incident__team",
            "finding",
            "past_incident",
            "action_item",
            "action_item__owner",
            "action_item__postmortem",
            "action_item__postmortem__incident",
        )
        .order_by("incident_id", "past_incident_id", "action_item_id")
    )
    groups: dict[tuple[int, int], list[FindingMatch]] = {}
    for match in matches:
        if match.action_item.status in OPEN_STATUSES:
            groups.setdefault((match.incident_id, match.past_incident_id), []).append(
                match
            )
    recorded = 0
    for (incident_id, past_id), group in groups.items():
        first = group[0]
        incident, past = first.incident, first.past_incident
        channels = selectors.channels_for(
            incident=incident, team=incident.team, flag="notify_alert_match"
        )
        if not channels:
            continue
        items = list({m.action_item_id: m.action_item for m in group}.values())
        message = messages.alert_matches_past_incident(
            alert_title=first.finding.title,
            incident_reference=incident.reference,
            incident_url=_url(incident.get_absolute_url()),
            past_reference=past.reference,
            past_title=past.title,
            past_url=_url(past.get_absolute_url()),
            items=[_item_facts(i) for i in items],
        )
        recorded += len(
            _post(
                channel_ids=channels,
                event_key=f"incident:{incident_id}:looks-like:{past_id}",
                subject=f"incident:{incident_id}",
                message=message,
            )
        )
    return recorded
