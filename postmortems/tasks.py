"""Celery's autodiscovery imports ``<app>.tasks``: re-export the app's task modules."""

from postmortems.findings.tasks import (  # noqa: F401
    findings_follow_up,
    idempotency_records_purge,
)
