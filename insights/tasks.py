"""Celery tasks: thin wrappers that load by id and call one service."""

import logging

from celery import shared_task
from django.db import OperationalError

from insights import services
from insights.models import InsightRun, RunKind, RunStatus

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=5,
)
def run_insights(*, run_id: int) -> str:
    """Execute one insights run (full or single postmortem)."""
    if not InsightRun.objects.filter(pk=run_id).exists():
        return "gone"
    try:
        return services.insight_run_execute(run_id=run_id)
    except services.RunNotClaimed:
        status = InsightRun.objects.filter(pk=run_id).values_list("status", flat=True)
        return f"not claimed ({status.first()})"


@shared_task
def run_insights_nightly() -> str:
    """Beat entry: request a full run (recorded as skipped if nothing changed)."""
    run = services.insight_run_request(kind=RunKind.FULL)
    return f"run {run.pk} {RunStatus(run.status).label.lower()}"
