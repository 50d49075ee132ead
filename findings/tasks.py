"""Celery tasks for findings: thin, idempotent, ids as arguments.

The names are the ones these tasks had when findings lived inside postmortems:
queued messages and the beat schedule (kb/settings.py) know them by these.
"""

import logging

from celery import shared_task
from django.db import OperationalError

from findings import follow_up
from findings.services.idempotency import idempotency_records_purge as purge

logger = logging.getLogger(__name__)

# The follow-up task's name from when findings lived in postmortems: messages
# already queued, and workers not yet upgraded, know it by this name.
FOLLOW_UP_TASK_NAME = "postmortems.findings.follow_up"


@shared_task(
    name=FOLLOW_UP_TASK_NAME,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def findings_follow_up(
    *, incident_id: int | None = None, finding_ids: list[int] | None = None
) -> str:
    """Timeline entries, service links, draft suggestions and past-incident matches
    for an incident's findings that are due, or for these findings (the messages
    sent before findings recorded their own follow-up: all of them, due or not)."""
    if incident_id is not None:
        return follow_up.incident_findings_follow_up(incident_id=incident_id)
    return follow_up.findings_follow_up(finding_ids=finding_ids or [])


@shared_task(name="postmortems.findings.purge_idempotency_records")
def idempotency_records_purge() -> str:
    """Forget Idempotency-Key responses older than a day."""
    deleted = purge()
    return f"purged {deleted} idempotency records"
