"""The tracker rules of ``trackers.sync`` as query conditions on action items,
registered with ``actions.extensions.done_confirmations`` (see trackers/apps.py).

Each is ``pk IN (a subquery over the links)``: links are few next to items, so the
database reads them once, and a list or aggregate over items gets the condition
in the same query (no extra query on the dashboard, and no join per item).
"""

from django.db.models import Q

from actions.choices import OPEN_STATUSES as OPEN_HERE
from trackers.choices import REMOTE_OPEN_STATUSES as OPEN_THERE
from trackers.models import TrackerLink


def _items(condition: Q) -> Q:
    return Q(pk__in=TrackerLink.objects.filter(condition).values("item_id"))


def unconfirmed() -> Q:
    """Linked to an issue that is not done (or whose state is not known yet)."""
    return _items(~Q(remote_status="done"))


def disagrees() -> Q:
    """The item and its (known) issue differ in open, done or won't do."""
    return _items(
        Q(item__status__in=OPEN_HERE, remote_status__in=("done", "wont_do"))
        | Q(item__status="done", remote_status__in=(*OPEN_THERE, "wont_do"))
        | Q(item__status="wont_do", remote_status__in=(*OPEN_THERE, "done"))
    )
