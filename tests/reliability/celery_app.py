"""Celery app for the fault tests: the real app and tasks, a slow fake embedder.

Started as ``celery -A tests.reliability.celery_app worker``. It is the app of the
insights worker-kill test (tests/insights/celery_slow.py: each embedding sleeps
``SLOW_EMBED_SECONDS``), with one change: the worker looks for unacknowledged tasks
whose visibility timeout has passed every second instead of every ~100 s (kombu's
``unacked_restore_interval`` x ``unacked_restore_throttle``), so a killed worker's
task comes back within seconds of the shortened timeout.
"""

from tests.insights.celery_slow import app

app.conf.broker_transport_options = {
    **(app.conf.broker_transport_options or {}),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
