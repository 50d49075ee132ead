"""The sync task claims its link before calling the tracker: an issue is created
once whatever fails after it exists, and a second claimant does nothing."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.trackers.conftest import KEYS
from tests.trackers.fake_server import fixture
from tests.trackers.test_services import CREATE_ROUTES, FETCH_ROUTES
from trackers import services, tasks
from trackers.models import TrackerConfig, TrackerLink

pytestmark = pytest.mark.django_db

PROVIDERS = ["jira", "github", "linear"]


def _serve(fake, provider: str) -> None:
    """Create and fetch routes; Linear answers both on one GraphQL path."""
    code = {"linear": 200}.get(provider, 201)
    created = fixture(provider, "create_issue_response.json")
    method, path, name = FETCH_ROUTES[provider]
    fetched = fixture(provider, name)
    if provider == "linear":
        fake.routes[("POST", "/graphql")] = lambda r: (
            200,
            created if "issueCreate" in r.json["query"] else fetched,
        )
        return
    fake.route(*CREATE_ROUTES[provider], code, created)
    fake.route(method, path, 200, fetched)


def _creates(fake, provider: str) -> int:
    return sum(
        1
        for r in fake.requests
        if (r.method, r.path) == CREATE_ROUTES[provider]
        and (provider != "linear" or "issueCreate" in r.json["query"])
    )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_sync_failure_after_the_issue_exists_never_creates_it_twice(
    fake_tracker, tracker_config, item, editor, provider, monkeypatch, client
):
    """GIVEN the issue was created but saving the item then fails
    WHEN the relay resends the link on its next passes
    THEN the tracker gets no second issue, and the item page says what failed."""
    tracker_config(provider)
    _serve(fake_tracker, provider)
    link = TrackerLink.objects.create(
        item=item, provider=provider, sync_due=timezone.now(), created_by=editor
    )

    def refuse(**kwargs):
        raise ValidationError("The item refused its tracker reference.")

    with monkeypatch.context() as patch:
        patch.setattr(services.action_services, "action_item_update", refuse)
        assert tasks.tracker_sync(link_id=link.pk) == "retry later"

    link.refresh_from_db()
    assert link.remote_key == KEYS[provider]  # kept: the issue exists
    assert link.attempts == 1
    assert "refused its tracker reference" in link.last_error
    assert link.sync_due > timezone.now()
    client.force_login(editor)
    page = client.get(item.get_absolute_url()).content.decode()
    assert "refused its tracker reference" in page

    # Later relay passes, the item accepts the reference now: no second issue.
    for minutes in (2, 10, 30):
        with time_machine.travel(timezone.now() + dt.timedelta(minutes=minutes)):
            services.tracker_links_relay()
    link.refresh_from_db()
    item.refresh_from_db()
    assert _creates(fake_tracker, provider) == 1
    assert (link.sync_due, link.attempts, link.last_error) == (None, 0, "")
    assert (item.tracker_provider, item.tracker_key) == (provider, KEYS[provider])


def test_sync_creates_a_github_issue_in_the_longest_repository_names(
    fake_tracker, item, editor
):
    """A GitHub owner is up to 39 characters and a repository up to 100."""
    repo = f"{'o' * 39}/{'r' * 70}"
    TrackerConfig.objects.create(team=item.team, provider="github", project=repo)
    response = fixture("github", "create_issue_response.json")
    response["repository_url"] = f"{fake_tracker.url}/repos/{repo}"
    response["html_url"] = f"https://github.com/{repo}/issues/1347"
    fake_tracker.route("POST", f"/repos/{repo}/issues", 201, response)
    link = TrackerLink.objects.create(
        item=item, provider="github", sync_due=timezone.now(), created_by=editor
    )

    assert tasks.tracker_sync(link_id=link.pk) == "in step"
    item.refresh_from_db()
    assert item.tracker_key == f"{repo}#1347"
    assert len(fake_tracker.requests) == 1


def test_sync_second_claimant_does_nothing_while_the_first_holds_the_claim(
    fake_tracker, tracker_config, item, editor, monkeypatch
):
    """GIVEN one copy of the task is creating the issue (the tracker has not
    answered yet)
    WHEN a second copy of the task runs for the same link
    THEN the second creates nothing, and the first finishes the link."""
    tracker_config("jira")
    _serve(fake_tracker, "jira")
    link = TrackerLink.objects.create(
        item=item, provider="jira", sync_due=timezone.now(), created_by=editor
    )
    real_get_provider = services.get_provider
    second, entered = [], []

    def get_provider(name, **kwargs):
        provider = real_get_provider(name, **kwargs)
        real_create = provider.create_issue

        def create_issue(draft):
            # While the first copy waits on the tracker, the second one runs.
            if not entered:
                entered.append(True)
                second.append(services.tracker_link_sync(link_id=link.pk))
            return real_create(draft)

        provider.create_issue = create_issue
        return provider

    monkeypatch.setattr(services, "get_provider", get_provider)

    assert services.tracker_link_sync(link_id=link.pk) == "in step"
    assert second == ["nothing due"]
    assert len(fake_tracker.requests) == 1
    link.refresh_from_db()
    assert (link.remote_key, link.sync_due) == (KEYS["jira"], None)
