"""Personal notifications as chat direct messages.

The notifications app sends each notification over every registered channel;
this is the chat channel's sender. The person is found in the chat service by
their Hindsight email address (Slack: users.lookupByEmail), so nobody has to link
accounts by hand. Someone without an address, or without a chat account under it,
gets the notification marked "not sent" with the reason, and still gets the email.
"""

import hashlib
import logging

from django.core.cache import cache

from chat.choices import Provider
from chat.providers import get_provider
from chat.providers.base import Button, ChatError, ChatProvider, OutgoingMessage
from notifications.channels import Message, TryLater, Undeliverable

logger = logging.getLogger(__name__)

# A chat account found by email rarely changes; a day saves a lookup per message.
# The key is the address: a person whose email changes is looked up again.
ACCOUNT_CACHE_SECONDS = 24 * 3600
# "No account under this address" is remembered too, for less time: the person
# may join chat soon, but each notification to someone without an account
# should not ask the chat service again.
NO_ACCOUNT_CACHE_SECONDS = 3600
# What the cache holds for "no account" (an account id is never empty).
_NO_ACCOUNT = ""


def _account_key(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"chat:account:{Provider.SLACK}:{digest}"


def chat_account_id(*, email: str, provider: ChatProvider) -> str | None:
    """The chat service's id of the person with ``email``; None if they have none."""
    key = _account_key(email)
    found = cache.get(key)
    if found is not None:
        return found or None
    account = provider.find_user_by_email(email=email)
    if account is None:
        cache.set(key, _NO_ACCOUNT, NO_ACCOUNT_CACHE_SECONDS)
        return None
    cache.set(key, account.id, ACCOUNT_CACHE_SECONDS)
    return account.id


def notification_send_direct(notification, message: Message) -> None:
    """Send ``message`` to the notification's person as a direct message.

    Raises ``Undeliverable`` when the person cannot be reached in chat; a
    transient chat error raises ``TryLater``: the notification waits for the relay.
    """
    email = (notification.user.email or "").strip()
    if not email:
        raise Undeliverable("no email address to find the Slack account by")
    try:
        provider = get_provider(Provider.SLACK)
        account_id = chat_account_id(email=email, provider=provider)
        if account_id is None:
            raise Undeliverable(f"no Slack account uses {email}")
        provider.send_direct(
            user_id=account_id,
            message=OutgoingMessage(
                text=message.short_text or message.subject,
                buttons=(
                    Button(
                        text="Open in Hindsight",
                        url=message.url,
                        action_id="open_notification",
                    ),
                ),
            ),
        )
    except ChatError as exc:
        if exc.transient:
            raise TryLater(str(exc)) from exc
        raise Undeliverable(f"Slack refused: {exc.code or exc}") from exc
