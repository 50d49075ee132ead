"""Slack's formats and signatures, without a request."""

import pytest

from chat.providers import get_provider
from chat.providers.base import Button, ChatError, OutgoingMessage, RequestRejected
from chat.slack import blocks
from chat.slack.provider import SlackProvider
from tests.chat.conftest import SIGNING_SECRET, sign


@pytest.mark.parametrize(
    ("slack_text", "markdown"),
    [
        ("plain words", "plain words"),
        ("see <https://x.example/a|the graph>", "see [the graph](https://x.example/a)"),
        ("bare <https://x.example/a>", "bare https://x.example/a"),
        ("ping <@U222222222>", "ping @U222222222"),
        ("in <#C123ABC456|ops>", "in #ops"),
        ("<!here> look", "@here look"),
        ("a &lt; b &amp;&amp; c &gt; d", "a < b && c > d"),
        ("<javascript:alert(1)|x>", "<javascript:alert(1)|x>"),
    ],
)
def test_to_markdown_turns_slack_markup_into_markdown(slack_text, markdown):
    assert blocks.to_markdown(slack_text) == markdown


def test_message_blocks_escape_text_and_carry_link_buttons():
    message = OutgoingMessage(
        text="INC-3 <b>&</b>", buttons=(Button("Open", "https://h.example/1", "go"),)
    )
    assert blocks.message_blocks(message) == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "INC-3 &lt;b&gt;&amp;&lt;/b&gt;"}},  # noqa: E501
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Open"},
                    "url": "https://h.example/1",
                    "action_id": "go",
                }
            ],
        },
    ]  # fmt: skip


def _headers(signed: dict) -> dict:
    return {
        "X-Slack-Request-Timestamp": signed["HTTP_X_SLACK_REQUEST_TIMESTAMP"],
        "X-Slack-Signature": signed["HTTP_X_SLACK_SIGNATURE"],
    }


def test_verify_request_accepts_slacks_signature_up_to_five_minutes(settings):
    settings.KB_SLACK_SIGNING_SECRET = SIGNING_SECRET
    body = b"token=xyz&text=link+INC-1"
    headers = _headers(sign(body, timestamp=1_700_000_000))
    slack = SlackProvider()
    slack.verify_request(headers=headers, body=body, now=1_700_000_000 + 300)
    with pytest.raises(RequestRejected, match="five minutes"):
        slack.verify_request(headers=headers, body=body, now=1_700_000_000 + 301)
    with pytest.raises(RequestRejected, match="does not match"):
        slack.verify_request(headers=headers, body=body + b"&x=1", now=1_700_000_000)


def test_the_provider_registry_names_slack():
    assert isinstance(get_provider("slack"), SlackProvider)


def test_sending_without_a_bot_token_is_a_lasting_error(settings):
    settings.KB_SLACK_BOT_TOKEN = ""
    with pytest.raises(ChatError) as caught:
        SlackProvider().post_message(channel_id="C1", message=OutgoingMessage("x"))
    assert caught.value.transient is False


def test_an_unreachable_slack_is_a_transient_error(settings):
    settings.KB_SLACK_BOT_TOKEN = "xoxb-test"
    settings.KB_SLACK_API_URL = "http://127.0.0.1:9/api/"
    with pytest.raises(ChatError) as caught:
        SlackProvider().post_message(channel_id="C1", message=OutgoingMessage("x"))
    assert caught.value.transient is True
