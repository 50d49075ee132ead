"""Morning reminders: due within 3 days or overdue, at most once per item per day."""

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from actions import tasks
from actions.models import ReminderLog, Status
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(team):
    today = timezone.localdate()
    owner = factories.UserFactory(username="olu", email="olu@example.com", teams=[team])
    return {
        "overdue": factories.ActionItemFactory(
            team=team,
            owner=owner,
            title="Overdue one",
            due_date=today - dt.timedelta(2),
        ),
        "soon": factories.ActionItemFactory(
            team=team, owner=owner, title="Due soon", due_date=today + dt.timedelta(3)
        ),
        "later": factories.ActionItemFactory(
            team=team, owner=owner, title="Later", due_date=today + dt.timedelta(4)
        ),
        "done": factories.ActionItemFactory(
            team=team,
            owner=owner,
            title="Done late",
            due_date=today - dt.timedelta(2),
            status=Status.DONE,
            verification_note="ok",
        ),
    }


def test_send_reminders_emails_owner_about_due_soon_and_overdue(items):
    assert tasks.send_reminders() == "sent 2 reminders"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["olu@example.com"]
    assert "Overdue one" in message.body and "Due soon" in message.body
    assert "Later" not in message.body and "Done late" not in message.body
    assert f"/actions/{items['overdue'].pk}/" in message.body


def test_send_reminders_twice_the_same_day_sends_once(items):
    tasks.send_reminders()
    assert tasks.send_reminders() == "sent 0 reminders"
    assert len(mail.outbox) == 1
    assert ReminderLog.objects.count() == 2


def test_send_reminders_again_the_next_day(items, time_machine):
    tasks.send_reminders()
    time_machine.move_to(timezone.now() + dt.timedelta(days=1))
    tasks.send_reminders()
    assert len(mail.outbox) == 2


def test_send_reminders_releases_claims_when_mail_fails(items, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr("actions.services.send_mail", broken)
    with pytest.raises(OSError):
        tasks.send_reminders.run()
    assert ReminderLog.objects.count() == 0


def test_beat_schedule_runs_reminders_each_morning_and_expires_first():
    entry = settings.CELERY_BEAT_SCHEDULE["action-item-reminders"]
    assert entry["task"] == tasks.send_reminders.name
    assert entry["options"]["expires"] < 24 * 60 * 60
    assert entry["schedule"].hour == {7}
