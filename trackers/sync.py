"""Pure rules for keeping an action item in step with its tracker issue.

Plain strings in and out (action-item statuses and ``RemoteStatus`` values), no
ORM. The tracker is the source of truth for a linked item: its closing moves the
item, and where the two differ the pages say so.
"""

from actions.choices import OPEN_STATUSES
from trackers.choices import REMOTE_OPEN_STATUSES


def item_group(status: str) -> str:
    """``open``, ``done`` or ``wont_do``: what both sides are compared on."""
    return "open" if status in OPEN_STATUSES else status


def remote_group(remote_status: str) -> str:
    return "open" if remote_status in REMOTE_OPEN_STATUSES else remote_status


def transition(*, item_status: str, remote_status: str) -> str | None:
    """The status the item moves to when its issue is ``remote_status``, or None.

    Done and won't do follow the tracker. An issue being worked on moves an open
    (or closed) item to in progress, but leaves a blocked one alone: Hindsight
    knows more than the tracker there. An open issue reopens a closed item and
    otherwise leaves the item's finer status as it is.
    """
    if not remote_status:
        return None
    if remote_status in ("done", "wont_do"):
        return remote_status if item_status != remote_status else None
    if remote_status == "in_progress":
        return "in_progress" if item_status in ("open", "done", "wont_do") else None
    if remote_status == "open":
        return "open" if item_status in ("done", "wont_do") else None
    return None


def disagreement(*, item_status: str, remote_status: str) -> bool:
    """True when the item and its issue tell different stories (open/done/won't do).

    An issue whose state is not known yet (being created) disagrees with nothing.
    """
    if not remote_status:
        return False
    return item_group(item_status) != remote_group(remote_status)


def counts_as_done(*, item_status: str, remote_status: str | None) -> bool:
    """Done for the dashboard: done here, and done in the tracker if linked."""
    if item_status != "done":
        return False
    return remote_status is None or remote_status == "done"
