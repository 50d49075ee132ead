"""Putting a Slack message on its incident's timeline (run by ``chat.slack_pin``)."""

import logging

from chat import selectors, services
from chat.choices import Provider
from chat.providers import get_provider
from chat.providers.base import ChatUser
from chat.slack import blocks

logger = logging.getLogger(__name__)


def pin(*, channel_id: str, message_ts: str) -> str:
    """Read the message, its author and permalink from Slack; record the entry.

    Idempotent: a message already on the timeline is left as it is. Raises
    ChatError when Slack cannot be read (the task retries transient ones).
    """
    link = selectors.channel_link(provider=Provider.SLACK, channel_id=channel_id)
    if link is None:
        return f"{channel_id}: no longer linked"
    slack = get_provider(Provider.SLACK)
    post = slack.fetch_post(channel_id=channel_id, message_id=message_ts)
    if post is None:
        return f"{channel_id}/{message_ts}: message gone"
    author = (
        slack.resolve_user(user_id=post.user_id)
        if post.user_id.startswith(("U", "W"))
        else ChatUser(id=post.user_id, name="a bot")
    )
    user = selectors.user_for_email(author.email)
    permalink = slack.permalink(channel_id=channel_id, message_id=message_ts)
    pinned = services.pinned_message_record(
        link=link,
        post=post,
        text=blocks.to_markdown(post.text),
        author=author,
        user=user,
        permalink=permalink,
    )
    return f"{channel_id}/{message_ts}: timeline entry {pinned.entry_id}"
