"""People hear about what needs them: once, by email, with a link, unless they
turned that kind off."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from notifications import channels, services
from notifications.models import (
    DeliveryStatus,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from notifications.tasks import send_notification
from tests.notifications.events import (
    EVENTS,
    api_call,
    as_user,
    submit,
    submit_page,
)

pytestmark = pytest.mark.django_db


def _mails_to(address: str) -> list:
    return [message for message in mail.outbox if address in message.to]


@pytest.mark.parametrize("event", EVENTS)
def test_notify_each_event_once_by_email_with_a_link(
    event, postmortem, people, team, django_capture_on_commit_callbacks, settings
):
    """GIVEN an event that needs someone WHEN it happens (through the page or the
    API) THEN that person gets one email with a link, and announcing the event
    again (a redelivered signal, a rerun task) sends nothing more."""
    settings.SITE_URL = "https://hindsight.example"
    act, kind, recipient = EVENTS[event]
    act(postmortem, people, team, django_capture_on_commit_callbacks)

    person = people[recipient]
    received = _mails_to(person.email)
    assert len(received) == 1, [m.subject for m in mail.outbox]
    body = received[0].body
    assert "https://hindsight.example/" in body
    notification = Notification.objects.get(user=person, kind=kind)
    assert notification.status == DeliveryStatus.SENT

    # Once: the task again, and the same event queued again, send nothing.
    assert send_notification(notification_id=notification.pk) == "not waiting"
    services.notification_queue(
        user_id=person.pk,
        kind=kind,
        key=notification.key,
        object_id=notification.object_id,
    )
    assert len(_mails_to(person.email)) == 1


@pytest.mark.parametrize("event", EVENTS)
def test_notify_nothing_when_the_person_turned_the_kind_off(
    event, postmortem, people, team, django_capture_on_commit_callbacks
):
    act, kind, recipient = EVENTS[event]
    NotificationPreference.objects.create(
        user=people[recipient], kind=kind, enabled=False
    )
    act(postmortem, people, team, django_capture_on_commit_callbacks)
    assert not _mails_to(people[recipient].email)
    assert not Notification.objects.filter(user=people[recipient], kind=kind).exists()


def test_notify_over_every_registered_channel(
    postmortem, people, team, django_capture_on_commit_callbacks, monkeypatch
):
    """GIVEN a second channel registered (as the chat app does) WHEN a reviewer is
    asked THEN it gets the same notification, once, with the link."""
    # A registry of this test's own: the chat app's real channel stays registered
    # for the tests after this one.
    monkeypatch.setattr(channels, "_SENDERS", dict(channels._SENDERS))
    monkeypatch.setattr(channels, "_ACTIVE", dict(channels._ACTIVE))
    sent = []
    channels.register("chat", lambda notification, message: sent.append(message))
    submit_page(postmortem, people, team, django_capture_on_commit_callbacks)
    assert len(sent) == 1
    assert sent[0].url.endswith(postmortem.get_absolute_url())
    assert len(_mails_to(people["reviewer"].email)) == 1


def test_notify_a_person_without_an_email_address_is_recorded_as_not_sent(
    postmortem, people, team, django_capture_on_commit_callbacks
):
    people["reviewer"].email = ""
    people["reviewer"].save()
    submit_page(postmortem, people, team, django_capture_on_commit_callbacks)
    notification = Notification.objects.get(user=people["reviewer"])
    assert notification.status == DeliveryStatus.SKIPPED
    assert notification.note == "no email address"


def test_notify_the_actor_is_not_told_about_their_own_step(
    team, people, django_capture_on_commit_callbacks
):
    """An editor who assigns an item to themselves gets no email about it."""
    with django_capture_on_commit_callbacks(execute=True):
        response = api_call(
            as_user(people["owner"]),
            "POST",
            "/api/v1/action-items/",
            {
                "title": "Mine",
                "category": "detection",
                "team": team.slug,
                "owner": "owner",
            },
        )
    assert response.status_code == 201
    assert not mail.outbox


def test_notify_email_is_sent_after_commit_by_a_task(
    team, people, django_capture_on_commit_callbacks
):
    """Nothing is sent inside the request's transaction: a task sends on commit."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_call(
            as_user(people["author"]),
            "POST",
            "/api/v1/action-items/",
            {
                "title": "Yours",
                "category": "detection",
                "team": team.slug,
                "owner": "owner",
            },
        )
    assert response.status_code == 201
    assert not mail.outbox
    for callback in callbacks:  # the signal, then the task it queues
        with django_capture_on_commit_callbacks(execute=True):
            callback()
    assert len(_mails_to(people["owner"].email)) == 1


def test_preferences_page_lists_every_kind_and_saves_a_change(client, people):
    client.force_login(people["owner"])
    page = client.get(reverse("notifications:preferences"))
    assert page.status_code == 200
    for kind in NotificationKind:
        assert kind.label in page.content.decode()

    kept = [k for k in NotificationKind.values if k != "action_item_assigned"]
    response = client.post(
        reverse("notifications:preferences"), dict.fromkeys(kept, "on"), follow=True
    )
    assert "Notification settings saved." in response.content.decode()
    assert (
        NotificationPreference.objects.get(
            user=people["owner"], kind="action_item_assigned"
        ).enabled
        is False
    )
    assert services.notification_wanted(
        user_id=people["owner"].pk, kind="review_requested"
    )


def test_preferences_page_shows_what_was_sent(
    client, people, postmortem, team, django_capture_on_commit_callbacks
):
    submit_page(postmortem, people, team, django_capture_on_commit_callbacks)
    client.force_login(people["reviewer"])
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert NotificationKind.REVIEW_REQUESTED.label in page
    assert "Sent" in page


def test_notify_a_send_claimed_by_a_killed_worker_is_sent_when_redelivered(
    postmortem, people, team, django_capture_on_commit_callbacks
):
    """GIVEN a send claimed long ago by a worker that died (acks_late redelivers
    the task) WHEN the task runs again THEN the email goes out once; a claim that
    is still fresh is left to its worker."""
    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=False):
        # Recorded, its task not sent yet.
        services.notification_queue(
            user_id=people["reviewer"].pk,
            kind=NotificationKind.REVIEW_REQUESTED,
            key="postmortem:review:1",
            object_id=postmortem.pk,
        )
    notification = Notification.objects.get(user=people["reviewer"])
    Notification.objects.filter(pk=notification.pk).update(
        status=DeliveryStatus.SENDING, claimed_at=timezone.now()
    )
    assert send_notification(notification_id=notification.pk) == "not waiting"
    Notification.objects.filter(pk=notification.pk).update(
        claimed_at=timezone.now() - dt.timedelta(minutes=11)
    )
    assert send_notification(notification_id=notification.pk) == DeliveryStatus.SENT
    assert len(_mails_to(people["reviewer"].email)) == 1


def test_notify_waits_in_the_outbox_while_the_broker_is_down(
    postmortem, people, team, django_capture_on_commit_callbacks, broker_down
):
    """The step still succeeds; the send waits and the relay sends it later."""
    from kb.celery import app
    from postmortems import outbox

    with django_capture_on_commit_callbacks(execute=True):
        assert submit(postmortem, people).status_code == 302
    assert Notification.objects.get(user=people["reviewer"]).status == "pending"
    assert not mail.outbox

    app.conf.task_always_eager = True  # the broker is back
    outbox.relay_pending(grace=dt.timedelta(0))
    assert len(_mails_to(people["reviewer"].email)) == 1


@pytest.mark.parametrize("channel", ["email", "chat"])
def test_build_message_renders_only_the_body_its_channel_sends(
    postmortem, people, channel, monkeypatch
):
    """An email renders the subject and the email text; a chat message the subject
    and the chat text: never the other channel's body."""
    from notifications import messages
    from notifications.models import Notification

    rendered = []
    render = messages.render_to_string

    def spy(name, context):
        rendered.append(name.split("/", 2)[1])  # "email" or "chat"
        return render(name, context)

    monkeypatch.setattr(messages, "render_to_string", spy)
    notification = Notification.objects.create(
        user=people["reviewer"],
        kind=NotificationKind.REVIEW_REQUESTED,
        channel=channel,
        key="build-message",
        object_id=postmortem.pk,
    )

    message = messages.build_message(notification)

    # The subject comes from the email templates for both.
    assert sorted(rendered) == sorted(["email", channel])
    assert (message.short_text if channel == "chat" else message.text).strip()
