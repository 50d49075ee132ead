"""The tracker rules of ``trackers.sync`` as query conditions on action items.

Through the item's reverse ``tracker_link`` relation, so a list or aggregate over
items gets them in the same query (no extra query on the dashboard). Plain Q
objects: importing this loads no models.
"""

from django.db.models import Q

LINK = "tracker_link"
REMOTE = f"{LINK}__remote_status"


def done_unconfirmed() -> Q:
    """Done here, but its linked issue is not done (or not known yet)."""
    return Q(status="done", **{f"{LINK}__isnull": False}) & ~Q(**{REMOTE: "done"})


def confirmed_done() -> Q:
    """Done here and, when linked, done in the tracker: what counts as done."""
    return Q(status="done") & (Q(**{f"{LINK}__isnull": True}) | Q(**{REMOTE: "done"}))


def disagrees() -> Q:
    """The item and its (known) issue differ in open, done or won't do."""
    open_here = Q(status__in=("open", "in_progress", "blocked"))
    open_there = Q(**{f"{REMOTE}__in": ("open", "in_progress")})
    return (
        (open_here & Q(**{f"{REMOTE}__in": ("done", "wont_do")}))
        | (Q(status="done") & (open_there | Q(**{REMOTE: "wont_do"})))
        | (Q(status="wont_do") & (open_there | Q(**{REMOTE: "done"})))
    )
