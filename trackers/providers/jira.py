"""Jira Cloud: REST API v3 with an API token, admin webhooks signed with a secret.

- Create: ``POST /rest/api/3/issue`` (Basic auth, email and API token); the answer
  is ``{"id", "key", "self"}``.
- State: ``GET /rest/api/3/issue/{key}?fields=status,resolution,updated``. The status's
  category (``new``, ``indeterminate``, ``done``) says open, in progress or done;
  a done issue resolved as Won't Do (or Duplicate, Declined...) is won't do.
- Webhooks: ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>``, events
  ``jira:issue_created`` and ``jira:issue_updated``.
"""

import re

from trackers.providers.base import (
    IssueDraft,
    Provider,
    RemoteIssue,
    WebhookEvent,
    WebhookRejected,
    hmac_sha256_hex,
    load_json,
    parse_time,
    require,
    signature_matches,
)

KEY_RE = re.compile(r"^[A-Z][A-Z0-9_]*-[1-9][0-9]*$")
BROWSE_RE = re.compile(r"/browse/([A-Za-z][A-Za-z0-9_]*-[1-9][0-9]*)(?:[/?#]|$)")
EVENTS = ("jira:issue_created", "jira:issue_updated")
# Resolutions that close an issue without doing the work.
NOT_DONE_RESOLUTIONS = {
    "won't do",
    "won't fix",
    "duplicate",
    "cannot reproduce",
    "declined",
    "rejected",
    "obsolete",
}


class JiraProvider(Provider):
    name = "jira"
    label = "Jira"
    signature_header = "X-Hub-Signature"

    def __init__(self, *, email: str, api_token: str, **kwargs):
        super().__init__(**kwargs)
        self.email = email
        self.api_token = api_token

    def configured(self) -> bool:
        return bool(self.api_url and self.email and self.api_token)

    def _jira(self):
        return self._client(
            auth=(self.email, self.api_token),
            headers={"Accept": "application/json"},
        )

    def create_issue(self, draft: IssueDraft) -> RemoteIssue:
        fields = {
            "project": {"key": draft.project},
            "summary": draft.title,
            "issuetype": {"name": draft.issue_type or "Task"},
            "description": _adf(draft.description),
        }
        if draft.labels:
            fields["labels"] = list(draft.labels)
        with self._jira() as client:
            data = self._send(
                client,
                "POST",
                f"{self.api_url}/rest/api/3/issue",
                json={"fields": fields},
            )
        key = str(data["key"])
        return RemoteIssue(
            key=key,
            id=str(data.get("id", "")),
            url=self.browse_url(key),
            state="",
            status="open",
        )

    def fetch_issue(self, key: str) -> RemoteIssue:
        with self._jira() as client:
            data = self._send(
                client,
                "GET",
                f"{self.api_url}/rest/api/3/issue/{key}",
                params={"fields": "status,resolution,updated"},
            )
        return self._issue(data)

    def browse_url(self, key: str) -> str:
        return f"{self.api_url}/browse/{key}"

    def parse_key(self, text: str, *, project: str = "") -> str:
        text = (text or "").strip()
        match = BROWSE_RE.search(text)
        if match:
            return match.group(1).upper()
        if KEY_RE.match(text.upper()):
            return text.upper()
        if text.isdigit() and project:
            return f"{project.upper()}-{int(text)}"
        raise ValueError(
            "Give a Jira issue key such as OPS-12, or its URL "
            "(https://your-site.atlassian.net/browse/OPS-12)."
        )

    def verify_signature(self, body: bytes, headers: dict[str, str]) -> bool:
        given = headers.get(self.signature_header) or ""
        method, _, digest = given.partition("=")
        if not self.webhook_secret or method.strip().lower() != "sha256":
            return False
        return signature_matches(hmac_sha256_hex(self.webhook_secret, body), digest)

    def parse_webhook(self, body: bytes, headers: dict[str, str]) -> WebhookEvent:
        payload = load_json(body)
        event = require(payload, "webhookEvent")
        if event not in EVENTS:
            raise WebhookRejected(
                400,
                "unknown_event",
                f"Jira event {event!r} is not handled; send issue created and "
                "updated events only.",
            )
        issue = self._issue(require(payload, "issue"))
        user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
        return WebhookEvent(
            event=event,
            issue=issue,
            actor=str(user.get("displayName") or user.get("accountId") or ""),
            occurred_at=parse_time(payload.get("timestamp")),
        )

    def _issue(self, data: dict) -> RemoteIssue:
        key = str(require(data, "key"))
        status = require(data, "fields", "status")
        category = (status.get("statusCategory") or {}).get("key", "")
        resolution = (data["fields"].get("resolution") or {}).get("name") or ""
        if category == "done":
            mapped = (
                "wont_do"
                if resolution.strip().lower() in NOT_DONE_RESOLUTIONS
                else "done"
            )
        elif category == "indeterminate":
            mapped = "in_progress"
        else:
            mapped = "open"
        state = str(status.get("name") or "")
        if resolution and category == "done" and resolution != state:
            state = f"{state} ({resolution})"
        return RemoteIssue(
            key=key,
            id=str(data.get("id", "")),
            url=self.browse_url(key),
            state=state,
            status=mapped,
            updated_at=parse_time(data["fields"].get("updated")),
        )


def _adf(text: str) -> dict:
    """Plain text as an Atlassian Document (API v3 wants ADF, not a string)."""
    paragraphs = [p for p in (text or "").split("\n\n") if p.strip()]
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": p.strip()}]}
            for p in paragraphs
        ],
    }
