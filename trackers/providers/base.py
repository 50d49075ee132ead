"""The small interface every tracker provider implements, and what they share.

A provider creates an issue, fetches an issue's state, turns a key or URL typed by
a person into the tracker's key, and verifies and parses the tracker's webhook.
Plain data in and out: no ORM, no request objects. Credentials and base URLs come
in through the constructor (from settings), never from the database.
"""

import datetime as dt
import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from kb import safejson

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RemoteIssue:
    """One issue as the tracker reports it."""

    key: str  # OPS-12, acme/api#12, ENG-12
    url: str
    state: str  # the tracker's own word: "In Review", "closed", "Canceled"
    status: str  # a trackers.choices.RemoteStatus value
    id: str = ""  # the tracker's internal id (Jira, Linear), when it has one
    # The issue's own last-change time (Jira fields.updated, GitHub updated_at,
    # Linear updatedAt): deliveries older than what was applied are stale.
    updated_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class IssueDraft:
    """What Hindsight asks the tracker to create."""

    title: str
    description: str
    project: str  # Jira project key, GitHub owner/repo, Linear team id
    labels: list[str] = field(default_factory=list)
    issue_type: str = "Task"  # Jira only


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A verified, parsed delivery. ``issue`` is None for a ping."""

    event: str
    issue: RemoteIssue | None
    actor: str
    occurred_at: dt.datetime | None


class TrackerError(Exception):
    """A tracker request failed. ``transient``: worth retrying later."""

    def __init__(self, message: str, *, transient: bool):
        super().__init__(message)
        self.transient = transient


class WebhookRejected(Exception):
    """A webhook delivery Hindsight refuses; nothing was written."""

    def __init__(self, status_code: int, code: str, detail: str):
        super().__init__(detail)
        self.status_code = status_code
        self.code = code
        self.detail = detail


class Provider:
    name: str = ""
    label: str = ""
    signature_header: str = ""

    def __init__(self, *, api_url: str, webhook_secret: str, timeout: float = 10):
        self.api_url = api_url.rstrip("/")
        self.webhook_secret = webhook_secret
        self.timeout = timeout

    # The interface ------------------------------------------------------------

    def create_issue(self, draft: IssueDraft) -> RemoteIssue:
        raise NotImplementedError

    def fetch_issue(self, key: str) -> RemoteIssue:
        raise NotImplementedError

    def parse_key(self, text: str, *, project: str = "") -> str:
        """The tracker's key for a key or URL a person typed; ValueError if none."""
        raise NotImplementedError

    def verify_signature(self, body: bytes, headers: dict[str, str]) -> bool:
        raise NotImplementedError

    def parse_webhook(self, body: bytes, headers: dict[str, str]) -> WebhookEvent:
        """Parse a verified delivery; raises WebhookRejected."""
        raise NotImplementedError

    # Shared helpers -----------------------------------------------------------

    def configured(self) -> bool:
        """True when the credentials to call the tracker are set."""
        return bool(self.api_url)

    def _client(self, **kwargs) -> httpx.Client:
        return httpx.Client(timeout=self.timeout, **kwargs)

    def _send(self, client: httpx.Client, method: str, url: str, **kwargs) -> Any:
        """One request; the JSON answer, or TrackerError saying what went wrong."""
        try:
            response = client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise TrackerError(
                f"{self.label} could not be reached: {exc.__class__.__name__}: {exc}",
                transient=True,
            ) from exc
        if response.status_code >= 400:
            transient = response.status_code == 429 or response.status_code >= 500
            raise TrackerError(
                f"{self.label} answered {response.status_code}: "
                f"{_error_text(response)}",
                transient=transient,
            )
        try:
            return response.json()
        except ValueError as exc:
            raise TrackerError(
                f"{self.label} answered {response.status_code} with a body that "
                "is not JSON.",
                transient=True,
            ) from exc


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(expected_hex: str, given: str | None) -> bool:
    """Constant-time comparison of a hex digest with what the header carried."""
    if not given:
        return False
    return hmac.compare_digest(expected_hex.encode(), given.strip().lower().encode())


def load_json(body: bytes) -> dict:
    """The body as a JSON object, or WebhookRejected (400) naming the field.

    Read as every JSON input of Hindsight is (``kb.safejson``): what could not be
    stored or shown (NUL, lone surrogates, huge numbers, deep nesting) is refused.
    """
    try:
        payload = safejson.loads(body)
    except safejson.JsonRefused as exc:
        where = f"{exc.field}: " if exc.field else ""
        raise WebhookRejected(400, "malformed", f"{where}{exc.message}") from None
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected(400, "malformed", "The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise WebhookRejected(400, "malformed", "The body is not a JSON object.")
    return payload


def require(mapping: Any, *path: str) -> Any:
    """``mapping[path[0]][path[1]]...``, or WebhookRejected naming what is missing."""
    value = mapping
    for index, key in enumerate(path):
        if not isinstance(value, dict) or value.get(key) in (None, ""):
            name = ".".join(path[: index + 1])
            raise WebhookRejected(400, "malformed", f"The body lacks {name}.")
        value = value[key]
    return value


def _error_text(response: httpx.Response) -> str:
    """The tracker's own error message, short."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    messages: list[str] = []
    if isinstance(data, dict):
        # Jira: errorMessages + errors; GitHub: message; Linear: errors[].message.
        messages += [str(m) for m in data.get("errorMessages") or []]
        if isinstance(data.get("errors"), dict):
            messages += [f"{k}: {v}" for k, v in data["errors"].items()]
        elif isinstance(data.get("errors"), list):
            messages += [
                str(e.get("message", e)) if isinstance(e, dict) else str(e)
                for e in data["errors"]
            ]
        if data.get("message"):
            messages.insert(0, str(data["message"]))
    return ("; ".join(messages) or response.reason_phrase)[:300]


def parse_time(value: Any) -> dt.datetime | None:
    """An ISO 8601 string or epoch milliseconds, as an aware datetime."""
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)
    if isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None
