"""Celery tasks of notifications: ids in, a short status out."""

import smtplib

from celery import shared_task

from notifications import services


@shared_task(
    name="notifications.send",
    autoretry_for=(OSError, smtplib.SMTPException),
    retry_backoff=True,
    max_retries=6,
)
def send_notification(notification_id: int) -> str:
    return services.notification_send(notification_id=notification_id)
