"""Where the work happens, end to end in Chromium against the live server.

An alert fires through the real HTTP API, Slack is told it looks like a past
incident whose prevention item is still open, a message pinned in the incident's
channel lands on the timeline, the drafted postmortem shows both, an action item
is pushed to Jira, Jira's webhook closes it, and the dashboard counts it done.

Slack and Jira are the local fakes of tests/chat and tests/trackers; every request
Hindsight makes to them, and every request they make to Hindsight, is the real
HTTP exchange, signed as each service signs it.
"""

import base64
import copy
import datetime as dt
import json
import re
from urllib.parse import urlencode

import httpx
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from actions.models import ActionItem, Category, Status
from chat.models import TeamChatSettings
from findings.models import FindingMatch, FindingSource
from postmortems.models import Incident, Postmortem, PostmortemStatus, Role
from tests import factories
from tests.chat import conftest as slack_helpers
from tests.chat.conftest import _slack_server, slack  # noqa: F401 - fixtures
from tests.chat.slack_server import fixture as slack_fixture
from tests.findings.integrations.test_integrations import ALERTMANAGER_FIRING
from tests.trackers import conftest as tracker_helpers
from tests.trackers.conftest import fake_tracker  # noqa: F401 - fixture
from tests.trackers.fake_server import fixture as tracker_fixture
from trackers.models import TrackerConfig

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEAM_CHANNEL = "C0TEAM0001"
INCIDENT_CHANNEL = slack_helpers.CHANNEL
SITE = "https://hindsight.example.com"
PINNED_TEXT = (
    "Rolled back deploy 4512 of <https://deploy.example.com/4512|checkout-api>"
)


def _alert(starts_at: dt.datetime) -> dict:
    """The documented Alertmanager webhook, firing since ``starts_at``: the story
    happens now, so the timeline reads as one afternoon (the incident's detection
    entry is stamped on arrival)."""
    alert = copy.deepcopy(ALERTMANAGER_FIRING)
    alert["alerts"][0]["startsAt"] = starts_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return alert


def _world(make_api_key):
    """The payments team, its past incident with an open prevention item, its
    Slack channel and its Jira project; returns (person, past, item, alerts key)."""
    team = factories.TeamFactory(slug="payments", name="Payments")
    ana = factories.UserFactory(
        username="ana",
        first_name="Ana",
        last_name="Lima",
        email="ana@example.com",
        role=Role.EDITOR,
        teams=[team],
    )
    checkout = factories.ServiceFactory(slug="checkout", name="Checkout", team=team)
    past = factories.IncidentFactory(
        team=team,
        title="Pool exhausted",
        services=[checkout],
        started_at=timezone.now() - dt.timedelta(days=60),
    )
    # Alertmanager paged for it too: the same service heard from the same analyzer.
    factories.FindingFactory(
        incident=past,
        service=checkout,
        source=FindingSource.ALERTMANAGER,
        analyzer="alertmanager",
        title="HighErrorRate: 5xx ratio above 5%",
    )
    past_pm = factories.PostmortemFactory(
        incident=past, author=ana, status=PostmortemStatus.PUBLISHED
    )
    item = factories.ActionItemFactory(
        team=team,
        postmortem=past_pm,
        owner=ana,
        category=Category.PREVENTION,
        title="Size the pool from peak load",
    )
    TeamChatSettings.objects.create(team=team, channel_id=TEAM_CHANNEL)
    TrackerConfig.objects.create(
        team=team, provider="jira", project="OPS", labels="postmortem, hindsight"
    )
    _, secret = make_api_key(team, scopes=["alerts:write"], name="alertmanager")
    return ana, past, item, secret


def _slack_post(live_server, path: str, body: bytes, kind: str) -> httpx.Response:
    """POST ``body`` to a Slack URL of Hindsight, signed as Slack signs it."""
    signed = {
        key[5:].replace("_", "-"): value
        for key, value in slack_helpers.sign(body).items()
    }
    return httpx.post(
        f"{live_server.url}{path}",
        content=body,
        headers={"Content-Type": kind, **signed},
    )


def _jira_webhook(live_server, at: dt.datetime) -> httpx.Response:
    """Jira's issue_updated webhook (OPS-24 to Done at ``at``), signed as Jira
    signs it."""
    payload = tracker_fixture("jira", "webhook_issue_updated.json")
    payload["timestamp"] = int(at.timestamp() * 1000)
    body = json.dumps(payload).encode()
    signed = {
        key[5:].replace("_", "-"): value
        for key, value in tracker_helpers.sign("jira", body).items()
    }
    return httpx.post(
        f"{live_server.url}/api/v1/trackers/webhooks/jira/",
        content=body,
        headers={"Content-Type": "application/json", **signed},
    )


def _users_info(email: str) -> tuple[int, dict]:
    data = copy.deepcopy(slack_fixture("web_api/users.info.json"))
    data["user"]["profile"].update(
        email=email, real_name="Ana Lima", display_name="ana"
    )
    return 200, data


def test_alert_to_slack_to_draft_to_jira_to_dashboard(
    page,
    live_server,
    login,
    make_api_key,
    slack,  # noqa: F811 - the fixture imported above
    fake_tracker,  # noqa: F811 - the fixture imported above
    settings,
    screenshot_dir,
):
    settings.SITE_URL = SITE
    ana, past, past_item, alerts_secret = _world(make_api_key)
    page.set_viewport_size({"width": 1280, "height": 900})
    fired = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=40)
    pinned_ts = f"{(fired + dt.timedelta(minutes=16)).timestamp():.0f}.000200"
    permalink = (
        f"https://example.slack.com/archives/{INCIDENT_CHANNEL}/"
        f"p{pinned_ts.replace('.', '')}"
    )

    # 1. Alertmanager posts the firing group over the HTTP API with its key.
    response = httpx.post(
        f"{live_server.url}/api/v1/integrations/alertmanager/",
        json=_alert(fired),
        headers={"Authorization": f"Bearer {alerts_secret}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["incident_opened"] is True
    incident = Incident.objects.get(pk=response.json()["incident_id"])
    assert FindingMatch.objects.filter(
        incident=incident, past_incident=past, action_item=past_item
    ).exists()
    # Slack hears it once, in the team's channel.
    said = (
        f"{incident.reference} \u201cHighErrorRate: 5xx ratio above 5%\u201d looks "
        f"like {past.reference} Pool exhausted; its prevention item \u201cSize the "
        "pool from peak load\u201d is still open."
    )
    posts = [c.params for c in slack.called("chat.postMessage")]
    assert [(p["channel"], p["text"]) for p in posts] == [(TEAM_CHANNEL, said)]
    assert posts[0]["blocks"][1]["elements"][0]["url"] == (
        f"{SITE}/incidents/{past.pk}/"
    )

    # 2. The incident channel follows the incident (/hindsight link INC-N), and a
    # message in it gets the pushpin.
    slack.answers["users.info"] = _users_info(ana.email)
    command = urlencode(
        {**slack_fixture("commands/link.json"), "text": f"link {incident.reference}"}
    ).encode()
    linked = _slack_post(
        live_server,
        "/chat/slack/commands",
        command,
        "application/x-www-form-urlencoded",
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["text"].startswith(
        f"This channel now follows {incident.reference} "
    )
    history = copy.deepcopy(slack_fixture("web_api/conversations.history.json"))
    history["messages"][0].update(text=PINNED_TEXT, ts=pinned_ts)
    slack.answers["conversations.history"] = (200, history)
    slack.answers["chat.getPermalink"] = (
        200,
        {"ok": True, "channel": INCIDENT_CHANNEL, "permalink": permalink},
    )
    reaction = copy.deepcopy(slack_fixture("events/reaction_added.json"))
    reaction["event"]["item"]["ts"] = pinned_ts
    pinned = _slack_post(
        live_server,
        "/chat/slack/events",
        json.dumps(reaction).encode(),
        "application/json",
    )
    assert pinned.status_code == 200, pinned.text
    [asked] = slack.called("conversations.history")
    assert (asked.params["channel"], asked.params["latest"]) == (
        INCIDENT_CHANNEL,
        pinned_ts,
    )

    login(page, "ana")
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    timeline = page.locator("#timeline-entries")
    expect(timeline).to_contain_text("Alert firing: HighErrorRate: 5xx ratio above 5%")
    expect(timeline).to_contain_text("Rolled back deploy 4512 of checkout-api")
    expect(timeline).to_contain_text("Ana Lima")
    expect(timeline.locator(f'a[href="{permalink}"]')).to_have_count(1)

    # 3. Write the postmortem, starting from what Hindsight recorded.
    page.locator("#postmortem").get_by_role(
        "button", name="Write the postmortem"
    ).click()
    draft_box = page.get_by_label("Start from what Hindsight recorded")
    expect(draft_box).to_be_checked()
    page.get_by_role("button", name="Start the draft").click()
    page.wait_for_url(re.compile(r"/postmortems/\d+/edit/"))
    postmortem = Postmortem.objects.get(incident=incident)
    page.goto(f"{live_server.url}{postmortem.get_absolute_url()}")

    detection = page.locator("#section-detection")
    expect(detection.locator(".badge-drafted")).to_have_text("Drafted")
    expect(detection).to_contain_text(
        f"First signal: {fired:%Y-%m-%d %H:%M} UTC, Alert firing: HighErrorRate: "
        "5xx ratio above 5% (10.0.0.5:8080) (alert)."
    )
    supporting = page.locator("#section-supporting_info")
    expect(supporting.locator(".badge-drafted")).to_have_text("Drafted")
    expect(supporting).to_contain_text(
        f"{past.reference} (Pool exhausted): prevention item "
        "\u201cSize the pool from peak load\u201d is open"
    )
    doc_timeline = page.locator("#timeline")
    expect(doc_timeline).to_contain_text("Alert firing: HighErrorRate")
    expect(doc_timeline).to_contain_text("Rolled back deploy 4512 of checkout-api")
    expect(doc_timeline).to_contain_text("Ana Lima")
    expect(doc_timeline.locator(f'a[href="{permalink}"]')).to_have_count(1)
    page.screenshot(path=str(screenshot_dir / "drafted-postmortem.png"), full_page=True)

    # 4. An action item on the postmortem, pushed to Jira from its page.
    panel = page.locator("#action-items-panel")
    panel.get_by_role("button", name="Add item").click()
    form = panel.locator("form.inline-item-form")
    form.get_by_label("Title").fill("Alert on checkout pool saturation")
    form.get_by_label("Category").select_option("detection")
    form.get_by_role("button", name="Add item").click()
    expect(panel).to_contain_text("Alert on checkout pool saturation")
    item = ActionItem.objects.get(postmortem=postmortem)

    fake_tracker.route(
        "POST",
        "/rest/api/3/issue",
        201,
        tracker_fixture("jira", "create_issue_response.json"),
    )
    panel.get_by_role("link", name="Alert on checkout pool saturation").click()
    page.click("button[value=create]")
    page.wait_for_selector("[data-tracker-key]")
    expect(page.locator("#tracker")).to_contain_text("OPS-24")
    [created] = [r for r in fake_tracker.requests if r.path == "/rest/api/3/issue"]
    token = base64.b64encode(b"hindsight@example.com:jira-token").decode()
    assert (created.method, created.headers["authorization"]) == (
        "POST",
        f"Basic {token}",
    )
    assert created.json == {
        "fields": {
            "project": {"key": "OPS"},
            "summary": "Alert on checkout pool saturation",
            "issuetype": {"name": "Task"},
            "description": {
                "type": "doc",
                "version": 1,
                "content": [
                    {
                        "type": "paragraph",
                        "content": [
                            {
                                "type": "text",
                                "text": f"Hindsight action item AI-{item.pk}: "
                                f"{SITE}/actions/{item.pk}/",
                            }
                        ],
                    }
                ],
            },
            "labels": ["postmortem", "hindsight"],
        }
    }

    # 5. Jira's webhook moves OPS-24 to Done; the item follows, with the note.
    closed_at = timezone.now().replace(microsecond=0)
    webhook = _jira_webhook(live_server, closed_at)
    assert webhook.status_code == 200, webhook.text
    page.reload()
    item.refresh_from_db()
    assert item.status == Status.DONE
    note = (
        "Closed in Jira: OPS-24 set to Done by Ada Lovelace on "
        f"{closed_at:%Y-%m-%d %H:%M} UTC."
    )
    assert item.verification_note == note
    expect(page.locator("[data-tracker-state]")).to_contain_text("Done")
    expect(page.locator("body")).to_contain_text(note)
    page.screenshot(path=str(screenshot_dir / "where-work-happens-item.png"))

    page.goto(f"{live_server.url}/actions/dashboard/")
    expect(page.locator("[data-stat=done]")).to_have_text("1")
    expect(page.locator("[data-stat=tracker_disagree]")).to_have_text("0")
    page.screenshot(path=str(screenshot_dir / "where-work-happens-dashboard.png"))
