"""Every write of the chat app, one rule in one place."""

from chat.services.channels import (
    channel_link_create,
    channel_link_delete,
    chat_incident_declare,
)
from chat.services.notifications import (
    chat_notify_action_item_closed,
    chat_notify_action_item_overdue,
    chat_notify_alert_matches,
    chat_notify_postmortem_status,
)
from chat.services.outbox import (
    chat_message_deliver,
    chat_message_queue,
    chat_messages_relay,
    chat_messages_send_again,
)
from chat.services.pins import (
    pinned_message_edit,
    pinned_message_record,
    pinned_message_remove,
)

__all__ = [
    "channel_link_create",
    "channel_link_delete",
    "chat_incident_declare",
    "chat_message_deliver",
    "chat_message_queue",
    "chat_messages_relay",
    "chat_messages_send_again",
    "chat_notify_action_item_closed",
    "chat_notify_action_item_overdue",
    "chat_notify_alert_matches",
    "chat_notify_postmortem_status",
    "pinned_message_edit",
    "pinned_message_record",
    "pinned_message_remove",
]
