"""Linear: the GraphQL API with an API key, webhooks signed with a secret.

- Create: the ``issueCreate`` mutation (``teamId``, ``title``, ``description``,
  ``labelIds``); the answer has the issue's ``id``, ``identifier``, ``url`` and
  ``state { name type }``.
- State: the ``issue(id:)`` query, which takes the identifier (ENG-12) as well.
  State types: ``triage``, ``backlog``, ``unstarted`` (open), ``started`` (in
  progress), ``completed`` (done), ``canceled`` and ``duplicate`` (won't do).
- Webhooks: ``Linear-Signature: <hex HMAC-SHA256 of the raw body>``; Issue
  events ``{"action", "type": "Issue", "data": {...}, "actor": {...}}``.

GraphQL answers 200 with ``errors`` for a refused request: those are errors too.
"""

import re

from trackers.providers.base import (
    IssueDraft,
    Provider,
    RemoteIssue,
    TrackerError,
    WebhookEvent,
    WebhookRejected,
    hmac_sha256_hex,
    load_json,
    parse_time,
    require,
    signature_matches,
)

KEY_RE = re.compile(r"^[A-Z][A-Z0-9]*-[1-9][0-9]*$")
URL_RE = re.compile(r"/issue/([A-Za-z][A-Za-z0-9]*-[1-9][0-9]*)(?:[/?#]|$)")
STATE_TYPES = {
    "triage": "open",
    "backlog": "open",
    "unstarted": "open",
    "started": "in_progress",
    "completed": "done",
    "canceled": "wont_do",
    "duplicate": "wont_do",
}
ISSUE_FIELDS = "id identifier url updatedAt state { name type }"
CREATE = (
    "mutation IssueCreate($input: IssueCreateInput!) "
    f"{{ issueCreate(input: $input) {{ success issue {{ {ISSUE_FIELDS} }} }} }}"
)
FETCH = f"query Issue($id: String!) {{ issue(id: $id) {{ {ISSUE_FIELDS} }} }}"


class LinearProvider(Provider):
    name = "linear"
    label = "Linear"
    signature_header = "Linear-Signature"

    def __init__(self, *, api_key: str, **kwargs):
        super().__init__(**kwargs)
        self.api_key = api_key

    def configured(self) -> bool:
        return bool(self.api_url and self.api_key)

    def _graphql(self, query: str, variables: dict) -> dict:
        # Personal API keys go in the header as they are (OAuth tokens: Bearer).
        with self._client(
            headers={"Authorization": self.api_key, "Content-Type": "application/json"}
        ) as client:
            data = self._send(
                client,
                "POST",
                self.api_url,
                json={"query": query, "variables": variables},
            )
        if data.get("errors"):
            messages = "; ".join(
                str(e.get("message", e)) for e in data["errors"] if isinstance(e, dict)
            )
            limited = any(
                (e.get("extensions") or {}).get("code") == "RATELIMITED"
                for e in data["errors"]
                if isinstance(e, dict)
            )
            raise TrackerError(f"Linear refused: {messages[:300]}", transient=limited)
        return data.get("data") or {}

    def create_issue(self, draft: IssueDraft) -> RemoteIssue:
        variables = {
            "input": {
                "teamId": draft.project,
                "title": draft.title,
                "description": draft.description,
            }
        }
        if draft.labels:
            variables["input"]["labelIds"] = list(draft.labels)
        data = self._graphql(CREATE, variables)
        created = data.get("issueCreate") or {}
        if not created.get("success") or not created.get("issue"):
            raise TrackerError("Linear did not create the issue.", transient=False)
        return self._issue(created["issue"])

    def fetch_issue(self, key: str) -> RemoteIssue:
        data = self._graphql(FETCH, {"id": key})
        if not data.get("issue"):
            raise TrackerError(f"Linear has no issue {key}.", transient=False)
        return self._issue(data["issue"])

    def parse_key(self, text: str, *, project: str = "") -> str:
        text = (text or "").strip()
        match = URL_RE.search(text)
        if match:
            return match.group(1).upper()
        if KEY_RE.match(text.upper()):
            return text.upper()
        raise ValueError(
            "Give a Linear issue identifier such as ENG-12, or its URL "
            "(https://linear.app/your-workspace/issue/ENG-12)."
        )

    def verify_signature(self, body: bytes, headers: dict[str, str]) -> bool:
        if not self.webhook_secret:
            return False
        return signature_matches(
            hmac_sha256_hex(self.webhook_secret, body),
            headers.get(self.signature_header),
        )

    def parse_webhook(self, body: bytes, headers: dict[str, str]) -> WebhookEvent:
        payload = load_json(body)
        kind = require(payload, "type")
        if kind != "Issue":
            raise WebhookRejected(
                400,
                "unknown_event",
                f"Linear event {kind!r} is not handled; subscribe to Issues only.",
            )
        action = require(payload, "action")
        if action == "remove":
            raise WebhookRejected(
                400, "unknown_event", "Removed issues are not followed."
            )
        data = require(payload, "data")
        actor = payload.get("actor") if isinstance(payload.get("actor"), dict) else {}
        return WebhookEvent(
            event=f"Issue.{action}",
            issue=self._issue(data),
            actor=str(actor.get("name") or ""),
            occurred_at=parse_time(
                data.get("updatedAt") or payload.get("webhookTimestamp")
            ),
        )

    def _issue(self, data: dict) -> RemoteIssue:
        identifier = str(require(data, "identifier"))
        state = require(data, "state")
        kind = str(state.get("type") or "")
        return RemoteIssue(
            key=identifier,
            id=str(data.get("id", "")),
            url=str(data.get("url") or ""),
            state=str(state.get("name") or kind),
            status=STATE_TYPES.get(kind, "open"),
            updated_at=parse_time(data.get("updatedAt")),
        )
