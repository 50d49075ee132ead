"""What actions plugs into the core's hooks (``postmortems.extensions``),
connected in ``ActionsConfig.ready()``: the core never imports actions."""

from django.utils import timezone

from actions import selectors
from actions.models import ActionItem, Category, Priority, Status


def postmortem_page_context(*, user, postmortem) -> dict:
    """The action-item panel of the postmortem page, and the template showing it
    (the core's page includes it by this name, never naming actions itself)."""
    return {
        **selectors.postmortem_action_items_context(user=user, postmortem=postmortem),
        "action_items_template": "actions/_postmortem_action_items.html",
    }


def import_problems(*, record) -> list[str]:
    """The statuses, priorities and categories an imported record's action items
    name that do not exist here."""
    messages = []
    for item in record.action_items:
        for label, value, allowed in (
            ("status", item.status, Status.values),
            ("priority", item.priority, Priority.values),
            ("category", item.category, Category.values),
        ):
            if value and value not in allowed:
                messages.append(
                    f"action item {item.title!r}: unknown {label} {value!r}"
                )
    return messages


def import_action_items(
    *, record, postmortem, team, teams: dict, people: dict, actor
) -> int:
    """Create the action items of an imported postmortem; return how many."""
    for item in record.action_items:
        item_status = item.status or (Status.DONE if item.done else Status.OPEN)
        done = item_status == Status.DONE
        # Imported items are tracked like any other: the owner is matched by
        # username; without a due date the team sets one.
        ActionItem.objects.create(
            title=item.title,
            description=item.description,
            category=item.category,
            priority=item.priority or Priority.P2,
            team=teams.get(item.team, team) if item.team else team,
            postmortem=postmortem,
            owner=people.get(item.owner),
            due_date=item.due_date,
            status=item_status,
            completed_at=timezone.now() if done else None,
            created_by=actor,
        )
    return len(record.action_items)
