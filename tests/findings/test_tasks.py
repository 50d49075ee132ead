"""The findings app's Celery tasks, as the broker and the beat schedule know them."""

from django.conf import settings

from findings import tasks
from kb.celery import app


def test_moved_tasks_keep_their_names():
    """Queued messages and the beat schedule name the tasks as they were named
    when findings lived in postmortems."""
    app.loader.import_default_modules()
    assert {
        "postmortems.findings.follow_up",
        "postmortems.findings.purge_idempotency_records",
        "postmortems.outbox_relay",
    } <= set(app.tasks)
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks


def test_follow_up_sends_the_task_the_worker_runs():
    """dispatch sends the task object the worker registers, under its old name."""
    assert tasks.findings_follow_up.name == "postmortems.findings.follow_up"
    assert (
        app.tasks[tasks.FOLLOW_UP_TASK_NAME]
        is tasks.findings_follow_up._get_current_object()
    )
