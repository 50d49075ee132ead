"""Hooks other apps fill in from their AppConfig.ready(), so ``actions`` never
imports them (arrows point to the core).

``reference_locks``: callables ``(item) -> str``; a non-empty answer is why the
item's tracker reference (provider, key, URL) may not be edited by hand now,
such as an issue tracker keeping it in step with a live link.
"""

from collections.abc import Callable

from actions.models import ActionItem

reference_locks: list[Callable[[ActionItem], str]] = []

TRACKER_REFERENCE_FIELDS = ("tracker_provider", "tracker_key", "tracker_url")


def reference_lock_reason(item: ActionItem) -> str:
    """Why the item's tracker reference is locked, or "" when it is not."""
    for lock in reference_locks:
        reason = lock(item)
        if reason:
            return reason
    return ""
