"""Keeping a Slack message's timeline entry in step with its reactions.

Run by ``chat.slack_sync_pin`` whenever the team's reaction is added to or removed
from a message in a linked channel. The task reads the message as it is now, so
the outcome does not depend on the order events arrive in or on how many people
reacted: the entry exists exactly while the message carries the reaction.
"""

import logging

from chat import selectors, services
from chat.choices import Provider
from chat.providers import get_provider
from chat.providers.base import ChatUser
from chat.slack import blocks

logger = logging.getLogger(__name__)


def sync(*, channel_id: str, message_ts: str) -> str:
    """Add, keep or remove the message's entry; idempotent.

    Raises ChatError when Slack cannot be read (the task retries transient ones).
    """
    link = selectors.channel_link(provider=Provider.SLACK, channel_id=channel_id)
    if link is None:
        return f"{channel_id}: no longer linked"
    slack = get_provider(Provider.SLACK)
    post = slack.fetch_post(channel_id=channel_id, message_id=message_ts)
    if post is None or selectors.reaction_for(link) not in post.reactions:
        removed = services.pinned_message_remove(
            provider=Provider.SLACK, channel_id=channel_id, message_ts=message_ts
        )
        return f"{channel_id}/{message_ts}: not pinned" + (
            " (entry removed)" if removed else ""
        )
    if selectors.pinned_message(
        provider=Provider.SLACK, channel_id=channel_id, message_ts=message_ts
    ):
        return f"{channel_id}/{message_ts}: already on the timeline"
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
