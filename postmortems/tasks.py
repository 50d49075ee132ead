"""Celery tasks of the postmortems app (thin: load by id, call a service)."""

from celery import shared_task

from postmortems import outbox
from postmortems.findings.tasks import (  # noqa: F401 - registers them
    findings_follow_up,
    idempotency_records_purge,
)


@shared_task(name="postmortems.outbox_relay", ignore_result=True)
def outbox_relay() -> str:
    """Send follow-on tasks that could not reach the broker when they were saved."""
    sent = outbox.relay_pending()
    return f"sent {sent}"
