"""Hooks other apps fill in from their AppConfig.ready(), so ``actions`` never
imports them (arrows point to the core).

``reference_locks``: callables ``(item) -> str``; a non-empty answer is why the
item's tracker reference (provider, key, URL) may not be edited by hand now,
such as an issue tracker keeping it in step with a live link.

``done_confirmations``: other records of the same work (an issue tracker) that
must agree before a done item counts as done. Each offers two query conditions
on action items, so lists, filters and the dashboard's aggregates keep them in
the same query: ``unconfirmed()`` (items that record does not confirm as done)
and ``disagrees()`` (items it tells a different story about).
"""

import functools
import operator
from collections.abc import Callable
from typing import Protocol

from django.db.models import Q

from actions.models import ActionItem, Status

reference_locks: list[Callable[[ActionItem], str]] = []

TRACKER_REFERENCE_FIELDS = ("tracker_provider", "tracker_key", "tracker_url")

# True of no row: what an empty list of confirmations answers.
_NOTHING = Q(pk__isnull=True)


class DoneConfirmation(Protocol):
    def unconfirmed(self) -> Q: ...

    def disagrees(self) -> Q: ...


done_confirmations: list[DoneConfirmation] = []


def reference_lock_reason(item: ActionItem) -> str:
    """Why the item's tracker reference is locked, or "" when it is not."""
    for lock in reference_locks:
        reason = lock(item)
        if reason:
            return reason
    return ""


def _any(conditions: list[Q]) -> Q:
    return functools.reduce(operator.or_, conditions) if conditions else _NOTHING


def done_unconfirmed() -> Q:
    """Done here, but another record of the work does not say so (yet)."""
    return Q(status=Status.DONE) & _any([c.unconfirmed() for c in done_confirmations])


def confirmed_done() -> Q:
    """Done here and in every other record of the work: what counts as done."""
    return Q(status=Status.DONE) & ~_any([c.unconfirmed() for c in done_confirmations])


def disagrees() -> Q:
    """Another record of the work tells a different story (open, done, won't do)."""
    return _any([c.disagrees() for c in done_confirmations])
