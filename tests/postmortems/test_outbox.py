"""Follow-on tasks survive a broker outage: recorded with the write, sent later."""

import datetime as dt

import pytest
from celery import shared_task
from django.db import transaction

from postmortems import outbox
from postmortems.models import OutboxTask

pytestmark = pytest.mark.django_db

CALLS: list[int] = []


@shared_task(name="tests.outbox_probe")
def outbox_probe(*, value: int) -> None:
    CALLS.append(value)


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()


def _age(row: OutboxTask) -> None:
    OutboxTask.objects.filter(pk=row.pk).update(
        created_at=row.created_at - dt.timedelta(minutes=5)
    )


def test_outbox_enqueue_sends_only_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            outbox.enqueue(outbox_probe, value=1)
            assert CALLS == []
    assert CALLS == [1]
    assert OutboxTask.objects.count() == 0


def test_outbox_rolled_back_write_sends_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            outbox.enqueue(outbox_probe, value=1)
            raise RuntimeError("the save failed")
    assert CALLS == []
    assert OutboxTask.objects.count() == 0


def test_outbox_broker_down_keeps_the_task_pending(
    broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        outbox.enqueue(outbox_probe, value=7)
    row = OutboxTask.objects.get()
    assert row.attempts == 1
    assert "Error" in row.last_error
    assert CALLS == []


def test_outbox_relay_sends_pending_tasks_once_the_broker_is_back(
    broker_down, django_capture_on_commit_callbacks
):
    """GIVEN two tasks saved while the broker was down
    WHEN the broker is back and the relay runs twice
    THEN each task ran exactly once and nothing is left pending."""
    from kb.celery import app

    with django_capture_on_commit_callbacks(execute=True):
        outbox.enqueue(outbox_probe, value=1)
        outbox.enqueue(outbox_probe, value=2)
    for row in OutboxTask.objects.all():
        _age(row)
    assert outbox.relay_pending() == 0  # still down: nothing sent, nothing lost
    assert OutboxTask.objects.count() == 2

    app.conf.task_always_eager = True  # "the broker is back"
    assert outbox.relay_pending() == 2
    assert outbox.relay_pending() == 0
    assert sorted(CALLS) == [1, 2]
    assert OutboxTask.objects.count() == 0


def test_outbox_relay_leaves_fresh_rows_to_their_own_commit_hook():
    row = OutboxTask.objects.create(task_name=outbox_probe.name, kwargs={"value": 3})
    assert outbox.relay_pending() == 0
    _age(row)
    assert outbox.relay_pending() == 1
    assert CALLS == [3]


def test_relay_outbox_command_min_age_zero_sends_fresh_rows_too():
    """Right after an outage the operator sends everything at once."""
    from io import StringIO

    from django.core.management import call_command

    OutboxTask.objects.create(task_name=outbox_probe.name, kwargs={"value": 4})
    out = StringIO()
    call_command("relay_outbox", stdout=out)
    assert CALLS == []  # fresh: left to its own on-commit send
    call_command("relay_outbox", "--min-age", "0", stdout=out)
    assert CALLS == [4]
    last = out.getvalue().splitlines()[-1]
    # The outbox first, then each app's own waiting work, in app order.
    assert last.startswith(
        "Sent 1 pending task(s) and 0 waiting insights run(s) and the follow-up "
        "of 0 finding(s)"
    )
    assert (
        "; 0 task(s) still pending, 0 insights run(s) waiting, "
        "0 finding follow-up(s) not yet run"
    ) in last
