"""Slack behind the chat interface: request signatures and the Web API (slack-sdk)."""

import datetime as dt
import logging
from collections.abc import Mapping

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import Clock, SignatureVerifier

from chat.providers.base import (
    ChatError,
    ChatPost,
    ChatProvider,
    ChatUser,
    OutgoingMessage,
    RequestRejected,
)
from chat.slack import blocks

logger = logging.getLogger(__name__)

# Slack refuses, and so do we, requests signed more than five minutes ago: a
# captured request cannot be replayed later.
MAX_REQUEST_AGE_SECONDS = 5 * 60
# Errors worth retrying later (https://docs.slack.dev/reference/methods/...):
# rate limits and Slack's own troubles. Anything else (channel_not_found,
# not_in_channel, invalid_auth...) needs a person.
TRANSIENT_ERRORS = {
    "ratelimited",
    "rate_limited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}


class _FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


class SlackProvider(ChatProvider):
    name = "slack"

    def __init__(self, *, token: str | None = None, base_url: str | None = None):
        self._token = settings.KB_SLACK_BOT_TOKEN if token is None else token
        self._base_url = base_url or settings.KB_SLACK_API_URL
        self._client: WebClient | None = None

    # Incoming ---------------------------------------------------------------

    def verify_request(
        self, *, headers: Mapping[str, str], body: bytes, now: float
    ) -> None:
        secret = settings.KB_SLACK_SIGNING_SECRET
        if not secret:
            raise RequestRejected(
                "Slack is not set up: KB_SLACK_SIGNING_SECRET is empty."
            )
        lowered = {k.lower(): v for k, v in headers.items()}
        timestamp = lowered.get("x-slack-request-timestamp", "")
        signature = lowered.get("x-slack-signature", "")
        if not timestamp or not signature:
            raise RequestRejected(
                "Missing X-Slack-Signature or X-Slack-Request-Timestamp header."
            )
        if not timestamp.isdigit():
            raise RequestRejected("X-Slack-Request-Timestamp is not a Unix time.")
        if abs(now - int(timestamp)) > MAX_REQUEST_AGE_SECONDS:
            raise RequestRejected(
                "The request was signed more than five minutes from now (a replay?)."
            )
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise RequestRejected("The body is not UTF-8.") from None
        verifier = SignatureVerifier(secret, clock=_FixedClock(now))
        if not verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
            raise RequestRejected("The signature does not match the body.")

    # Outgoing ---------------------------------------------------------------

    @property
    def client(self) -> WebClient:
        if self._client is None:
            if not self._token:
                raise ChatError(
                    "Slack is not set up: KB_SLACK_BOT_TOKEN is empty.",
                    transient=False,
                    code="not_configured",
                )
            # No retry handlers: a failed send stays in the outbox for the relay.
            self._client = WebClient(
                token=self._token, base_url=self._base_url, timeout=10
            )
        return self._client

    def _call(self, method: str, **kwargs) -> dict:
        try:
            response = getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            code = str(exc.response.get("error", "")) if exc.response else ""
            status = getattr(exc.response, "status_code", 0) or 0
            transient = code in TRANSIENT_ERRORS or status == 429 or status >= 500
            raise ChatError(
                f"Slack {method}: {code or status}", transient=transient, code=code
            ) from exc
        except (SlackClientError, OSError, TimeoutError) as exc:
            # Unreachable, timed out, or an unreadable answer: try again later.
            raise ChatError(f"Slack {method}: {exc}", transient=True) from exc
        return response.data if hasattr(response, "data") else dict(response)

    def post_message(self, *, channel_id: str, message: OutgoingMessage) -> str:
        data = self._call(
            "chat_postMessage",
            channel=channel_id,
            text=message.text,
            blocks=blocks.message_blocks(message),
            unfurl_links=False,
        )
        return str(data["ts"])

    def update_message(
        self, *, channel_id: str, message_id: str, message: OutgoingMessage
    ) -> None:
        self._call(
            "chat_update",
            channel=channel_id,
            ts=message_id,
            text=message.text,
            blocks=blocks.message_blocks(message),
        )

    def resolve_user(self, *, user_id: str) -> ChatUser:
        data = self._call("users_info", user=user_id)
        user = data.get("user") or {}
        profile = user.get("profile") or {}
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or user.get("name")
            or user_id
        )
        return ChatUser(id=user_id, name=name, email=profile.get("email") or "")

    def find_user_by_email(self, *, email: str) -> ChatUser | None:
        try:
            data = self._call("users_lookupByEmail", email=email)
        except ChatError as exc:
            # https://docs.slack.dev/reference/methods/users.lookupByEmail
            if exc.code == "users_not_found":
                return None
            raise
        user = data.get("user") or {}
        if not user.get("id") or user.get("deleted"):
            return None
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user["id"]
        return ChatUser(id=user["id"], name=name, email=profile.get("email") or email)

    def send_direct(self, *, user_id: str, message: OutgoingMessage) -> str:
        # conversations.open gives the app's direct-message channel with the
        # person (the same one every time); the message goes there.
        data = self._call("conversations_open", users=user_id)
        channel_id = str((data.get("channel") or {}).get("id") or "")
        if not channel_id:
            raise ChatError(
                "Slack conversations.open: no channel", transient=True, code=""
            )
        return self.post_message(channel_id=channel_id, message=message)

    def fetch_post(self, *, channel_id: str, message_id: str) -> ChatPost | None:
        # The one message at this ts (https://docs.slack.dev/reference/methods/
        # conversations.history: latest + oldest + inclusive + limit=1). A reply
        # in a thread is not in the channel's history: conversations.replies has it.
        data = self._call(
            "conversations_history",
            channel=channel_id,
            latest=message_id,
            oldest=message_id,
            inclusive=True,
            limit=1,
        )
        found = _message_at(data, message_id)
        if found is None:
            data = self._call(
                "conversations_replies",
                channel=channel_id,
                ts=message_id,
                latest=message_id,
                oldest=message_id,
                inclusive=True,
                # The thread's parent may come first, whatever the time range.
                limit=2,
            )
            found = _message_at(data, message_id)
        if found is None:
            return None
        return ChatPost(
            channel_id=channel_id,
            ts=message_id,
            text=found.get("text") or "",
            user_id=found.get("user") or found.get("bot_id") or "",
            posted_at=ts_to_datetime(message_id),
            reactions=frozenset(
                r["name"]
                for r in found.get("reactions") or []
                if isinstance(r, dict) and r.get("name") and r.get("count", 1) > 0
            ),
        )

    def permalink(self, *, channel_id: str, message_id: str) -> str:
        data = self._call(
            "chat_getPermalink", channel=channel_id, message_ts=message_id
        )
        return str(data.get("permalink") or "")


def _message_at(data: dict, ts: str) -> dict | None:
    for message in data.get("messages") or []:
        if isinstance(message, dict) and message.get("ts") == ts:
            return message
    return None


def ts_to_datetime(ts: str) -> dt.datetime:
    """A Slack message ts ("1512085950.000216") as an aware UTC datetime."""
    return dt.datetime.fromtimestamp(float(ts), tz=dt.UTC)
