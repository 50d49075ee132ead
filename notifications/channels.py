"""Where notifications go. Email is built in; another app (chat) registers its
own sender in its ``AppConfig.ready()`` and then gets a row, and a send, for every
notification as email does:

    from notifications.channels import register
    register("chat", send_to_chat, active=chat_is_set_up)

``active`` says whether the channel is usable now (Slack configured): while it is
not, no row is made for it, so nothing waits for a channel that cannot send.

A sender takes the Notification and its Message, and raises ``Undeliverable``
when this person cannot be reached on its channel (no address, no linked chat
account): the notification is then marked not sent, with the reason. It raises
``TryLater`` when the channel is down for now: the notification waits in its row
and the relay tries again later.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    url: str
    # The same in a sentence or two, for chat (no greeting, no footer).
    short_text: str = ""


class Undeliverable(Exception):
    """This person cannot be reached on this channel."""


class TryLater(Exception):
    """The channel is down for now (rate limit, outage): the relay retries."""


Sender = Callable[[object, Message], None]
_SENDERS: dict[str, Sender] = {}
_ACTIVE: dict[str, Callable[[], bool]] = {}


def _always() -> bool:
    return True


def register(
    channel: str, sender: Sender, *, active: Callable[[], bool] = _always
) -> None:
    """Send every notification over ``channel`` too (a Channel value), whenever
    ``active()`` says the channel is set up."""
    _SENDERS[channel] = sender
    _ACTIVE[channel] = active


def unregister(channel: str) -> None:
    _SENDERS.pop(channel, None)
    _ACTIVE.pop(channel, None)


def registered() -> list[str]:
    """The channels a new notification goes over: registered and set up now."""
    return [channel for channel in _SENDERS if _ACTIVE.get(channel, _always)()]


def sender_for(channel: str) -> Sender | None:
    return _SENDERS.get(channel)


def send_email(notification, message: Message) -> None:
    address = notification.user.email
    if not address:
        raise Undeliverable("no email address")
    send_mail(
        message.subject,
        message.text,
        settings.DEFAULT_FROM_EMAIL,
        [address],
        fail_silently=False,
    )


register("email", send_email)
