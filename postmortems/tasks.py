"""Celery tasks of the postmortems app (thin: load by id, call a service)."""

from celery import shared_task

from postmortems import extensions, outbox


@shared_task(name="postmortems.outbox_relay", ignore_result=True)
def outbox_relay() -> str:
    """Send follow-on tasks that could not reach the broker when they were saved,
    and the durable work other apps keep in their own rows (``extensions.relays``:
    findings' follow-ups that are due again)."""
    sent = outbox.relay_pending()
    others = "".join(
        f" and {relay.sent_label.format(count=relay.send())}"
        for relay in extensions.relays
    )
    return f"sent {sent} task(s){others}"
