"""People hear about what needs them: once, by email, with a link, unless they
turned that kind off."""

import datetime as dt
import json

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from notifications import channels, services
from notifications.models import (
    DeliveryStatus,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from notifications.tasks import send_notification
from postmortems.models import PostmortemStatus, Role
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(team):
    user = factories.UserFactory
    return {
        "author": user(
            username="author",
            first_name="Ada",
            email="ada@example.com",
            role=Role.EDITOR,
            teams=[team],
        ),
        "reviewer": user(
            username="rev",
            first_name="Rui",
            email="rui@example.com",
            role=Role.REVIEWER,
            teams=[team],
        ),
        "owner": user(
            username="owner",
            first_name="Oki",
            email="oki@example.com",
            role=Role.EDITOR,
            teams=[team],
        ),
        # Named a reviewer only once the postmortem is in review.
        "late": user(
            username="late",
            email="late@example.com",
            role=Role.REVIEWER,
            teams=[team],
        ),
    }


@pytest.fixture
def postmortem(team, people):
    return factories.PostmortemFactory(
        incident__team=team,
        incident__severity="SEV3",
        author=people["author"],
        reviewers=[people["reviewer"]],
    )


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _api(client, method, url, payload):
    return client.generic(
        method, url, json.dumps(payload), content_type="application/json"
    )


def _submit(postmortem, people):
    return _as(people["author"]).post(
        reverse("postmortems:postmortem_submit", args=[postmortem.pk]),
        {"acknowledge_blame": "on"},
    )


def _in_review(postmortem, people, capture):
    with capture(execute=True):
        _submit(postmortem, people)
    postmortem.refresh_from_db()
    assert postmortem.status == PostmortemStatus.IN_REVIEW


# Every way each event happens, page and API alike: (event, kind, recipient, act).
def submit_page(postmortem, people, team, capture):
    with capture(execute=True):
        assert _submit(postmortem, people).status_code == 302


def reviewer_added_in_review(postmortem, people, team, capture):
    """A reviewer named while the postmortem is in review is asked at once (the
    editor's save, postmortem_update)."""
    from postmortems.services.postmortems import PostmortemContent, postmortem_update

    _in_review(postmortem, people, capture)
    mail.outbox.clear()
    with capture(execute=True):
        postmortem_update(
            postmortem=postmortem,
            actor=people["author"],
            base_version=postmortem.version,
            content=PostmortemContent(
                sections=postmortem.sections,
                reviewers=[people["reviewer"], people["late"]],
            ),
        )


def approve_page(postmortem, people, team, capture):
    _in_review(postmortem, people, capture)
    with capture(execute=True):
        response = _as(people["reviewer"]).post(
            reverse("postmortems:postmortem_approve", args=[postmortem.pk])
        )
    assert response.status_code == 302


def send_back_page(postmortem, people, team, capture):
    _in_review(postmortem, people, capture)
    with capture(execute=True):
        response = _as(people["reviewer"]).post(
            reverse("postmortems:postmortem_send_back", args=[postmortem.pk]),
            {"comment": "Please add the pool graph."},
        )
    assert response.status_code == 302


def item_create_page(postmortem, people, team, capture):
    with capture(execute=True):
        response = _as(people["author"]).post(
            reverse("actions:item_create"),
            {
                "title": "Alert on pool saturation",
                "category": "detection",
                "priority": "P2",
                "team": team.pk,
                "owner": people["owner"].pk,
                "status": "open",
            },
        )
    assert response.status_code == 302, response.content[:3000]


def item_create_api(postmortem, people, team, capture):
    with capture(execute=True):
        response = _api(
            _as(people["author"]),
            "POST",
            "/api/v1/action-items/",
            {
                "title": "Alert on pool saturation",
                "category": "detection",
                "team": team.slug,
                "owner": "owner",
            },
        )
    assert response.status_code == 201, response.content


def item_reassign_api(postmortem, people, team, capture):
    item = factories.ActionItemFactory(team=team, owner=people["author"])
    mail.outbox.clear()
    with capture(execute=True):
        response = _api(
            _as(people["author"]),
            "PATCH",
            f"/api/v1/action-items/{item.pk}/",
            {"owner": "owner"},
        )
    assert response.status_code == 200, response.content


def _api_step(postmortem, actor, step, **body):
    url = f"/api/v1/postmortems/{postmortem.pk}/{step}/"
    return _api(_as(actor), "POST", url, body)


def submit_api(postmortem, people, team, capture):
    with capture(execute=True):
        response = _api_step(
            postmortem, people["author"], "submit", acknowledge_blame=True
        )
    assert response.status_code == 200, response.content


def reviewer_added_in_review_api(postmortem, people, team, capture):
    _in_review(postmortem, people, capture)
    postmortem.refresh_from_db()
    mail.outbox.clear()
    with capture(execute=True):
        response = _api(
            _as(people["author"]),
            "PATCH",
            f"/api/v1/postmortems/{postmortem.pk}/",
            {"reviewers": ["rev", "late"]},
        )
    assert response.status_code == 200, response.content


def approve_api(postmortem, people, team, capture):
    _in_review(postmortem, people, capture)
    with capture(execute=True):
        response = _api_step(postmortem, people["reviewer"], "approve")
    assert response.status_code == 200, response.content


def send_back_api(postmortem, people, team, capture):
    _in_review(postmortem, people, capture)
    with capture(execute=True):
        response = _api_step(
            postmortem, people["reviewer"], "send-back", comment="Add the graph."
        )
    assert response.status_code == 200, response.content


EVENTS = {
    "review-requested/submit-page": (
        submit_page,
        NotificationKind.REVIEW_REQUESTED,
        "reviewer",
    ),
    "review-requested/reviewer-added": (
        reviewer_added_in_review,
        NotificationKind.REVIEW_REQUESTED,
        "late",
    ),
    "review-requested/submit-api": (
        submit_api,
        NotificationKind.REVIEW_REQUESTED,
        "reviewer",
    ),
    "review-requested/reviewer-added-api": (
        reviewer_added_in_review_api,
        NotificationKind.REVIEW_REQUESTED,
        "late",
    ),
    "approved/page": (approve_page, NotificationKind.POSTMORTEM_APPROVED, "author"),
    "approved/api": (approve_api, NotificationKind.POSTMORTEM_APPROVED, "author"),
    "sent-back/api": (send_back_api, NotificationKind.POSTMORTEM_SENT_BACK, "author"),
    "sent-back/page": (
        send_back_page,
        NotificationKind.POSTMORTEM_SENT_BACK,
        "author",
    ),
    "assigned/item-create-page": (
        item_create_page,
        NotificationKind.ACTION_ITEM_ASSIGNED,
        "owner",
    ),
    "assigned/item-create-api": (
        item_create_api,
        NotificationKind.ACTION_ITEM_ASSIGNED,
        "owner",
    ),
    "assigned/item-reassign-api": (
        item_reassign_api,
        NotificationKind.ACTION_ITEM_ASSIGNED,
        "owner",
    ),
}


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
    postmortem, people, team, django_capture_on_commit_callbacks
):
    """GIVEN a second channel registered (as the chat app will) WHEN a reviewer is
    asked THEN it gets the same notification, once, with the link."""
    sent = []
    channels.register("chat", lambda notification, message: sent.append(message))
    try:
        submit_page(postmortem, people, team, django_capture_on_commit_callbacks)
    finally:
        channels.unregister("chat")
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
        response = _api(
            _as(people["owner"]),
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
        response = _api(
            _as(people["author"]),
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
        assert _submit(postmortem, people).status_code == 302
    assert Notification.objects.get(user=people["reviewer"]).status == "pending"
    assert not mail.outbox

    app.conf.task_always_eager = True  # the broker is back
    outbox.relay_pending(grace=dt.timedelta(0))
    assert len(_mails_to(people["reviewer"].email)) == 1
