"""The core's events, turned into chat tasks (durably, through the outbox).

Receivers only decide whether there is anything to do and enqueue a task with
ids; the tasks do the work. Nothing happens while Slack is not configured.
"""

from django.conf import settings

from actions import signals as action_signals
from actions.models import OPEN_STATUSES
from chat import tasks
from chat.models import ChatMessage
from chat.services.notifications import (
    STATUS_FLAGS,
    item_subject,
    overdue_event_key,
)
from findings.models import FindingMatch
from postmortems import outbox
from postmortems import signals as core_signals


def chat_enabled() -> bool:
    return bool(settings.KB_SLACK_BOT_TOKEN)


def on_postmortem_status_changed(sender, *, postmortem_id, to_status, **kwargs) -> None:
    if chat_enabled() and to_status in STATUS_FLAGS:
        outbox.enqueue(
            tasks.notify_postmortem_status,
            postmortem_id=postmortem_id,
            to_status=to_status,
        )


def on_action_items_overdue(sender, *, items, **kwargs) -> None:
    """A task for each item not yet announced as overdue for its due date; every
    morning lists them all, and most were announced on an earlier one.

    An item announced once is not announced again to a channel linked since:
    linking a channel does not replay the team's backlog of overdue items into it.
    """
    if not chat_enabled():
        return
    keys = {overdue_event_key(i["item_id"], i["due_date"]): i for i in items}
    announced = set()
    batch = list(keys.items())
    for start in range(0, len(batch), 500):
        chunk = batch[start : start + 500]
        announced.update(
            # By subject, which is indexed; the key then picks the due date.
            ChatMessage.objects.filter(
                subject__in={item_subject(i["item_id"]) for _, i in chunk},
                event_key__in=[key for key, _ in chunk],
            ).values_list("event_key", flat=True)
        )
    for key, item in keys.items():
        if key not in announced:
            outbox.enqueue(
                tasks.notify_action_item_overdue,
                item_id=item["item_id"],
                due_date=item["due_date"],
            )


def on_action_item_status_changed(
    sender, *, item_id, from_status, to_status, **kwargs
) -> None:
    if (
        chat_enabled()
        and to_status not in OPEN_STATUSES
        and ChatMessage.objects.filter(subject=item_subject(item_id)).exists()
    ):
        outbox.enqueue(tasks.notify_action_item_closed, item_id=item_id)


def on_alert_fired(sender, *, finding_ids, **kwargs) -> None:
    # Most alerts look like no past incident: no task for them (one indexed read).
    if (
        chat_enabled()
        and finding_ids
        and FindingMatch.objects.filter(finding_id__in=finding_ids).exists()
    ):
        outbox.enqueue(tasks.notify_alert_matches, finding_ids=list(finding_ids))


def connect() -> None:
    core_signals.postmortem_status_changed.connect(
        on_postmortem_status_changed, dispatch_uid="chat.postmortem_status"
    )
    core_signals.alert_fired.connect(on_alert_fired, dispatch_uid="chat.alert_fired")
    action_signals.action_items_overdue.connect(
        on_action_items_overdue, dispatch_uid="chat.action_items_overdue"
    )
    action_signals.action_item_status_changed.connect(
        on_action_item_status_changed, dispatch_uid="chat.action_item_status"
    )
