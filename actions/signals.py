"""What happened to action items, for the apps that react to it (notifications,
chat, issue trackers). Sent after commit with ids and plain values; see
``postmortems.signals.send_on_commit``.
"""

from django.dispatch import Signal

# item_id, owner_id, actor_id: an item got a new owner (on creation or later).
action_item_assigned = Signal()
# item_id, from_status, to_status, actor_id: an item's status changed.
action_item_status_changed = Signal()
# items, a list of {"item_id", "due_date" (ISO date)}: the open items past their
# due date, sent once by each morning's reminders (a receiver that announces an
# item once tells the new ones from those it announced before).
action_items_overdue = Signal()
