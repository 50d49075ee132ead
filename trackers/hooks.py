"""What trackers plugs into actions' extension points (see trackers/apps.py)."""

from actions.models import ActionItem
from trackers.models import TrackerLink


def reference_lock(item: ActionItem) -> str:
    """A linked item's tracker reference follows its issue: not edited by hand."""
    link = TrackerLink.objects.filter(item_id=item.pk).first()
    if link is None:
        return ""
    return (
        f"This item follows {link}; unlink it on the item's page first to change "
        "its tracker reference."
    )
