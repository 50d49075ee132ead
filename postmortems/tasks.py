"""Celery tasks of the postmortems app (thin: load by id, call a service)."""

from celery import shared_task

from postmortems import outbox
from postmortems.findings.services.follow_up_outbox import follow_ups_relay
from postmortems.findings.tasks import (  # noqa: F401 - registers them
    findings_follow_up,
    idempotency_records_purge,
)


@shared_task(name="postmortems.outbox_relay", ignore_result=True)
def outbox_relay() -> str:
    """Send follow-on tasks that could not reach the broker when they were saved,
    and findings' follow-ups that are due again."""
    sent = outbox.relay_pending()
    findings = follow_ups_relay()
    return f"sent {sent} task(s) and the follow-up of {findings} finding(s)"
