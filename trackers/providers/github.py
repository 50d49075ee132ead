"""GitHub Issues: REST API with a token, webhooks signed with a secret.

- Create: ``POST /repos/{owner}/{repo}/issues`` with ``title``, ``body``,
  ``labels``; the answer has ``number``, ``html_url``, ``state``.
- State: ``GET /repos/{owner}/{repo}/issues/{number}``. Open is open; closed as
  ``not_planned`` (or ``duplicate``) is won't do; otherwise closed is done.
- Webhooks: ``X-Hub-Signature-256: sha256=<hex>``, ``X-GitHub-Event: issues``
  (and ``ping`` when the hook is added, answered and otherwise ignored).

Keys are ``owner/repo#number``.
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

REPO = r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+"
KEY_RE = re.compile(rf"^({REPO})#([1-9][0-9]*)$")
URL_RE = re.compile(
    rf"^https?://[^/]+/({REPO})/(?:issues|pull)/([1-9][0-9]*)(?:[/?#]|$)"
)
NUMBER_RE = re.compile(r"^#?([1-9][0-9]*)$")
NOT_DONE_REASONS = {"not_planned", "duplicate"}
API_VERSION = "2022-11-28"


class GitHubProvider(Provider):
    name = "github"
    label = "GitHub"
    signature_header = "X-Hub-Signature-256"

    def __init__(self, *, token: str, **kwargs):
        super().__init__(**kwargs)
        self.token = token

    def configured(self) -> bool:
        return bool(self.api_url and self.token)

    def _github(self):
        return self._client(
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self.token}",
                "X-GitHub-Api-Version": API_VERSION,
            }
        )

    def create_issue(self, draft: IssueDraft) -> RemoteIssue:
        body = {"title": draft.title, "body": draft.description}
        if draft.labels:
            body["labels"] = list(draft.labels)
        with self._github() as client:
            data = self._send(
                client,
                "POST",
                f"{self.api_url}/repos/{draft.project}/issues",
                json=body,
            )
        return self._issue(data, repo=draft.project)

    def fetch_issue(self, key: str) -> RemoteIssue:
        repo, number = _split(key)
        with self._github() as client:
            data = self._send(
                client, "GET", f"{self.api_url}/repos/{repo}/issues/{number}"
            )
        return self._issue(data, repo=repo)

    def parse_key(self, text: str, *, project: str = "") -> str:
        text = (text or "").strip()
        for pattern in (KEY_RE, URL_RE):
            match = pattern.match(text)
            if match:
                return f"{match.group(1)}#{match.group(2)}"
        match = NUMBER_RE.match(text)
        if match and project:
            return f"{project}#{match.group(1)}"
        raise ValueError(
            "Give a GitHub issue as owner/repo#12, #12 (in the team's repository), "
            "or its URL (https://github.com/owner/repo/issues/12)."
        )

    def verify_signature(self, body: bytes, headers: dict[str, str]) -> bool:
        given = headers.get(self.signature_header) or ""
        method, _, digest = given.partition("=")
        if not self.webhook_secret or method.strip().lower() != "sha256":
            return False
        return signature_matches(hmac_sha256_hex(self.webhook_secret, body), digest)

    def parse_webhook(self, body: bytes, headers: dict[str, str]) -> WebhookEvent:
        event = (headers.get("X-GitHub-Event") or "").strip()
        payload = load_json(body)
        if event == "ping":
            return WebhookEvent(event="ping", issue=None, actor="", occurred_at=None)
        if event != "issues":
            raise WebhookRejected(
                400,
                "unknown_event",
                f"GitHub event {event or '(none)'!r} is not handled; send Issues "
                "events only.",
            )
        issue_data = require(payload, "issue")
        if issue_data.get("pull_request"):
            raise WebhookRejected(400, "unknown_event", "Pull requests are not issues.")
        repo = require(payload, "repository", "full_name")
        issue = self._issue(issue_data, repo=repo)
        sender = (
            payload.get("sender") if isinstance(payload.get("sender"), dict) else {}
        )
        return WebhookEvent(
            event=f"issues.{payload.get('action', '')}",
            issue=issue,
            actor=str(sender.get("login") or ""),
            occurred_at=parse_time(
                issue_data.get("closed_at")
                if issue_data.get("state") == "closed"
                else issue_data.get("updated_at")
            ),
        )

    def _issue(self, data: dict, *, repo: str) -> RemoteIssue:
        number = require(data, "number")
        state = str(require(data, "state"))
        reason = data.get("state_reason") or ""
        if state == "closed":
            status = "wont_do" if reason in NOT_DONE_REASONS else "done"
            shown = f"closed ({reason.replace('_', ' ')})" if reason else "closed"
        else:
            status, shown = "open", state
        return RemoteIssue(
            key=f"{repo}#{number}",
            id=str(data.get("id", "")),
            url=str(data.get("html_url") or ""),
            state=shown,
            status=status,
            updated_at=parse_time(data.get("updated_at")),
        )


def _split(key: str) -> tuple[str, str]:
    match = KEY_RE.match(key)
    if not match:
        raise ValueError(f"Not a GitHub issue key: {key!r}")
    return match.group(1), match.group(2)
