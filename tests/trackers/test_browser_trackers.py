"""An action item linked to each tracker, in Chromium: created or linked from the
item page against the local fake tracker, then moved by the tracker (or by a
person here), with the state and any disagreement on the page."""

import json

import httpx
import pytest

from actions.models import ActionItem, Status
from postmortems.models import Role
from tests import factories
from tests.trackers.conftest import sign
from tests.trackers.fake_server import fixture
from trackers.models import TrackerConfig

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _setup(provider: str):
    team = factories.TeamFactory(slug="platform", name="Platform")
    editor = factories.UserFactory(username="amara", role=Role.EDITOR, teams=[team])
    editor.first_name, editor.last_name = "Amara", "Okafor"
    editor.save()
    TrackerConfig.objects.create(
        team=team,
        provider=provider,
        project={
            "jira": "OPS",
            "github": "octocat/Hello-World",
            "linear": "72b2a2dc-6f4f-4423-9d34-24b5bd10634a",
        }[provider],
        labels="postmortem",
    )
    item = factories.ActionItemFactory(
        team=team,
        owner=editor,
        title="Page on connection pool saturation above 90%",
        description="The pool ran dry for 40 minutes before anyone was paged.",
    )
    return item


def _webhook(live_server, provider: str, name: str, **headers) -> httpx.Response:
    body = json.dumps(fixture(provider, name)).encode()
    signed = {
        key[5:].replace("_", "-"): value for key, value in sign(provider, body).items()
    }
    return httpx.post(
        f"{live_server.url}/api/v1/trackers/webhooks/{provider}/",
        content=body,
        headers={"Content-Type": "application/json", **signed, **headers},
    )


def test_jira_issue_created_from_the_page_then_closed_in_jira(
    page, live_server, login, fake_tracker, screenshot_dir
):
    item = _setup("jira")
    fake_tracker.route(
        "POST", "/rest/api/3/issue", 201, fixture("jira", "create_issue_response.json")
    )
    login(page, "amara")
    page.goto(f"{live_server.url}{item.get_absolute_url()}")
    page.click("button[value=create]")
    page.wait_for_selector("[data-tracker-key]")
    assert "OPS-24" in page.inner_text("#tracker")

    response = _webhook(live_server, "jira", "webhook_issue_updated.json")
    assert response.status_code == 200, response.text
    page.reload()

    item.refresh_from_db()
    assert item.status == Status.DONE
    assert "Ada Lovelace" in page.inner_text("#history")
    assert "Done" in page.inner_text("[data-tracker-state]")
    page.screenshot(path=str(screenshot_dir / "trackers-jira.png"), full_page=True)


def test_github_issue_linked_by_url_closed_as_not_planned(
    page, live_server, login, fake_tracker, screenshot_dir
):
    item = _setup("github")
    fake_tracker.route(
        "GET",
        "/repos/octocat/Hello-World/issues/1347",
        200,
        fixture("github", "get_issue_closed_not_planned.json"),
    )
    login(page, "amara")
    page.goto(f"{live_server.url}{item.get_absolute_url()}")
    page.fill("#tracker-issue", "https://github.com/octocat/Hello-World/issues/1347")
    page.click("button[value=link]")
    page.wait_for_selector("[data-tracker-key]")

    item.refresh_from_db()
    assert item.status == Status.WONT_DO
    assert "closed (not planned)" in page.inner_text("[data-tracker-state]")
    page.screenshot(path=str(screenshot_dir / "trackers-github.png"), full_page=True)


def test_linear_issue_in_progress_while_marked_done_here_shows_the_disagreement(
    page, live_server, login, fake_tracker, screenshot_dir
):
    item = _setup("linear")
    fake_tracker.route(
        "POST", "/graphql", 200, fixture("linear", "get_issue_started.json")
    )
    login(page, "amara")
    page.goto(f"{live_server.url}{item.get_absolute_url()}")
    page.fill("#tracker-issue", "ENG-123")
    page.click("button[value=link]")
    page.wait_for_selector("[data-tracker-key]")
    assert ActionItem.objects.get(pk=item.pk).status == Status.IN_PROGRESS
    # Someone marks it done here while the issue is still in progress in Linear.
    page.select_option("#status select[name=status]", "done")
    page.fill("#status textarea[name=verification_note]", "The drill paged on-call.")
    page.click("#status button[type=submit]")
    page.wait_for_selector("[data-tracker-disagrees]")

    assert "in progress in Linear" in page.inner_text("[data-tracker-disagrees]")
    page.screenshot(path=str(screenshot_dir / "trackers-linear.png"), full_page=True)
    page.goto(f"{live_server.url}/actions/dashboard/")
    assert page.inner_text("[data-stat=tracker_disagree]") == "1"
    assert page.inner_text("[data-stat=done]") == "0"
    page.screenshot(
        path=str(screenshot_dir / "trackers-dashboard.png"), full_page=False
    )
