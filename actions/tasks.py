"""Celery tasks for action items: thin wrappers around services."""

from celery import shared_task

from actions import services


@shared_task(
    name="actions.send_reminders",
    autoretry_for=(ConnectionError, TimeoutError, OSError),
    retry_backoff=True,
    max_retries=3,
)
def send_reminders() -> str:
    """Email owners about items due within 3 days or overdue; once a day per item."""
    sent = services.reminders_send()
    return f"sent {sent} reminders"
