"""Chat messages marked with the team's reaction, kept on the incident's timeline.

Entries are written only through ``postmortems.services.timeline``; a
``PinnedMessage`` row remembers which entry came from which message, so removing
the reaction removes that entry and never one a person wrote in Hindsight.
"""

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from chat.models import ChannelLink, PinnedMessage
from chat.providers.base import ChatPost, ChatUser
from postmortems.models import TimelineKind
from postmortems.services.timeline import (
    timeline_entry_create,
    timeline_entry_delete,
    timeline_entry_update,
)

logger = logging.getLogger(__name__)


def entry_text(
    *, text: str, author_name: str, linked_user: bool, permalink: str
) -> str:
    """The entry's Markdown: the message, then where it came from."""
    source = "in Slack" if linked_user else f"{author_name} in Slack"
    link = f"[{source}]({permalink})" if permalink else source
    return f"{text.strip() or '(no text)'}\n\n\u2014 {link}"


@transaction.atomic
def pinned_message_record(
    *,
    link: ChannelLink,
    post: ChatPost,
    text: str,
    author: ChatUser,
    user: AbstractBaseUser | None,
    permalink: str,
) -> PinnedMessage:
    """Add the message to the linked incident's timeline; idempotent per message.

    ``text`` is the message already converted to Markdown; ``user`` the Hindsight
    user the author maps to (None: the entry keeps the chat display name).
    """
    existing = (
        PinnedMessage.objects.select_for_update(of=("self",))
        .select_related("entry")
        .filter(provider=link.provider, channel_id=link.channel_id, message_ts=post.ts)
        .first()
    )
    if existing is not None:
        return existing  # marked twice (two people, or Slack re-delivering)
    body = entry_text(
        text=text,
        author_name=author.name,
        linked_user=user is not None,
        permalink=permalink,
    )
    entry = timeline_entry_create(
        incident=link.incident,
        actor=None,
        occurred_at=post.posted_at,
        kind=TimelineKind.OTHER,
        text=body,
        author=user,
    )
    try:
        with transaction.atomic():
            return PinnedMessage.objects.create(
                provider=link.provider,
                channel_id=link.channel_id,
                message_ts=post.ts,
                entry=entry,
                author_name=author.name[:200],
                author_chat_id=author.id,
                permalink=permalink,
            )
    except IntegrityError:
        # A concurrent delivery of the same reaction won: keep its entry only.
        timeline_entry_delete(entry=entry, actor=None)
        return PinnedMessage.objects.get(
            provider=link.provider, channel_id=link.channel_id, message_ts=post.ts
        )


@transaction.atomic
def pinned_message_remove(*, provider: str, channel_id: str, message_ts: str) -> bool:
    """Remove the entry that came from this message; False if there was none."""
    pinned = (
        PinnedMessage.objects.select_for_update(of=("self",))
        .select_related("entry")
        .filter(provider=provider, channel_id=channel_id, message_ts=message_ts)
        .first()
    )
    if pinned is None:
        return False
    # Deleting the entry cascades to the PinnedMessage row.
    timeline_entry_delete(entry=pinned.entry, actor=None)
    return True


@transaction.atomic
def pinned_message_edit(
    *, provider: str, channel_id: str, message_ts: str, text: str
) -> bool:
    """The message was edited in chat: the entry follows. False if not pinned."""
    pinned = (
        PinnedMessage.objects.select_for_update(of=("self",))
        .select_related("entry", "entry__author")
        .filter(provider=provider, channel_id=channel_id, message_ts=message_ts)
        .first()
    )
    if pinned is None:
        return False
    entry = pinned.entry
    timeline_entry_update(
        entry=entry,
        actor=None,
        occurred_at=entry.occurred_at,
        kind=entry.kind,
        text=entry_text(
            text=text,
            author_name=pinned.author_name,
            linked_user=entry.author_id is not None,
            permalink=pinned.permalink,
        ),
        author=entry.author,
    )
    return True
