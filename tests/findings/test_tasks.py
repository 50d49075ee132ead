"""The findings app's Celery tasks, as the broker and the beat schedule know them."""

from django.conf import settings

from findings import follow_up, tasks
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
    """follow_up sends by name what findings.tasks registers under it."""
    assert tasks.findings_follow_up.name == follow_up.TASK_NAME
    assert (
        app.tasks[follow_up.TASK_NAME] is tasks.findings_follow_up._get_current_object()
    )
