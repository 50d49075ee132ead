"""The chat layer's one small interface.

A provider (Slack today) is a module with a class implementing ``ChatProvider``,
registered by name in ``chat.providers.PROVIDERS``. Everything else in ``chat``
(services, tasks, messages) speaks only these plain types, so a second provider is
a new module, not a change to the rest.
"""

import abc
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Button:
    """A button that opens a Hindsight page."""

    text: str
    url: str
    action_id: str


@dataclass(frozen=True)
class OutgoingMessage:
    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ChatUser:
    id: str
    name: str
    email: str = ""


@dataclass(frozen=True)
class ChatPost:
    """A message read from a channel."""

    channel_id: str
    ts: str
    text: str
    user_id: str
    posted_at: dt.datetime
    # Names of the reactions the message carries now.
    reactions: frozenset[str] = frozenset()


class RequestRejected(Exception):
    """An incoming request that must not be acted on (bad signature, too old)."""


class ChatError(Exception):
    """A call to the chat service failed.

    ``transient`` errors (rate limits, outages, timeouts) are retried later;
    the others (a channel that does not exist, a revoked token) are not.
    """

    def __init__(self, message: str, *, transient: bool, code: str = "") -> None:
        super().__init__(message)
        self.transient = transient
        self.code = code


class ChatProvider(abc.ABC):
    name: str

    @abc.abstractmethod
    def verify_request(
        self, *, headers: Mapping[str, str], body: bytes, now: float
    ) -> None:
        """Raise RequestRejected unless the request really comes from the service."""

    @abc.abstractmethod
    def post_message(self, *, channel_id: str, message: OutgoingMessage) -> str:
        """Post a message; returns its id (Slack: ts)."""

    @abc.abstractmethod
    def update_message(
        self, *, channel_id: str, message_id: str, message: OutgoingMessage
    ) -> None:
        """Replace a message Hindsight posted earlier."""

    @abc.abstractmethod
    def resolve_user(self, *, user_id: str) -> ChatUser:
        """The user's display name and, when the service shares it, email."""

    @abc.abstractmethod
    def find_user_by_email(self, *, email: str) -> ChatUser | None:
        """The chat account registered with ``email``, or None when there is none."""

    @abc.abstractmethod
    def send_direct(self, *, user_id: str, message: OutgoingMessage) -> str:
        """Post ``message`` to the person alone (a direct message); returns its id."""

    @abc.abstractmethod
    def fetch_post(self, *, channel_id: str, message_id: str) -> ChatPost | None:
        """One message of a channel, or None when it is gone."""

    @abc.abstractmethod
    def permalink(self, *, channel_id: str, message_id: str) -> str:
        """A link that opens the message in the chat service."""
