"""Thin tasks: ids in, one service call, a short status out."""

from celery import shared_task

from trackers import services


@shared_task(name="trackers.sync")
def tracker_sync(*, link_id: int) -> str:
    """Create the link's issue or fetch its state; failures stay due in the row."""
    return services.tracker_link_sync(link_id=link_id)


@shared_task(name="trackers.reconcile")
def trackers_reconcile() -> str:
    return str(services.trackers_reconcile())
