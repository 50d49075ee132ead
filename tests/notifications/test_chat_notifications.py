"""People hear about what needs them in chat too: a Slack direct message, once,
with a link, found by their email address, for every event that emails them."""

import datetime as dt
import json

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from actions.models import ActionItem
from notifications import services
from notifications.models import (
    Channel,
    DeliveryStatus,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from notifications.tasks import send_notification
from postmortems.models import Postmortem
from tests.notifications.events import EVENTS, submit_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(slack, people):
    """Every person has a Slack account under their email: W-<username>."""
    by_email = {
        person.email: f"W{person.username.upper()}" for person in people.values()
    }

    def lookup():
        email = slack.calls[-1].params.get("email", "")
        if email not in by_email:
            return 200, {"ok": False, "error": "users_not_found"}
        return 200, {
            "ok": True,
            "user": {"id": by_email[email], "profile": {"email": email}},
        }

    def open_direct():
        # One direct-message channel per person: D-<their Slack id>.
        return 200, {
            "ok": True,
            "channel": {"id": "D" + slack.calls[-1].params["users"]},
        }

    slack.answers["users.lookupByEmail"] = lookup
    slack.answers["conversations.open"] = open_direct
    return by_email


@pytest.fixture(autouse=True)
def _forget_chat_accounts():
    """Chat accounts found by email are cached; each test finds its own."""
    cache.clear()


def _about(notification):
    """The page a notification links to, and a phrase its message must name."""
    if notification.kind == NotificationKind.ACTION_ITEM_ASSIGNED:
        item = ActionItem.objects.get(pk=notification.object_id)
        return item.get_absolute_url(), item.title
    subject = Postmortem.objects.get(pk=notification.object_id)
    return subject.get_absolute_url(), subject.incident.reference


def _dms(slack, account: str = "") -> list:
    """Direct messages sent (to one person's Slack account, if given)."""
    return [
        call
        for call in slack.called("chat.postMessage")
        if call.params["channel"].startswith("D" + account)
    ]


@pytest.mark.parametrize("event", EVENTS)
def test_notify_each_event_once_as_a_slack_direct_message_with_a_link(
    event, slack, accounts, postmortem, people, team, django_capture_on_commit_callbacks
):
    """GIVEN Slack is set up WHEN an event that needs someone happens (page or API)
    THEN that person, found by email, gets one direct message with a link to the
    page, besides the email; announcing the event again sends nothing more."""
    act, kind, recipient = EVENTS[event]
    act(postmortem, people, team, django_capture_on_commit_callbacks)

    person = people[recipient]
    dms = _dms(slack, accounts[person.email])
    assert len(dms) == 1
    notification = Notification.objects.get(
        user=person, kind=kind, channel=Channel.CHAT
    )
    page, phrase = _about(notification)
    assert f"https://hindsight.example.com{page}" in json.dumps(dms[0].params["blocks"])
    # A sentence about the event, without the email's greeting and footer.
    assert phrase in dms[0].params["text"]
    assert not dms[0].params["text"].startswith("Hello")
    assert notification.status == DeliveryStatus.SENT
    assert len([m for m in mail.outbox if person.email in m.to]) == 1

    assert send_notification(notification_id=notification.pk) == "not waiting"
    services.notification_queue(
        user_id=person.pk,
        kind=kind,
        key=notification.key,
        object_id=notification.object_id,
    )
    assert len(_dms(slack, accounts[person.email])) == 1


@pytest.mark.parametrize("event", EVENTS)
def test_notify_no_direct_message_when_the_person_turned_the_kind_off(
    event, slack, accounts, postmortem, people, team, django_capture_on_commit_callbacks
):
    act, kind, recipient = EVENTS[event]
    NotificationPreference.objects.create(
        user=people[recipient], kind=kind, enabled=False
    )
    act(postmortem, people, team, django_capture_on_commit_callbacks)
    assert not _dms(slack, accounts[people[recipient].email])
    assert not Notification.objects.filter(user=people[recipient], kind=kind).exists()


def test_notify_nothing_waits_for_chat_while_slack_is_not_set_up(
    postmortem, people, team, django_capture_on_commit_callbacks, settings
):
    settings.KB_SLACK_BOT_TOKEN = ""
    submit_page(postmortem, people, team, django_capture_on_commit_callbacks)
    channels = set(
        Notification.objects.filter(user=people["reviewer"]).values_list(
            "channel", flat=True
        )
    )
    assert channels == {Channel.EMAIL}


def test_notify_a_person_without_a_slack_account_still_gets_the_email(
    slack, postmortem, people, team, django_capture_on_commit_callbacks
):
    slack.answers["users.lookupByEmail"] = (
        200,
        {"ok": False, "error": "users_not_found"},
    )
    submit_page(postmortem, people, team, django_capture_on_commit_callbacks)
    chat = Notification.objects.get(user=people["reviewer"], channel=Channel.CHAT)
    assert chat.status == DeliveryStatus.SKIPPED
    assert chat.note == "no Slack account uses rui@example.com"
    assert not _dms(slack)
    email = Notification.objects.get(user=people["reviewer"], channel=Channel.EMAIL)
    assert email.status == DeliveryStatus.SENT


def test_notify_a_refused_direct_message_is_recorded_with_slacks_reason(
    slack, accounts, postmortem, people, team, django_capture_on_commit_callbacks
):
    slack.answers["conversations.open"] = (200, {"ok": False, "error": "user_disabled"})
    submit_page(postmortem, people, team, django_capture_on_commit_callbacks)
    chat = Notification.objects.get(user=people["reviewer"], channel=Channel.CHAT)
    assert chat.status == DeliveryStatus.SKIPPED
    assert chat.note == "Slack refused: user_disabled"


def test_notify_a_rate_limited_direct_message_waits_and_is_sent_once_later(
    slack, accounts, postmortem, people, team, django_capture_on_commit_callbacks
):
    """GIVEN Slack answers 429 WHEN the direct message is sent THEN it waits in its
    row, and the relay sends it once when it is due and Slack answers again."""
    with django_capture_on_commit_callbacks(execute=False):
        services.notification_queue(
            user_id=people["reviewer"].pk,
            kind=NotificationKind.REVIEW_REQUESTED,
            key="postmortem:review:1",
            object_id=postmortem.pk,
        )
    chat = Notification.objects.get(user=people["reviewer"], channel=Channel.CHAT)
    slack.answers["conversations.open"] = (429, {"ok": False, "error": "ratelimited"})
    assert services.notification_send(notification_id=chat.pk) == "waiting"
    chat.refresh_from_db()
    assert chat.status == DeliveryStatus.PENDING
    assert chat.note.startswith("waiting: ")

    # Both rows older than the relay's grace: the email, whose task never ran
    # (not committed), goes at once; the direct message waits until it is due.
    Notification.objects.update(created_at=timezone.now() - dt.timedelta(minutes=5))
    del slack.answers["conversations.open"]
    assert services.notifications_relay() == 1
    assert not _dms(slack)
    later = timezone.now() + dt.timedelta(minutes=3)
    assert services.notifications_relay(now=later) == 1
    assert services.notifications_relay(now=later) == 0
    assert services.notification_send(notification_id=chat.pk) == "not waiting"
    assert len(_dms(slack)) == 1


def test_preferences_page_says_where_notifications_go(
    client,
    slack,
    accounts,
    people,
    postmortem,
    team,
    django_capture_on_commit_callbacks,
    settings,
):
    """GIVEN Slack is set up THEN the page says notifications also come as a Slack
    direct message, and lists what was sent on each; without Slack, email only."""
    submit_page(postmortem, people, team, django_capture_on_commit_callbacks)
    client.force_login(people["reviewer"])
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert "by email and as a Slack direct message" in page
    assert page.count("<td>Slack direct message</td>") == 1
    assert page.count("<td>Email</td>") == 1

    settings.KB_SLACK_BOT_TOKEN = ""
    slack_off = client.get(reverse("notifications:preferences")).content.decode()
    assert "What Hindsight tells you about, by email (to" in slack_off
    assert "as a Slack direct message" not in slack_off


class _Directory:
    """A chat provider's account lookup: counts the lookups, answers from a dict."""

    def __init__(self, accounts: dict[str, str]):
        self.accounts, self.lookups = accounts, []

    def find_user_by_email(self, *, email):
        from chat.providers.base import ChatUser

        self.lookups.append(email)
        found = self.accounts.get(email)
        return ChatUser(id=found, name=found, email=email) if found else None


def test_chat_account_lookup_is_cached_by_email_so_a_new_email_is_looked_up():
    from chat.services.direct import chat_account_id

    directory = _Directory({"old@example.com": "WOLD", "new@example.com": "WNEW"})

    assert chat_account_id(email="old@example.com", provider=directory) == "WOLD"
    assert chat_account_id(email="old@example.com", provider=directory) == "WOLD"
    # The person's email changed: the new address is looked up, not the old id.
    assert chat_account_id(email="new@example.com", provider=directory) == "WNEW"
    assert directory.lookups == ["old@example.com", "new@example.com"]


def test_chat_account_not_found_is_cached_for_an_hour(time_machine, settings):
    """GIVEN a person without a chat account
    WHEN two notifications reach them, then another after an hour, once they
    have joined
    THEN the chat service is asked once for the first two, and again after."""
    from chat.services.direct import NO_ACCOUNT_CACHE_SECONDS, chat_account_id

    # Redis expires keys by its own clock, which time_machine cannot move; the
    # in-process cache reads Python's.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    time_machine.move_to(timezone.now(), tick=False)
    directory = _Directory({})

    assert chat_account_id(email="rui@example.com", provider=directory) is None
    assert chat_account_id(email="rui@example.com", provider=directory) is None
    assert len(directory.lookups) == 1

    directory.accounts["rui@example.com"] = "WRUI"
    time_machine.shift(dt.timedelta(seconds=NO_ACCOUNT_CACHE_SECONDS + 1))
    assert chat_account_id(email="rui@example.com", provider=directory) == "WRUI"
    assert len(directory.lookups) == 2
