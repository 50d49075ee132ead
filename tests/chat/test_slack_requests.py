"""Slack's requests to Hindsight: every refusal writes nothing; the happy paths.

Requests are signed as Slack signs them (tests/chat/conftest.py); Slack's Web API
is the local server in tests/chat/slack_server.py.
"""

import copy
import datetime as dt
import json
import time
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from chat.models import ChannelLink, ChatMessage, PinnedMessage
from postmortems.models import Incident, OutboxTask, Role, TimelineEntry
from tests import factories
from tests.chat.conftest import BOT_TOKEN, CHANNEL, sign
from tests.chat.slack_server import fixture

pytestmark = pytest.mark.django_db

EVENTS = reverse("chat:slack_events")
COMMANDS = reverse("chat:slack_commands")
INTERACTIONS = reverse("chat:slack_interactions")
MESSAGE_TS = "1360782400.498405"


def _json(data) -> bytes:
    return json.dumps(data).encode()


def _event(name: str, **changes) -> dict:
    payload = copy.deepcopy(fixture(f"events/{name}.json"))
    for path, value in changes.items():
        target = payload
        *parents, leaf = path.split("__")
        for part in parents:
            target = target[part]
        target[leaf] = value
    return payload


def _command(text: str, **fields) -> bytes:
    return urlencode({**fixture("commands/link.json"), "text": text, **fields}).encode()


def _interaction(**changes) -> bytes:
    payload = copy.deepcopy(fixture("interactions/block_actions.json"))
    payload.update(changes)
    return urlencode({"payload": json.dumps(payload)}).encode()


def _counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (
            ChannelLink,
            PinnedMessage,
            ChatMessage,
            TimelineEntry,
            Incident,
            OutboxTask,
        )
    }


# --- the sweep: bad or unsigned bodies get 4xx and write nothing ---------------
# (Well-formed requests Hindsight ignores or refuses get 200: the sweeps below.)

_SIGNED = "signed"
_UNSIGNED = "unsigned"
_BAD_SECRET = "bad-secret"
_OLD = "old"
_FUTURE = "future"
_NOT_A_TIME = "not-a-time"
_TAMPERED = "tampered"

_GOOD_BODIES = {
    EVENTS: (_json(_event("reaction_added")), "application/json"),
    COMMANDS: (_command("link INC-1"), "application/x-www-form-urlencoded"),
    INTERACTIONS: (_interaction(), "application/x-www-form-urlencoded"),
}


def _signature_cases():
    for url in (EVENTS, COMMANDS, INTERACTIONS):
        for how in (_UNSIGNED, _BAD_SECRET, _OLD, _FUTURE, _NOT_A_TIME, _TAMPERED):
            body, kind = _GOOD_BODIES[url]
            yield pytest.param(url, body, kind, how, 401, id=f"{url}-{how}")


_JSON = "application/json"
_FORM = "application/x-www-form-urlencoded"

_BODY_CASES = [
    # (url, body, content type, expected status, id)
    (EVENTS, b"{not json", _JSON, 400, "events-malformed-json"),
    (EVENTS, b"\xff\xfe\x00", _JSON, 401, "events-not-utf8"),
    (EVENTS, b"[1, 2]", _JSON, 400, "events-json-array"),
    (EVENTS, _json({"type": "app_rate_limited"}), _JSON, 400, "events-unknown-type"),
    (EVENTS, _json({"type": "event_callback"}), _JSON, 400, "events-no-event"),
    (EVENTS, _json(_event("app_mention")), _JSON, 400, "events-unknown-event-type"),
    (
        EVENTS,
        _json(_event("reaction_added", event__item__ts="yesterday")),
        _JSON,
        400,
        "events-bad-ts",
    ),
    (
        EVENTS,
        _json(_event("reaction_added", event__item__channel="../admin")),
        _JSON,
        400,
        "events-bad-channel-id",
    ),
    (
        EVENTS,
        _json(_event("message_changed", event__message="edited")),
        _JSON,
        400,
        "events-message-not-an-object",
    ),
    (
        EVENTS,
        _json({"type": "url_verification"}),
        _JSON,
        400,
        "events-challenge-missing",
    ),
    (COMMANDS, b"\xff\xfe", _FORM, 401, "commands-not-utf8"),
    (COMMANDS, b"text=link&&&==", _FORM, 400, "commands-malformed-form"),
    (COMMANDS, urlencode({"text": "link INC-1"}).encode(), _FORM, 400, "commands-missing-fields"),  # noqa: E501
    (INTERACTIONS, b"", _FORM, 400, "interactions-empty"),
    (INTERACTIONS, urlencode({"payload": "{oops"}).encode(), _FORM, 400, "interactions-malformed-json"),  # noqa: E501
    (INTERACTIONS, _interaction(type="view_submission"), _FORM, 400, "interactions-unknown-type"),  # noqa: E501
    (INTERACTIONS, _interaction(actions=[{"action_id": "delete_incident"}]), _FORM, 400, "interactions-unknown-action"),  # noqa: E501
    (INTERACTIONS, _interaction(actions=[]), _FORM, 400, "interactions-no-actions"),
]  # fmt: skip


def _headers(body: bytes, how: str) -> dict:
    now = int(time.time())
    if how == _UNSIGNED:
        return {}
    if how == _BAD_SECRET:
        return sign(body, secret="not-the-signing-secret")
    # Half a minute past the limit: the request takes time to arrive. The exact
    # five-minute edge is tested with a fixed clock (test_slack_provider.py).
    if how == _OLD:
        return sign(body, timestamp=now - 5 * 60 - 30)
    if how == _FUTURE:
        return sign(body, timestamp=now + 5 * 60 + 30)
    if how == _NOT_A_TIME:
        headers = sign(body)
        headers["HTTP_X_SLACK_REQUEST_TIMESTAMP"] = "noon"
        return headers
    if how == _TAMPERED:
        return sign(body.replace(b"C", b"D", 1))
    return sign(body)


@pytest.mark.parametrize(
    ("url", "body", "content_type", "how", "status"),
    [
        *_signature_cases(),
        *(
            pytest.param(url, body, kind, _SIGNED, status, id=case_id)
            for url, body, kind, status, case_id in _BODY_CASES
        ),
    ],
)
def test_slack_requests_refused_write_nothing(
    client, slack, linked, editor, url, body, content_type, how, status
):
    """GIVEN a linked channel and an editor whose Slack email matches
    WHEN Slack's URLs get an unsigned, badly signed, replayed or unexpected body
    THEN the answer is that 4xx with a reason, and no row anywhere changes."""
    slack.answers["users.info"] = (
        200,
        {"ok": True, "user": {"id": "U222222222", "profile": {"email": editor.email}}},
    )
    before = _counts()
    response = client.post(
        url, data=body, content_type=content_type, **_headers(body, how)
    )
    assert response.status_code == status, response.content
    assert response.json()["error"]
    assert _counts() == before
    assert not slack.called("chat.postMessage")


@pytest.mark.parametrize("url", [EVENTS, COMMANDS, INTERACTIONS])
def test_slack_urls_refuse_everything_while_no_signing_secret_is_set(
    client, slack, settings, url
):
    settings.KB_SLACK_SIGNING_SECRET = ""
    body, kind = _GOOD_BODIES[url]
    response = client.post(url, data=body, content_type=kind, **sign(body))
    assert response.status_code == 401
    assert "KB_SLACK_SIGNING_SECRET" in response.json()["error"]


@pytest.mark.parametrize("url", [EVENTS, COMMANDS, INTERACTIONS])
def test_slack_urls_answer_only_post(client, url):
    assert client.get(url).status_code == 405


# --- Events API ---------------------------------------------------------------


def test_slack_events_answer_the_url_verification_challenge(slack, post_signed):
    payload = fixture("events/url_verification.json")
    response = post_signed(EVENTS, payload)
    assert response.status_code == 200
    assert response.json() == {"challenge": payload["challenge"]}


def _users_info(email: str, *, real_name: str = "Ana Lima", display: str = "ana"):
    data = copy.deepcopy(fixture("web_api/users.info.json"))
    data["user"]["profile"].update(
        email=email, real_name=real_name, display_name=display
    )
    return 200, data


def test_reaction_adds_the_message_to_the_timeline_with_author_time_and_link(
    slack, post_signed, linked, editor, django_capture_on_commit_callbacks
):
    slack.answers["users.info"] = _users_info(editor.email)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(EVENTS, _event("reaction_added"))
    assert response.status_code == 200

    pinned = PinnedMessage.objects.select_related("entry").get()
    entry = pinned.entry
    assert entry.incident == linked.incident
    assert entry.author == editor
    assert entry.occurred_at == dt.datetime(
        2013, 2, 13, 19, 6, 40, 498405, tzinfo=dt.UTC
    )
    permalink = fixture("web_api/chat.getPermalink.json")["permalink"]
    assert pinned.permalink == permalink
    assert entry.text == (
        "Rolled back deploy 4512 of [checkout-api](https://deploy.example.com/4512)"
        f"\n\n\u2014 [in Slack]({permalink})"
    )
    # Exactly what Hindsight asked Slack, with the bot token.
    [history] = slack.called("conversations.history")
    assert history.params == {
        "channel": CHANNEL,
        "latest": MESSAGE_TS,
        "oldest": MESSAGE_TS,
        "inclusive": "1",
        "limit": "1",
    }
    [users] = slack.called("users.info")
    assert users.params == {"user": "U222222222"}
    [link] = slack.called("chat.getPermalink")
    assert link.params == {"channel": CHANNEL, "message_ts": MESSAGE_TS}
    assert {c.headers["Authorization"] for c in slack.calls} == {f"Bearer {BOT_TOKEN}"}


def test_reaction_from_an_unknown_person_keeps_their_slack_name(
    slack, post_signed, linked, django_capture_on_commit_callbacks
):
    slack.answers["users.info"] = _users_info("stranger@elsewhere.example", display="")
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(EVENTS, _event("reaction_added"))
    entry = TimelineEntry.objects.get(incident=linked.incident)
    assert entry.author is None
    assert "\u2014 [Ana Lima in Slack](https://" in entry.text
    assert PinnedMessage.objects.get().author_name == "Ana Lima"


def test_reaction_added_twice_keeps_one_entry(
    slack, post_signed, linked, editor, django_capture_on_commit_callbacks
):
    slack.answers["users.info"] = _users_info(editor.email)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert post_signed(EVENTS, _event("reaction_added")).status_code == 200
    assert TimelineEntry.objects.filter(incident=linked.incident).count() == 1


def test_another_reaction_adds_nothing(slack, post_signed, linked):
    response = post_signed(EVENTS, _event("reaction_added", event__reaction="tada"))
    assert response.status_code == 200
    assert not TimelineEntry.objects.exists()
    assert not slack.calls


def _history(*reactions: str) -> tuple[int, dict]:
    """conversations.history's answer with the message carrying ``reactions``."""
    data = copy.deepcopy(fixture("web_api/conversations.history.json"))
    data["messages"][0]["reactions"] = [
        {"name": name, "users": ["U123ABC456"], "count": 1} for name in reactions
    ]
    return 200, data


def test_the_teams_chosen_reaction_is_the_one_that_pins(
    slack, post_signed, linked, editor, team, django_capture_on_commit_callbacks
):
    from chat.models import TeamChatSettings

    TeamChatSettings.objects.create(team=team, reaction="bookmark")
    slack.answers["users.info"] = _users_info(editor.email)
    slack.answers["conversations.history"] = _history("pushpin", "bookmark")
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(EVENTS, _event("reaction_added"))  # pushpin: not this team's
        assert not TimelineEntry.objects.exists()
        post_signed(EVENTS, _event("reaction_added", event__reaction="bookmark"))
    assert TimelineEntry.objects.count() == 1


def test_removing_the_reaction_removes_only_the_entry_it_made(
    slack, post_signed, linked, editor, django_capture_on_commit_callbacks
):
    written = factories.TimelineEntryFactory(incident=linked.incident, author=editor)
    slack.answers["users.info"] = _users_info(editor.email)
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(EVENTS, _event("reaction_added"))
    assert TimelineEntry.objects.count() == 2

    slack.answers["conversations.history"] = _history()  # the 📌 is gone
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(EVENTS, _event("reaction_removed"))
    assert response.status_code == 200
    assert list(TimelineEntry.objects.all()) == [written]
    assert not PinnedMessage.objects.exists()
    # Removing it again (or a message never pinned) touches nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(EVENTS, _event("reaction_removed")).status_code == 200
    assert list(TimelineEntry.objects.all()) == [written]


def test_the_entry_stays_while_someone_else_still_has_the_reaction(
    slack, post_signed, linked, editor, django_capture_on_commit_callbacks
):
    """GIVEN two people pinned a message WHEN one removes their 📌 THEN the
    message still carries it, and the entry stays."""
    slack.answers["users.info"] = _users_info(editor.email)
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(EVENTS, _event("reaction_added"))
        post_signed(EVENTS, _event("reaction_added", event__user="U333333333"))
        post_signed(EVENTS, _event("reaction_removed"))
    assert TimelineEntry.objects.count() == 1


def test_a_reaction_removed_before_its_addition_is_handled_adds_nothing(
    slack, post_signed, linked, editor, django_capture_on_commit_callbacks
):
    """GIVEN a 📌 added and removed at once WHEN the events are handled (in
    either order) THEN the message carries no 📌 any more, and no entry is made."""
    slack.answers["conversations.history"] = _history()
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(EVENTS, _event("reaction_removed"))
        post_signed(EVENTS, _event("reaction_added"))
    assert not TimelineEntry.objects.exists()
    assert not slack.called("users.info")


def test_a_reply_in_a_thread_is_pinned_from_conversations_replies(
    slack, post_signed, linked, editor, django_capture_on_commit_callbacks
):
    reply_ts = "1483037603.017503"
    slack.answers["users.info"] = _users_info(editor.email)
    slack.answers["conversations.history"] = (
        200,
        {"ok": True, "messages": [], "has_more": False},
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(EVENTS, _event("reaction_added", event__item__ts=reply_ts))
    [replies] = slack.called("conversations.replies")
    assert replies.params == {
        "channel": CHANNEL,
        "ts": reply_ts,
        "latest": reply_ts,
        "oldest": reply_ts,
        "inclusive": "1",
        "limit": "2",
    }
    entry = TimelineEntry.objects.get()
    assert entry.text.startswith("Failover to the standby finished at 10:42\n\n")
    assert PinnedMessage.objects.get().message_ts == reply_ts


def test_a_message_deleted_before_it_is_read_adds_nothing(
    slack, post_signed, linked, django_capture_on_commit_callbacks
):
    empty = (200, {"ok": True, "messages": [], "has_more": False})
    slack.answers["conversations.history"] = empty
    slack.answers["conversations.replies"] = empty
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(EVENTS, _event("reaction_added")).status_code == 200
    assert not TimelineEntry.objects.exists()


def test_editing_a_pinned_message_updates_its_entry(
    slack, post_signed, linked, editor, django_capture_on_commit_callbacks
):
    slack.answers["users.info"] = _users_info(editor.email)
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(EVENTS, _event("reaction_added"))
    response = post_signed(EVENTS, _event("message_changed"))
    assert response.status_code == 200
    assert response.json()["updated"] is True
    entry = TimelineEntry.objects.get()
    assert entry.text.startswith(
        "Rolled back deploy 4512 of [checkout-api](https://deploy.example.com/4512); "
        "errors falling\n\n"
    )
    assert entry.author == editor


def test_new_messages_anywhere_are_acknowledged_and_write_nothing(
    slack, post_signed, linked
):
    """Plain messages reach Hindsight from every channel the bot is in (the
    team's channel too); they are not errors, or Slack would turn events off."""
    for channel in (CHANNEL, "C0TEAM0001"):
        response = post_signed(EVENTS, _event("message", event__channel=channel))
        assert response.status_code == 200
        assert response.json() == {"ok": True, "ignored": "not an edit"}
    assert not TimelineEntry.objects.exists()
    assert not slack.calls


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        pytest.param(name, {path: channel}, id=f"{name}-{where}")
        for name, path in (
            ("reaction_added", "event__item__channel"),
            ("reaction_removed", "event__item__channel"),
            ("message_changed", "event__channel"),
        )
        for where, channel in (("unlinked", "C0UNLINKED1"), ("team", "C0TEAM0001"))
    ]
    + [
        # Hindsight's own chat.update of an overdue message, in the team's channel.
        pytest.param(
            "message_changed",
            {"event__channel": "C0TEAM0001", "event__message__bot_id": "B0HINDSIGHT"},
            id="hindsights-own-update-in-the-team-channel",
        )
    ],
)
def test_events_in_channels_linked_to_no_incident_are_acknowledged_and_ignored(
    slack, post_signed, linked, team_channel, name, changes
):
    """GIVEN a well-signed reaction or edit in a channel that follows no incident
    (the team's channel included) WHEN Slack sends it THEN the answer is 200 saying
    it was ignored (Slack retries failures and disables failing apps), and nothing
    is written or asked of Slack."""
    before = _counts()
    response = post_signed(EVENTS, _event(name, **changes))
    assert response.status_code == 200, response.content
    assert response.json() == {"ok": True, "ignored": "channel not linked"}
    assert _counts() == before
    assert not slack.calls


def test_editing_a_message_that_was_never_pinned_writes_nothing(
    slack, post_signed, linked
):
    response = post_signed(EVENTS, _event("message_changed"))
    assert response.status_code == 200
    assert response.json()["updated"] is False
    assert not TimelineEntry.objects.exists()


def test_reaction_while_slack_is_down_is_kept_for_a_retry(
    slack, post_signed, linked, editor, django_capture_on_commit_callbacks
):
    """GIVEN Slack's Web API failing WHEN a message is pinned THEN the request
    still succeeds, the task fails for a retry writing no half entry, its outbox
    row stays, and once Slack is back the relay pins the message."""
    from celery.exceptions import Retry

    from chat.tasks import TransientChatError
    from postmortems import outbox

    slack.answers["conversations.history"] = (
        500,
        {"ok": False, "error": "fatal_error"},
    )
    with pytest.raises((Retry, TransientChatError), match="fatal_error"):
        with django_capture_on_commit_callbacks(execute=True):
            response = post_signed(EVENTS, _event("reaction_added"))
            assert response.status_code == 200
    assert not TimelineEntry.objects.exists()
    [kept] = OutboxTask.objects.all()
    assert (kept.task_name, kept.kwargs) == (
        "chat.slack_sync_pin",
        {"channel_id": CHANNEL, "message_ts": MESSAGE_TS},
    )

    del slack.answers["conversations.history"]  # Slack is back
    slack.answers["users.info"] = _users_info(editor.email)
    assert outbox.relay_pending(grace=dt.timedelta(0)) == 1
    assert not OutboxTask.objects.exists()
    assert TimelineEntry.objects.get().incident == linked.incident


# --- slash commands -------------------------------------------------------------


def test_link_command_links_the_channel_for_an_editor_of_the_team(
    slack, post_signed, incident, editor
):
    slack.answers["users.info"] = _users_info(editor.email)
    response = post_signed(COMMANDS, _command(f"link {incident.reference}"), form=True)
    assert response.status_code == 200
    assert response.json() == {
        "response_type": "in_channel",
        "text": f"This channel now follows {incident.reference} Checkout latency. "
        f"https://hindsight.example.com/incidents/{incident.pk}/",
    }
    link = ChannelLink.objects.get()
    assert (link.channel_id, link.incident, link.linked_by) == (
        CHANNEL,
        incident,
        editor,
    )
    [users] = slack.called("users.info")
    assert users.params == {"user": "U222222222"}


@pytest.mark.parametrize("key_form", ["INC-{pk}", "inc-{pk}", "{pk}", "#{pk}"])
def test_link_command_reads_every_form_of_incident_key(
    slack, post_signed, incident, editor, key_form
):
    slack.answers["users.info"] = _users_info(editor.email)
    key = key_form.format(pk=incident.pk)
    assert post_signed(COMMANDS, _command(f"link {key}"), form=True).status_code == 200
    assert ChannelLink.objects.get().incident == incident


def test_linking_again_moves_the_channel_to_the_new_incident(
    slack, post_signed, linked, editor, team
):
    other = factories.IncidentFactory(team=team)
    slack.answers["users.info"] = _users_info(editor.email)
    post_signed(COMMANDS, _command(f"link {other.reference}"), form=True)
    assert ChannelLink.objects.get().incident == other


def _command_refusals():
    """(id, command text, channel, who, setup, what the reply says)."""
    other_link = "channel-follows-another-teams-incident"
    return [
        ("unknown-subcommand", "unpin everything", CHANNEL, "editor", None, "Unknown subcommand 'unpin'"),  # noqa: E501
        ("malformed-incident-key", "link banana", CHANNEL, "editor", None, "Say which incident"),  # noqa: E501
        ("link-without-key", "link", CHANNEL, "editor", None, "Say which incident"),
        ("unknown-incident", "link INC-999999", CHANNEL, "editor", None, "No incident INC-999999."),  # noqa: E501
        ("link-as-viewer", "link {incident}", CHANNEL, "viewer", None, "You cannot edit {incident}"),  # noqa: E501
        ("link-as-editor-of-another-team", "link {incident}", CHANNEL, "other-editor", None, "You cannot edit {incident}"),  # noqa: E501
        ("link-unknown-email", "link {incident}", CHANNEL, "unknown-email", None, "matches no Hindsight account"),  # noqa: E501
        ("link-no-email", "link {incident}", CHANNEL, "no-email", None, "matches no Hindsight account"),  # noqa: E501
        ("link-slack-cannot-say-who", "link {incident}", CHANNEL, "slack-error", None, "Slack did not say who you are"),  # noqa: E501
        ("link-moves-another-teams-channel", "link {incident}", CHANNEL, "editor", other_link, "You cannot edit {other}"),  # noqa: E501
        ("unlink-unlinked-channel", "unlink", "C0UNLINKED1", "editor", None, "This channel follows no incident."),  # noqa: E501
        ("unlink-as-viewer", "unlink", CHANNEL, "viewer", "linked", "You cannot edit {incident}"),  # noqa: E501
        ("unlink-another-teams-channel", "unlink", CHANNEL, "editor", other_link, "You cannot edit {other}"),  # noqa: E501
        ("declare-without-title", "declare SEV1", CHANNEL, "editor", None, "Give the incident a title"),  # noqa: E501
        ("declare-unknown-team", "declare team:nope Down", CHANNEL, "editor", None, "No team 'nope'."),  # noqa: E501
        ("declare-title-too-long", "declare " + "x" * 201, CHANNEL, "editor", None, "200"),  # noqa: E501
        ("declare-as-viewer", "declare Payments down", CHANNEL, "viewer", None, "You cannot declare incidents for Payments"),  # noqa: E501
        ("declare-for-another-team", "declare team:identity Down", CHANNEL, "editor", None, "You cannot declare incidents for Identity"),  # noqa: E501
        ("declare-in-several-teams", "declare Payments down", CHANNEL, "editor", "two-teams", "Name the team"),  # noqa: E501
        ("declare-in-another-teams-channel", "declare Payments down", CHANNEL, "editor", other_link, "You cannot edit {other}"),  # noqa: E501
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "channel", "who", "setup", "says"),
    [pytest.param(*case[1:], id=case[0]) for case in _command_refusals()],
)
def test_slash_command_refusals_are_shown_to_the_person_and_write_nothing(
    slack, post_signed, incident, editor, viewer, team, other_team,
    text, channel, who, setup, says,
):  # fmt: skip
    """GIVEN a correctly signed, well-formed /hindsight command that Hindsight
    refuses (a typo, an unknown incident or person, a missing right)
    WHEN Slack sends it THEN the answer is 200 (Slack shows a reply only on 200)
    with an ephemeral message saying what is wrong, and nothing is written."""
    other = factories.IncidentFactory(team=other_team, title="Login outage")
    if setup == "linked":
        ChannelLink.objects.create(channel_id=CHANNEL, incident=incident)
    elif setup == "channel-follows-another-teams-incident":
        ChannelLink.objects.create(channel_id=CHANNEL, incident=other)
    elif setup == "two-teams":
        editor.profile.teams.add(other_team)
    emails = {
        "editor": editor.email,
        "viewer": viewer.email,
        "other-editor": factories.UserFactory(
            role=Role.EDITOR, teams=[other_team]
        ).email,
        "unknown-email": "nobody@example.com",
        "no-email": "",
    }
    if who == "slack-error":
        slack.answers["users.info"] = (200, {"ok": False, "error": "user_not_found"})
    else:
        slack.answers["users.info"] = _users_info(emails[who])
    links = list(ChannelLink.objects.values_list("channel_id", "incident_id"))
    before = _counts()

    body = _command(text.format(incident=incident.reference), channel_id=channel)
    response = post_signed(COMMANDS, body, form=True)

    assert response.status_code == 200, response.content
    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    assert (
        says.format(incident=incident.reference, other=other.reference)
        in (reply["text"])
    )
    assert _counts() == before
    assert list(ChannelLink.objects.values_list("channel_id", "incident_id")) == links
    assert not slack.called("chat.postMessage")


def test_declare_command_declares_an_incident_and_links_the_channel(
    slack, post_signed, editor, team
):
    slack.answers["users.info"] = _users_info(editor.email)
    response = post_signed(
        COMMANDS, _command("declare SEV1 Checkout is returning 502s"), form=True
    )
    assert response.status_code == 200, response.content
    incident = Incident.objects.get()
    assert (incident.title, incident.severity, incident.team) == (
        "Checkout is returning 502s",
        "SEV1",
        team,
    )
    assert ChannelLink.objects.get().incident == incident
    body = response.json()
    assert body["response_type"] == "in_channel"
    assert body["text"].startswith(f"{incident.reference} declared (SEV1, Payments).")


def test_declare_command_needs_the_team_when_you_are_in_several(
    slack, post_signed, editor, team, other_team
):
    editor.profile.teams.add(other_team)
    slack.answers["users.info"] = _users_info(editor.email)
    response = post_signed(COMMANDS, _command("declare Payments down"), form=True)
    assert response.status_code == 200
    assert response.json()["response_type"] == "ephemeral"
    assert "identity, payments" in response.json()["text"]
    assert not Incident.objects.exists()

    response = post_signed(
        COMMANDS, _command("declare team:identity SEV3 Login slow"), form=True
    )
    assert response.status_code == 200
    assert Incident.objects.get().team == other_team


def test_unlink_command_stops_following_and_keeps_the_timeline(
    slack, post_signed, linked, editor
):
    entry = factories.TimelineEntryFactory(incident=linked.incident)
    slack.answers["users.info"] = _users_info(editor.email)
    response = post_signed(COMMANDS, _command("unlink"), form=True)
    assert response.status_code == 200
    assert not ChannelLink.objects.exists()
    assert TimelineEntry.objects.get() == entry


def test_help_command_explains_the_subcommands(slack, post_signed):
    for text in ("", "help"):
        response = post_signed(COMMANDS, _command(text), form=True)
        assert response.status_code == 200
        assert "/hindsight link INC-42" in response.json()["text"]
    assert not slack.calls


# --- interactivity ------------------------------------------------------------------


def test_button_clicks_are_acknowledged(slack, post_signed):
    body = _interaction()
    response = post_signed(INTERACTIONS, body, form=True)
    assert response.status_code == 200
    assert response.json() == {"ok": True}
