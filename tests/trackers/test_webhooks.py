"""Tracker webhooks: signed deliveries move the item through the action-item
service; bad ones get 4xx and write nothing (one sweep over every provider)."""

import json

import pytest
from django.urls import reverse

from actions.models import ActionItem, Status
from tests.trackers.conftest import KEYS, sign
from tests.trackers.fake_server import fixture, fixture_bytes
from trackers.models import TrackerLink

pytestmark = pytest.mark.django_db

PROVIDERS = ["jira", "github", "linear"]
WEBHOOKS = {
    "jira": "webhook_issue_updated.json",
    "github": "webhook_issues_closed.json",
    "linear": "webhook_issue_update.json",
}
ACTORS = {"jira": "Ada Lovelace", "github": "octocat", "linear": "Grace Hopper"}


def url(provider: str) -> str:
    return reverse("tracker-webhook", args=[provider])


@pytest.fixture
def linked(fake_tracker, tracker_config, item):
    """An open item linked to each provider's documented example issue."""

    def _link(provider: str) -> TrackerLink:
        tracker_config(provider)
        return TrackerLink.objects.create(
            item=item,
            provider=provider,
            remote_key=KEYS[provider],
            remote_status="open",
            remote_state="To Do",
        )

    return _link


def post(client, provider: str, body: bytes, headers: dict):
    return client.post(
        url(provider), data=body, content_type="application/json", **headers
    )


def snapshot(item: ActionItem) -> tuple:
    """Everything a bad delivery must leave alone."""
    item.refresh_from_db()
    return (
        item.status,
        item.verification_note,
        item.history.count(),
        list(TrackerLink.objects.values()),
    )


def _mutate(provider: str, body: dict, case: str) -> dict:
    if case == "unknown_issue":
        if provider == "jira":
            body["issue"]["key"], body["issue"]["id"] = "OPS-999", "99999"
        elif provider == "github":
            body["issue"]["number"] = 999
        else:
            body["data"]["identifier"] = "ENG-999"
            body["data"]["id"] = "00000000-0000-0000-0000-000000000000"
    elif case == "unknown_event":
        if provider == "jira":
            body["webhookEvent"] = "comment_created"
        elif provider == "linear":
            body["type"] = "Comment"
    elif case == "missing_field":
        if provider == "jira":
            del body["issue"]["fields"]["status"]
        elif provider == "github":
            del body["issue"]["state"]
        else:
            del body["data"]["state"]
    return body


CASES = {
    # case: (expected status, how the delivery is broken)
    "missing_signature": 401,
    "bad_signature": 401,
    "signed_with_another_secret": 401,
    "not_json": 400,
    "not_an_object": 400,
    "missing_field": 400,
    "unknown_event": 400,
    "unknown_issue": 404,
    "malformed_length": 400,
    "negative_length": 400,
    "too_large": 413,
}
LENGTHS = {
    "malformed_length": "12abc",
    "negative_length": "-1",
    "too_large": str(100 * 1024 * 1024),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("provider", PROVIDERS)
def test_bad_webhooks_get_4xx_and_write_nothing(client, linked, item, provider, case):
    linked(provider)
    before = snapshot(item)
    payload = fixture(provider, WEBHOOKS[provider])
    body = json.dumps(_mutate(provider, payload, case)).encode()
    if case == "not_json":
        body = b"{not json"
    elif case == "not_an_object":
        body = b"[1, 2]"
    headers = sign(provider, body)
    if case == "missing_signature":
        headers = {k: v for k, v in headers.items() if "SIGNATURE" not in k}
    elif case == "bad_signature":
        headers = {
            k: (v[:-4] + "0000" if "SIGNATURE" in k else v) for k, v in headers.items()
        }
    elif case == "signed_with_another_secret":
        headers = sign(provider, body, secret="not-the-secret")
    if case == "unknown_event" and provider == "github":
        headers["HTTP_X_GITHUB_EVENT"] = "pull_request"
    if case in LENGTHS:
        headers["CONTENT_LENGTH"] = LENGTHS[case]

    response = post(client, provider, body, headers)

    assert response.status_code == CASES[case], response.content
    assert response.json()["detail"]
    assert snapshot(item) == before


@pytest.mark.parametrize("provider", PROVIDERS)
def test_webhooks_are_refused_when_no_secret_is_configured(
    client, linked, item, settings, provider
):
    linked(provider)
    setattr(settings, f"KB_{provider.upper()}_WEBHOOK_SECRET", "")
    before = snapshot(item)
    body = fixture_bytes(provider, WEBHOOKS[provider])

    response = post(client, provider, body, sign(provider, body, secret=""))

    assert response.status_code == 401
    assert snapshot(item) == before


@pytest.mark.parametrize("provider", PROVIDERS)
def test_closing_the_issue_marks_the_item_done_with_who_and_when(
    client, linked, item, provider
):
    linked(provider)
    body = fixture_bytes(provider, WEBHOOKS[provider])

    response = post(client, provider, body, sign(provider, body))

    assert response.status_code == 200, response.content
    assert response.json() == {"outcome": "moved to done"}
    item.refresh_from_db()
    assert item.status == Status.DONE
    assert item.completed_at is not None
    actor = ACTORS[provider]
    assert f"{KEYS[provider]} set to" in item.verification_note
    assert f"by {actor} on 2026-12-06" in item.verification_note
    latest = item.history.order_by("-history_id").first()
    assert latest.history_user is None
    assert actor in latest.history_change_reason
    link = TrackerLink.objects.get(item=item)
    assert (link.remote_status, link.remote_changed_by) == ("done", actor)
    assert link.remote_changed_at.date().isoformat() == "2026-12-06"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_replayed_delivery_changes_nothing_more(client, linked, item, provider):
    linked(provider)
    body = fixture_bytes(provider, WEBHOOKS[provider])
    post(client, provider, body, sign(provider, body))
    before = snapshot(item)

    response = post(client, provider, body, sign(provider, body))

    assert response.json() == {"outcome": "in step"}
    assert snapshot(item)[:3] == before[:3]


@pytest.mark.parametrize(
    "provider, change, expected",
    [
        ("jira", {"resolution": "Won't Do"}, Status.WONT_DO),
        ("jira", {"category": "indeterminate"}, Status.IN_PROGRESS),
        ("github", {"state_reason": "not_planned"}, Status.WONT_DO),
        ("linear", {"type": "canceled"}, Status.WONT_DO),
        ("linear", {"type": "started"}, Status.IN_PROGRESS),
    ],
)
def test_the_issue_moving_moves_the_item(
    client, linked, item, provider, change, expected
):
    linked(provider)
    body = fixture(provider, WEBHOOKS[provider])
    if provider == "jira":
        fields = body["issue"]["fields"]
        if "resolution" in change:
            fields["resolution"]["name"] = change["resolution"]
        else:
            fields["status"]["statusCategory"]["key"] = change["category"]
            fields["resolution"] = None
    elif provider == "github":
        body["issue"]["state_reason"] = change["state_reason"]
    else:
        body["data"]["state"]["type"] = change["type"]
    raw = json.dumps(body).encode()

    response = post(client, provider, raw, sign(provider, raw))

    assert response.status_code == 200
    item.refresh_from_db()
    assert item.status == expected
    if expected == Status.WONT_DO:
        assert ACTORS[provider] in item.status_reason


def test_reopening_the_issue_reopens_a_closed_item(client, linked, item):
    linked("github")
    closed = fixture_bytes("github", WEBHOOKS["github"])
    post(client, "github", closed, sign("github", closed))
    body = fixture("github", WEBHOOKS["github"])
    body["action"] = "reopened"
    body["issue"].update(
        state="open", state_reason="reopened", updated_at="2026-12-06T20:00:00Z"
    )
    raw = json.dumps(body).encode()

    post(client, "github", raw, sign("github", raw))

    item.refresh_from_db()
    assert (item.status, item.completed_at) == (Status.OPEN, None)


def test_an_older_delivery_arriving_late_is_ignored(client, linked, item):
    linked("github")
    closed = fixture_bytes("github", WEBHOOKS["github"])
    post(client, "github", closed, sign("github", closed))
    body = fixture("github", WEBHOOKS["github"])
    body["action"] = "reopened"
    body["issue"].update(state="open", updated_at="2026-12-06T18:00:00Z")
    raw = json.dumps(body).encode()

    response = post(client, "github", raw, sign("github", raw))

    assert response.json() == {"outcome": "stale"}
    item.refresh_from_db()
    assert item.status == Status.DONE


def test_github_ping_is_answered_and_writes_nothing(client, linked, item):
    linked("github")
    before = snapshot(item)
    body = fixture_bytes("github", "webhook_ping.json")
    headers = {**sign("github", body), "HTTP_X_GITHUB_EVENT": "ping"}

    response = post(client, "github", body, headers)

    assert (response.status_code, response.json()) == (200, {"outcome": "ping"})
    assert snapshot(item) == before


def test_an_unknown_provider_is_404(client):
    assert (
        client.post(
            url("trello"), data=b"{}", content_type="application/json"
        ).status_code
        == 404
    )


def test_a_blocked_item_stays_blocked_when_work_starts_in_the_tracker(
    client, linked, item
):
    from actions.services import action_item_set_status

    linked("linear")
    action_item_set_status(item=item, status="blocked", reason="Vendor", actor=None)
    body = fixture("linear", WEBHOOKS["linear"])
    body["data"]["state"]["type"] = "started"
    raw = json.dumps(body).encode()

    assert post(client, "linear", raw, sign("linear", raw)).json() == {
        "outcome": "in step"
    }
    item.refresh_from_db()
    assert item.status == Status.BLOCKED


def test_a_webhook_right_after_the_issue_was_created_is_applied(
    client,
    fake_tracker,
    tracker_config,
    item,
    editor,
    django_capture_on_commit_callbacks,
):
    """GIVEN an issue Hindsight just created (our clock ahead of Jira's)
    WHEN Jira's webhook says it was closed at an earlier time by its clock
    THEN the item still follows: API reads never set the time deliveries are
    compared with."""
    from trackers import services

    tracker_config("jira")
    fake_tracker.route(
        "POST", "/rest/api/3/issue", 201, fixture("jira", "create_issue_response.json")
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.tracker_issue_create(item=item, actor=editor)
    body = fixture("jira", WEBHOOKS["jira"])
    body["timestamp"] = 1000  # 1970, by a badly skewed clock
    raw = json.dumps(body).encode()

    response = post(client, "jira", raw, sign("jira", raw))

    assert response.json() == {"outcome": "moved to done"}


def test_a_late_closed_delivery_after_the_reconcile_reopened_is_stale(
    client, linked, item, fake_tracker
):
    """GIVEN a closed delivery marked the item done, and the nightly reconcile
    then read the issue reopened (a newer updated time) and reopened the item
    WHEN the tracker retries the old closed delivery
    THEN it is stale: the item stays open."""
    from trackers import services

    link = linked("github")
    closed = fixture_bytes("github", WEBHOOKS["github"])
    assert post(client, "github", closed, sign("github", closed)).status_code == 200
    item.refresh_from_db()
    assert item.status == Status.DONE
    reopened = fixture("github", "get_issue_closed_not_planned.json")
    reopened.update(state="open", state_reason="reopened")
    reopened["updated_at"] = "2026-12-07T09:00:00Z"
    fake_tracker.route("GET", "/repos/octocat/Hello-World/issues/1347", 200, reopened)
    services.trackers_reconcile()
    item.refresh_from_db()
    assert item.status == Status.OPEN

    response = post(client, "github", closed, sign("github", closed))

    assert response.json() == {"outcome": "stale"}
    item.refresh_from_db()
    link.refresh_from_db()
    assert item.status == Status.OPEN
    assert link.remote_status == "open"
