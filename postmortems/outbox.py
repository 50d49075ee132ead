"""Enqueue Celery tasks durably (the transactional outbox pattern).

``enqueue(task, **kwargs)`` writes an ``OutboxTask`` row in the caller's transaction
and sends the task to the broker after commit. When the broker is unreachable the
save still succeeds at once; the row stays pending and ``relay_pending()`` (run every
minute by beat, and by ``manage.py relay_outbox``) sends it when the broker is back.
Tasks must be idempotent: a task may be sent twice if the process dies between the
broker accepting it and the row being deleted.
"""

import datetime as dt
import json
import logging

from celery import Task, current_app
from celery.exceptions import NotRegistered
from django.db import connections, router, transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import KombuError

from postmortems.models.outbox import OutboxTask

logger = logging.getLogger(__name__)

# Errors that mean "the broker is not there", as opposed to a bug in the task.
BROKER_ERRORS = (KombuError, ConnectionError, OSError, TimeoutError)
# Fresh rows are being sent by their own on-commit hook; leave them to it.
RELAY_GRACE = dt.timedelta(seconds=30)


def enqueue(task: Task, /, **kwargs) -> int:
    """Record ``task(**kwargs)`` with the current transaction; send it on commit.

    Returns the outbox row's id.
    """
    outbox_id = _insert(task.name, kwargs)
    # The hook already knows what to send: no read of the row on the hot path.
    transaction.on_commit(lambda: _publish(outbox_id, task.name, kwargs))
    return outbox_id


def send(outbox_id: int) -> bool:
    """Send one recorded task; True when the broker accepted it."""
    row = OutboxTask.objects.filter(pk=outbox_id).first()
    if row is None:
        return True  # already sent by someone else
    return _publish(row.pk, row.task_name, row.kwargs)


def _publish(outbox_id: int, task_name: str, kwargs: dict) -> bool:
    task = _task(task_name)
    try:
        task.apply_async(kwargs=kwargs, retry=False)
    except BROKER_ERRORS as exc:
        logger.warning(
            "Broker unavailable; %s stays pending in the outbox: %s", task_name, exc
        )
        OutboxTask.objects.filter(pk=outbox_id).update(
            attempts=F("attempts") + 1, last_error=f"{exc.__class__.__name__}: {exc}"
        )
        return False
    _delete(outbox_id)
    return True


# Every insights run, notification and chat message queued writes and then
# drops an outbox row, so both are single statements: the ORM's create() and
# delete() cost more CPU than the round trips (a deletion collector, a
# transaction of its own). The table has no dependants and no
# signals. (Findings' follow-ups do not pass through here: the finding rows are
# their own outbox.)


def _table():
    """The outbox's database connection and its quoted table name."""
    connection = connections[router.db_for_write(OutboxTask)]
    return connection, connection.ops.quote_name(OutboxTask._meta.db_table)


def _insert(task_name: str, kwargs: dict) -> int:
    connection, table = _table()
    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (task_name, kwargs, attempts, last_error, created_at)"
            " VALUES (%s, %s, 0, '', %s) RETURNING id",
            [task_name, json.dumps(kwargs), created_at],
        )
        return cursor.fetchone()[0]


def _delete(outbox_id: int) -> None:
    connection, table = _table()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [outbox_id])


def _task(name: str) -> Task:
    try:
        return current_app.tasks[name]
    except NotRegistered:
        # A process that never imported the task's module (``manage.py
        # relay_outbox``): load every app's tasks, as a worker does at start.
        current_app.loader.import_default_modules()
        return current_app.tasks[name]


def relay_pending(*, limit: int = 500, grace: dt.timedelta = RELAY_GRACE) -> int:
    """Send tasks still pending after the grace period; returns how many were sent."""
    cutoff = timezone.now() - grace
    ids = list(
        OutboxTask.objects.filter(created_at__lt=cutoff)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for outbox_id in ids:
        if not send(outbox_id):
            break  # the broker is still down: stop, the next run tries again
        sent += 1
    return sent
