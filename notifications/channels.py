"""Where notifications go. Email is built in; another app (chat) registers its
own sender in its ``AppConfig.ready()`` and then gets a row, and a send, for every
notification as email does:

    from notifications.channels import register
    register("chat", send_to_chat)

A sender takes the Notification and its Message, and raises ``Undeliverable``
when this person cannot be reached on its channel (no address, no linked chat
account): the notification is then marked not sent, with the reason.
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


class Undeliverable(Exception):
    """This person cannot be reached on this channel."""


Sender = Callable[[object, Message], None]
_SENDERS: dict[str, Sender] = {}


def register(channel: str, sender: Sender) -> None:
    """Send every notification over ``channel`` too (a Channel value)."""
    _SENDERS[channel] = sender


def unregister(channel: str) -> None:
    _SENDERS.pop(channel, None)


def registered() -> list[str]:
    return list(_SENDERS)


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
