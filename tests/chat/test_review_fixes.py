"""Sweeps for the chat app's review findings: what other teams may not see, what
an outage or a long relay must not get wrong, and what the admin really did."""

import datetime as dt

import pytest
from django.utils import timezone

from actions.models import Category
from actions.services import reminders_send
from chat import admin, services
from chat.choices import MessageStatus
from chat.models import ChatMessage
from chat.providers.base import OutgoingMessage
from findings.follow_up import findings_follow_up
from findings.models import FindingMatch
from postmortems.models.postmortem import PostmortemStatus
from tests import factories
from tests.chat.conftest import CHANNEL, TEAM_CHANNEL, channel_posts

pytestmark = pytest.mark.django_db


# --- 1. "this looks like INC-N" names only what the channel's team may read -------


def _alert_matching(team, past_incident, item_postmortem, capture) -> None:
    """An alert on ``team``'s incident, matched with ``past_incident`` and an
    action item of ``item_postmortem``, followed up (its chat posts sent)."""
    item = factories.ActionItemFactory(
        team=item_postmortem.incident.team,
        postmortem=item_postmortem,
        category=Category.PREVENTION,
        title="Rotate the vault root key",
    )
    incident = factories.IncidentFactory(team=team, title="Checkout 502s")
    finding = factories.FindingFactory(incident=incident, title="HighErrorRate")
    FindingMatch.objects.create(
        incident=incident,
        finding=finding,
        past_incident=past_incident,
        action_item=item,
        reason="test",
    )
    with capture(execute=True):
        findings_follow_up(finding_ids=[finding.pk])


@pytest.mark.parametrize("status", list(PostmortemStatus.values))
@pytest.mark.parametrize("owner", ["same-team", "other-team"])
def test_alert_match_names_a_past_incident_only_if_the_team_may_read_it(
    slack, team, other_team, team_channel, django_capture_on_commit_callbacks,
    owner, status,
):  # fmt: skip
    """GIVEN an alert on this team's incident that looks like a past incident
    WHEN the past incident is another team's and its postmortem is not public
    THEN the team's channel hears nothing of it (no title, no action item)."""
    past_team = team if owner == "same-team" else other_team
    past = factories.IncidentFactory(team=past_team, title="Secret vault outage")
    past_pm = factories.PostmortemFactory(incident=past, status=status)
    _alert_matching(team, past, past_pm, django_capture_on_commit_callbacks)
    visible = owner == "same-team" or status in ("approved", "published")
    texts = [p["text"] for p in channel_posts(slack)]
    if visible:
        assert len(texts) == 1
        assert past.reference in texts[0] and "Rotate the vault root key" in texts[0]
    else:
        assert texts == []
        assert not ChatMessage.objects.exists()


@pytest.mark.parametrize(
    "hidden",
    ["none", "past-incident", "action-item"],
)
def test_alert_match_names_nothing_unless_both_incident_and_item_are_readable(
    slack, team, other_team, team_channel, django_capture_on_commit_callbacks,
    hidden,
):  # fmt: skip
    """Each clause on its own: the past incident and the action item are checked
    apart (a match may name an item of another postmortem than the incident's).
    GIVEN a match whose past incident, or whose action item, is another team's
    draft WHEN the alert fires THEN the team's channel hears nothing of it."""

    def postmortem(hide: bool):
        owner = other_team if hide else team
        return factories.PostmortemFactory(
            incident=factories.IncidentFactory(team=owner),
            status=PostmortemStatus.DRAFT,
        )

    past_pm = postmortem(hidden == "past-incident")
    item_pm = postmortem(hidden == "action-item")
    _alert_matching(team, past_pm.incident, item_pm, django_capture_on_commit_callbacks)
    texts = [p["text"] for p in channel_posts(slack)]
    if hidden == "none":
        assert len(texts) == 1 and "Rotate the vault root key" in texts[0]
    else:
        assert texts == []


# --- 4. closing an item rewrites the messages not sent yet too --------------------


@pytest.fixture
def overdue_item(team, team_channel):
    return factories.ActionItemFactory(
        team=team,
        title="Raise the pool limit",
        due_date=timezone.localdate() - dt.timedelta(days=2),
    )


@pytest.mark.parametrize("left_as", [MessageStatus.PENDING, MessageStatus.FAILED])
def test_closing_an_item_rewrites_its_unsent_messages(
    slack, overdue_item, editor, django_capture_on_commit_callbacks, left_as
):
    """GIVEN an overdue message Slack did not take (an outage: pending; or failed)
    WHEN the item is closed, and the message is sent later
    THEN Slack gets the closed text, never the stale overdue one."""
    from actions.models import Status
    from actions.services import action_item_set_status

    slack.answers["chat.postMessage"] = (500, {"ok": False, "error": "fatal_error"})
    with django_capture_on_commit_callbacks(execute=True):
        reminders_send()
    row = ChatMessage.objects.get()
    assert row.status == MessageStatus.PENDING
    ChatMessage.objects.filter(pk=row.pk).update(status=left_as)
    with django_capture_on_commit_callbacks(execute=True):
        action_item_set_status(
            item=overdue_item, actor=editor, status=Status.DONE,
            verification_note="Pool raised.",
        )  # fmt: skip
    del slack.answers["chat.postMessage"]
    row.refresh_from_db()
    assert row.text.startswith("Done: Raise the pool limit")
    ChatMessage.objects.filter(pk=row.pk).update(status=MessageStatus.PENDING)
    later = timezone.now() + dt.timedelta(hours=1)
    assert services.chat_messages_relay(now=later) == 1
    assert [p["text"] for p in channel_posts(slack)][-1].startswith(
        "Done: Raise the pool"
    )


# --- 6. a long relay's claims never look stale to an overlapping one --------------


def test_an_overlapping_relay_never_posts_a_message_twice(slack, monkeypatch):
    """GIVEN a relay that started 11 minutes ago and is still sending
    WHEN another relay runs while a message is being sent
    THEN that message is posted once."""
    [row] = services.chat_message_queue(
        provider="slack", channel_ids=[CHANNEL], event_key="t:1", subject="t",
        message=OutgoingMessage(text="Hello"),
    )  # fmt: skip
    from chat.services import outbox

    real = outbox.get_provider
    posts = []

    class Overlapping:
        def __init__(self, provider):
            self.provider = real(provider)

        def post_message(self, *, channel_id, message):
            posts.append(channel_id)
            if len(posts) == 1:  # the second relay starts meanwhile
                services.chat_messages_relay()
            return self.provider.post_message(channel_id=channel_id, message=message)

    monkeypatch.setattr(outbox, "get_provider", Overlapping)
    started = timezone.now() - dt.timedelta(minutes=11)
    ChatMessage.objects.filter(pk=row.pk).update(due_at=started)
    services.chat_messages_relay(now=started)
    assert posts == [CHANNEL]
    assert ChatMessage.objects.get().status == MessageStatus.SENT


# --- 7. every overdue item is announced, whoever owns it ------------------------


@pytest.mark.parametrize("owner", ["owner-with-email", "owner-without-email", "none"])
def test_every_overdue_item_is_announced_once(
    slack, team, team_channel, django_capture_on_commit_callbacks, owner
):
    owners = {
        "owner-with-email": lambda: factories.UserFactory(teams=[team]),
        "owner-without-email": lambda: factories.UserFactory(teams=[team], email=""),
        "none": lambda: None,
    }
    item = factories.ActionItemFactory(
        team=team,
        owner=owners[owner](),
        title="Raise the pool limit",
        due_date=timezone.localdate() - dt.timedelta(days=2),
    )
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            reminders_send()
    posts = channel_posts(slack)
    assert [p["channel"] for p in posts] == [TEAM_CHANNEL]
    assert posts[0]["text"].startswith(f"Overdue since {item.due_date:%d %b %Y}")


def test_items_not_overdue_or_closed_are_not_announced(
    slack, team, team_channel, django_capture_on_commit_callbacks
):
    from actions.models import Status

    factories.ActionItemFactory(team=team, owner=None, due_date=timezone.localdate())
    factories.ActionItemFactory(
        team=team, owner=None, status=Status.DONE, verification_note="ok",
        due_date=timezone.localdate() - dt.timedelta(days=3),
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        reminders_send()
    assert channel_posts(slack) == []


# --- 9. the admin's "Send again" sends the selected rows and says what happened ---


def _row(key: str, status: str, **fields) -> ChatMessage:
    [row] = services.chat_message_queue(
        provider="slack", channel_ids=[CHANNEL], event_key=key, subject=key,
        message=OutgoingMessage(text=key),
    )  # fmt: skip
    ChatMessage.objects.filter(pk=row.pk).update(status=status, **fields)
    return row


def test_send_again_sends_only_the_selected_rows_and_says_what_happened(
    slack, admin_client
):
    failed = _row("failed", MessageStatus.FAILED, attempts=12)
    sent = _row("sent", MessageStatus.SENT, message_ts="1.1")
    still_broken = _row("broken", MessageStatus.FAILED)
    _row("unselected", MessageStatus.PENDING)
    answers = iter(
        [(200, {"ok": True, "ts": "2.2"}), (200, {"ok": False, "error": "is_archived"})]
    )
    slack.answers["chat.postMessage"] = lambda: next(answers)
    response = admin_client.post(
        "/admin/chat/chatmessage/",
        {
            "action": "send_again",
            "_selected_action": [failed.pk, sent.pk, still_broken.pk],
        },
        follow=True,
    )
    page = response.content.decode()
    assert "1 sent; 1 failed again (is_archived); 1 skipped (already sent)." in page
    assert [p["text"] for p in channel_posts(slack)] == ["failed", "broken"]
    statuses = dict(ChatMessage.objects.values_list("event_key", "status"))
    assert statuses == {
        "failed": MessageStatus.SENT,
        "sent": MessageStatus.SENT,
        "broken": MessageStatus.FAILED,
        "unselected": MessageStatus.PENDING,
    }


@pytest.mark.parametrize(
    "answer",
    [(429, {"ok": False, "error": "ratelimited"}), (500, {"ok": False})],
    ids=["rate-limited", "server-error"],
)
def test_send_again_says_which_rows_still_wait_for_a_retry(slack, answer):
    """GIVEN a failed row sent again while Slack is still down (a transient error)
    WHEN the admin sends it again THEN it waits for the relay and the page says so
    with Slack's reason."""
    failed = _row("failed", MessageStatus.FAILED, attempts=12)
    slack.answers["chat.postMessage"] = answer

    outcome = services.chat_messages_send_again(message_ids=[failed.pk])

    assert outcome["sent"] == outcome["failed"] == outcome["skipped"] == []
    assert len(outcome["pending"]) == 1 and outcome["pending"][0]
    row = ChatMessage.objects.get(pk=failed.pk)
    assert row.status == MessageStatus.PENDING and row.due_at > timezone.now()
    assert "still waiting for a retry" in admin.send_again_summary(outcome)
