"""What Hindsight posts to Slack, end to end through the core's signals, against
the local Slack Web API: exact requests, once per event and channel, durable
through outages."""

import datetime as dt

import pytest
from django.utils import timezone

from actions.models import Category, Status
from actions.services import action_item_set_status, reminders_send
from chat import services
from chat.choices import MessageStatus
from chat.models import ChannelLink, ChatMessage, TeamChatSettings
from findings.follow_up import findings_follow_up
from findings.models import FindingMatch
from postmortems.models import OutboxTask
from postmortems.services.postmortems import (
    postmortem_approve,
    postmortem_publish,
    postmortem_send_back,
    postmortem_submit,
)
from tests import factories
from tests.chat.conftest import CHANNEL, TEAM_CHANNEL, channel_posts

pytestmark = pytest.mark.django_db

SITE = "https://hindsight.example.com"


@pytest.fixture
def pm(draft_postmortem, team_channel):
    """The team's draft, its incident followed by CHANNEL, the team on TEAM_CHANNEL."""
    ChannelLink.objects.create(channel_id=CHANNEL, incident=draft_postmortem.incident)
    return draft_postmortem


def _blocks(text: str, *buttons: tuple[str, str, str]) -> list[dict]:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if buttons:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": label},
                        "url": url,
                        "action_id": action_id,
                    }
                    for label, url, action_id in buttons
                ],
            }
        )
    return blocks


def test_postmortem_ready_for_review_is_posted_to_the_incident_and_team_channels(
    slack, pm, editor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        postmortem_submit(postmortem=pm, actor=editor)
    incident = pm.incident
    text = (
        f"{incident.reference} {incident.title}: the postmortem is ready for review "
        f"({editor.get_full_name()})."
    )
    button = ("Open the postmortem", f"{SITE}/postmortems/{pm.pk}/", "open_postmortem")
    expected = {
        "text": text,
        "blocks": _blocks(text, button),
        "unfurl_links": False,
    }
    assert channel_posts(slack) == [
        {"channel": CHANNEL, **expected},
        {"channel": TEAM_CHANNEL, **expected},
    ]
    assert set(ChatMessage.objects.values_list("status", "message_ts")) == {
        (MessageStatus.SENT, "1503435956.000247")
    }


def test_every_review_step_is_posted_once_and_sending_back_is_not(
    slack, pm, editor, reviewer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        postmortem_submit(postmortem=pm, actor=editor)
    with django_capture_on_commit_callbacks(execute=True):
        postmortem_send_back(postmortem=pm, actor=reviewer, comment="Say why.")
    with django_capture_on_commit_callbacks(execute=True):
        postmortem_submit(postmortem=pm, actor=editor)
    with django_capture_on_commit_callbacks(execute=True):
        postmortem_approve(postmortem=pm, actor=reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        postmortem_publish(postmortem=pm, actor=editor)
    said = [
        p["text"].split(": ", 1)[1]
        for p in channel_posts(slack)
        if p["channel"] == CHANNEL
    ]
    assert said == [
        f"the postmortem is ready for review ({editor.get_full_name()}).",
        f"the postmortem is ready for review ({editor.get_full_name()}).",
        f"the postmortem is approved ({reviewer.get_full_name()}).",
        "the postmortem is published: read what we learned "
        f"({editor.get_full_name()}).",
    ]
    # Announcing any step again posts nothing more.
    before = len(slack.calls)
    for status in ("in_review", "approved", "published"):
        assert (
            services.chat_notify_postmortem_status(
                postmortem_id=pm.pk, to_status=status
            )
            == 0
        )
    assert len(slack.calls) == before


def test_a_team_that_turns_a_notification_off_hears_nothing_of_it(
    slack, pm, editor, team, django_capture_on_commit_callbacks
):
    TeamChatSettings.objects.filter(team=team).update(notify_review=False)
    with django_capture_on_commit_callbacks(execute=True):
        postmortem_submit(postmortem=pm, actor=editor)
    assert channel_posts(slack) == []
    assert not ChatMessage.objects.exists()


def test_nothing_is_queued_while_slack_is_not_configured(
    slack, settings, pm, editor, django_capture_on_commit_callbacks
):
    settings.KB_SLACK_BOT_TOKEN = ""
    with django_capture_on_commit_callbacks(execute=True):
        postmortem_submit(postmortem=pm, actor=editor)
    assert not slack.calls
    assert not ChatMessage.objects.exists()
    assert not OutboxTask.objects.filter(task_name__startswith="chat.").exists()


@pytest.mark.parametrize(
    "answer",
    [
        (500, {"ok": False, "error": "fatal_error"}),
        (429, {"ok": False, "error": "ratelimited"}),
        (200, {"ok": False, "error": "internal_error"}),
    ],
    ids=["server-error", "rate-limited", "internal-error"],
)
def test_a_slack_outage_never_blocks_the_write_and_the_relay_sends_later(
    slack, pm, editor, django_capture_on_commit_callbacks, answer
):
    slack.answers["chat.postMessage"] = answer
    with django_capture_on_commit_callbacks(execute=True):
        postmortem_submit(postmortem=pm, actor=editor)
    pm.refresh_from_db()
    assert pm.status == "in_review"  # the write stands
    rows = list(ChatMessage.objects.order_by("channel_id"))
    assert [(r.status, r.attempts) for r in rows] == [(MessageStatus.PENDING, 1)] * 2
    assert all(r.last_error for r in rows)
    assert all(r.due_at > timezone.now() for r in rows)

    # Not due yet: the relay leaves them alone.
    assert services.chat_messages_relay() == 0
    # Slack is back; once due, the relay sends each once.
    del slack.answers["chat.postMessage"]
    later = timezone.now() + dt.timedelta(minutes=5)
    assert services.chat_messages_relay(now=later) == 2
    assert services.chat_messages_relay(now=later) == 0
    assert [p["channel"] for p in channel_posts(slack)] == [
        CHANNEL,
        TEAM_CHANNEL,
        CHANNEL,
        TEAM_CHANNEL,
    ]
    assert set(ChatMessage.objects.values_list("status", flat=True)) == {
        MessageStatus.SENT
    }


def test_a_channel_slack_does_not_know_fails_for_good_and_is_shown_in_the_admin(
    slack, pm, editor, admin_client, django_capture_on_commit_callbacks
):
    slack.answers["chat.postMessage"] = (
        200,
        {"ok": False, "error": "channel_not_found"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        postmortem_submit(postmortem=pm, actor=editor)
    assert set(ChatMessage.objects.values_list("status", flat=True)) == {
        MessageStatus.FAILED
    }
    later = timezone.now() + dt.timedelta(days=1)
    assert services.chat_messages_relay(now=later) == 0
    page = admin_client.get("/admin/chat/chatmessage/?status__exact=failed")
    assert page.status_code == 200
    assert "channel_not_found" in page.content.decode()


def test_a_send_whose_worker_died_is_sent_again_after_the_stale_claim_delay(slack, pm):
    [row] = services.chat_message_queue(
        provider="slack",
        channel_ids=[CHANNEL],
        event_key="test:1",
        subject="test",
        message=services.notifications.messages.OutgoingMessage(text="Hello"),
    )
    ChatMessage.objects.filter(pk=row.pk).update(
        status=MessageStatus.SENDING, claimed_at=timezone.now()
    )
    assert services.chat_messages_relay() == 0
    later = timezone.now() + dt.timedelta(minutes=11)
    assert services.chat_messages_relay(now=later) == 1


@pytest.fixture
def overdue_item(team, pm):
    owner = factories.UserFactory(username="olu", first_name="Olu", teams=[team])
    return factories.ActionItemFactory(
        team=team,
        owner=owner,
        postmortem=pm,
        title="Raise the pool limit",
        due_date=timezone.localdate() - dt.timedelta(days=2),
    )


def test_an_overdue_item_is_posted_once_not_every_morning(
    slack, overdue_item, time_machine, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reminders_send()
    item = overdue_item
    text = (
        f"Overdue since {item.due_date:%d %b %Y}: Raise the pool limit "
        f"({item.postmortem.incident.reference}), owner Olu Tester."
    )
    button = ("Open the action item", f"{SITE}/actions/{item.pk}/", "open_action_item")
    assert channel_posts(slack) == [
        {
            "channel": channel,
            "text": text,
            "blocks": _blocks(text, button),
            "unfurl_links": False,
        }
        for channel in (CHANNEL, TEAM_CHANNEL)
    ]
    time_machine.move_to(timezone.now() + dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        reminders_send()
    assert len(channel_posts(slack)) == 2


def test_each_morning_queues_chat_work_only_for_items_not_yet_announced(
    slack, overdue_item, time_machine, django_capture_on_commit_callbacks, monkeypatch
):
    """GIVEN an item announced as overdue yesterday WHEN this morning's reminders
    run THEN no chat task runs for it again; an item that became overdue since
    gets its task and its messages."""
    announced = []
    announce = services.chat_notify_action_item_overdue

    def spy(**kwargs):
        announced.append(kwargs["item_id"])
        return announce(**kwargs)

    monkeypatch.setattr(services, "chat_notify_action_item_overdue", spy)
    with django_capture_on_commit_callbacks(execute=True):
        reminders_send()
    assert announced == [overdue_item.pk]

    newly = factories.ActionItemFactory(
        team=overdue_item.team,
        owner=overdue_item.owner,
        postmortem=overdue_item.postmortem,
        title="Alert on pool saturation",
        due_date=timezone.localdate(),
    )
    time_machine.move_to(timezone.now() + dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        reminders_send()

    assert announced == [overdue_item.pk, newly.pk]
    assert [p["text"].split(": ", 1)[1][:24] for p in channel_posts(slack)] == [
        "Raise the pool limit (IN",
        "Raise the pool limit (IN",
        "Alert on pool saturation",
        "Alert on pool saturation",
    ]


def test_closing_an_overdue_item_updates_its_messages(
    slack, overdue_item, editor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reminders_send()
    with django_capture_on_commit_callbacks(execute=True):
        action_item_set_status(
            item=overdue_item,
            actor=editor,
            status=Status.DONE,
            verification_note="Load test at 2x peak passed.",
        )
    updates = slack.called("chat.update")
    assert [(u.params["channel"], u.params["ts"]) for u in updates] == [
        (CHANNEL, "1503435956.000247"),
        (TEAM_CHANNEL, "1503435956.000247"),
    ]
    assert updates[0].params["text"] == (
        f"Done: Raise the pool limit ({overdue_item.postmortem.incident.reference}) "
        f"(was overdue since {overdue_item.due_date:%d %b %Y})."
    )


@pytest.fixture
def alert_match(team, team_channel):
    """A firing alert on a new incident that looks like a past one whose
    prevention item is still open."""
    past = factories.IncidentFactory(team=team, title="Pool exhausted")
    past_pm = factories.PostmortemFactory(incident=past)
    item = factories.ActionItemFactory(
        team=team,
        postmortem=past_pm,
        category=Category.PREVENTION,
        title="Size the pool from peak load",
    )
    incident = factories.IncidentFactory(
        team=team,
        title="Checkout 502s",
        started_at=past.started_at + dt.timedelta(days=30),
    )
    finding = factories.FindingFactory(incident=incident, title="HighErrorRate")
    FindingMatch.objects.create(
        incident=incident,
        finding=finding,
        past_incident=past,
        action_item=item,
        reason="test",
    )
    return finding, past, item


def test_a_firing_alert_like_a_past_incident_is_posted_once(
    slack, alert_match, django_capture_on_commit_callbacks
):
    finding, past, item = alert_match
    incident = finding.incident
    for _ in range(2):  # the follow-up runs again when the alert repeats
        with django_capture_on_commit_callbacks(execute=True):
            findings_follow_up(finding_ids=[finding.pk])
    text = (
        f"{incident.reference} \u201cHighErrorRate\u201d looks like {past.reference} "
        "Pool exhausted; its prevention item \u201cSize the pool from peak load\u201d "
        "is still open."
    )
    buttons = (
        (f"Open {past.reference}", f"{SITE}/incidents/{past.pk}/", "open_past_incident"),  # noqa: E501
        (f"Open {incident.reference}", f"{SITE}/incidents/{incident.pk}/", "open_incident"),  # noqa: E501
        ("Open the item", f"{SITE}/actions/{item.pk}/", "open_action_item"),
    )  # fmt: skip
    assert channel_posts(slack) == [
        {
            "channel": TEAM_CHANNEL,
            "text": text,
            "blocks": _blocks(text, *buttons),
            "unfurl_links": False,
        }
    ]


def test_a_resolved_alert_or_a_closed_item_posts_nothing(
    slack, alert_match, django_capture_on_commit_callbacks
):
    finding, past, item = alert_match
    finding.ended_at = timezone.now()
    finding.save()
    with django_capture_on_commit_callbacks(execute=True):
        findings_follow_up(finding_ids=[finding.pk])
    assert services.chat_notify_alert_matches(finding_ids=[finding.pk]) == 0

    finding.ended_at = None
    finding.save()
    item.status, item.verification_note = Status.DONE, "Pool sized."
    item.save()
    assert services.chat_notify_alert_matches(finding_ids=[finding.pk]) == 0
    assert channel_posts(slack) == []


def test_the_admin_sends_a_failed_message_again_once_fixed(
    slack, pm, editor, admin_client, django_capture_on_commit_callbacks
):
    slack.answers["chat.postMessage"] = (200, {"ok": False, "error": "not_in_channel"})
    with django_capture_on_commit_callbacks(execute=True):
        postmortem_submit(postmortem=pm, actor=editor)
    del slack.answers["chat.postMessage"]  # the bot was invited
    ids = list(ChatMessage.objects.values_list("pk", flat=True))
    response = admin_client.post(
        "/admin/chat/chatmessage/",
        {"action": "send_again", "_selected_action": ids},
        follow=True,
    )
    assert "2 sent." in response.content.decode()
    assert set(ChatMessage.objects.values_list("status", flat=True)) == {
        MessageStatus.SENT
    }


@pytest.mark.parametrize(
    ("typed", "stored"), [(":bookmark:", "bookmark"), (" eyes ", "eyes")]
)
def test_team_settings_take_the_reaction_with_or_without_colons(
    admin_client, team, typed, stored
):
    response = admin_client.post(
        "/admin/chat/teamchatsettings/add/",
        {"team": team.pk, "provider": "slack", "channel_id": "", "reaction": typed},
    )
    assert response.status_code == 302
    assert TeamChatSettings.objects.get(team=team).reaction == stored


def test_team_settings_refuse_a_reaction_that_is_not_one_emoji(admin_client, team):
    response = admin_client.post(
        "/admin/chat/teamchatsettings/add/",
        {"team": team.pk, "provider": "slack", "reaction": "two words"},
    )
    assert response.status_code == 200
    assert "Give one emoji name" in response.content.decode()
    assert not TeamChatSettings.objects.exists()


def test_an_alert_like_no_past_incident_queues_no_task(
    slack, team, team_channel, monkeypatch, django_capture_on_commit_callbacks
):
    from postmortems import outbox

    queued = []
    monkeypatch.setattr(
        outbox, "enqueue", lambda task, **kwargs: queued.append(task.name)
    )
    finding = factories.FindingFactory(incident=factories.IncidentFactory(team=team))
    with django_capture_on_commit_callbacks(execute=True):
        findings_follow_up(finding_ids=[finding.pk])
    assert not FindingMatch.objects.exists()
    assert "chat.notify_alert_matches" not in queued
    assert channel_posts(slack) == []


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        ((429, {"ok": False, "error": "ratelimited"}), "retried"),
        ((200, {"ok": False, "error": "message_not_found"}), "given up"),
    ],
)
def test_updating_a_closed_items_messages_retries_only_what_can_pass(
    slack, overdue_item, editor, django_capture_on_commit_callbacks, answer, outcome
):
    from chat import tasks

    with django_capture_on_commit_callbacks(execute=True):
        reminders_send()
    overdue_item.status, overdue_item.verification_note = Status.DONE, "Load test."
    overdue_item.save()
    slack.answers["chat.update"] = answer
    task = tasks.notify_action_item_closed
    if outcome == "retried":
        # Raised for Celery's autoretry (the task body called as a function).
        with pytest.raises(tasks.TransientChatError):
            task(item_id=overdue_item.pk)
        assert tasks.TransientChatError in task.autoretry_for
    else:
        result = task(item_id=overdue_item.pk)
        assert "not updated" in result
    assert len(slack.called("chat.update")) == 1
