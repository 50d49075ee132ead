"""Creating and linking issues, the outbox (tracker and broker outages), the relay
and the nightly reconcile, against the local fake tracker."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from actions.models import Status
from tests import factories
from tests.trackers.conftest import KEYS
from tests.trackers.fake_server import fixture
from trackers import services, tasks
from trackers.models import TrackerLink

pytestmark = pytest.mark.django_db

CREATE_ROUTES = {
    "jira": ("POST", "/rest/api/3/issue"),
    "github": ("POST", "/repos/octocat/Hello-World/issues"),
    "linear": ("POST", "/graphql"),
}
FETCH_ROUTES = {
    "jira": ("GET", "/rest/api/3/issue/OPS-24", "get_issue_in_progress.json"),
    "github": (
        "GET",
        "/repos/octocat/Hello-World/issues/1347",
        "get_issue_closed_not_planned.json",
    ),
    "linear": ("POST", "/graphql", "get_issue_started.json"),
}
FETCHED_STATUS = {"jira": "in_progress", "github": "wont_do", "linear": "in_progress"}


def _created(fake, provider, status=None):
    method, path = CREATE_ROUTES[provider]
    code = {"linear": 200}.get(provider, 201)
    fake.route(
        method, path, status or code, fixture(provider, "create_issue_response.json")
    )


@pytest.mark.parametrize("provider", ["jira", "github", "linear"])
def test_creating_the_issue_links_the_item(
    fake_tracker,
    tracker_config,
    item,
    editor,
    provider,
    django_capture_on_commit_callbacks,
):
    tracker_config(provider)
    _created(fake_tracker, provider)

    with django_capture_on_commit_callbacks(execute=True):
        services.tracker_issue_create(item=item, actor=editor)

    link = TrackerLink.objects.get(item=item)
    assert link.remote_key == KEYS[provider]
    assert (link.sync_due, link.last_error, link.remote_status) == (None, "", "open")
    item.refresh_from_db()
    assert (item.tracker_provider, item.tracker_key) == (provider, KEYS[provider])
    assert item.tracker_url
    # The issue's description links back to the item.
    sent = fake_tracker.requests[0].json
    assert f"/actions/{item.pk}/" in str(sent)


@pytest.mark.parametrize("provider", ["jira", "github", "linear"])
def test_a_tracker_outage_never_blocks_and_the_relay_retries(
    fake_tracker,
    tracker_config,
    item,
    editor,
    provider,
    django_capture_on_commit_callbacks,
):
    tracker_config(provider)
    _created(fake_tracker, provider, status=503)

    with django_capture_on_commit_callbacks(execute=True):
        services.tracker_issue_create(item=item, actor=editor)

    link = TrackerLink.objects.get(item=item)
    assert link.remote_key == ""
    assert link.attempts == 1
    assert "503" in link.last_error
    assert link.sync_due > timezone.now()
    # Not due yet: the relay leaves it alone.
    assert services.tracker_links_relay() == 0
    # The tracker is back; after the backoff the relay creates the issue.
    _created(fake_tracker, provider)
    with time_machine.travel(link.sync_due + dt.timedelta(seconds=1)):
        assert services.tracker_links_relay() == 1
    link.refresh_from_db()
    assert (link.remote_key, link.sync_due, link.attempts) == (KEYS[provider], None, 0)
    creates = [
        r
        for r in fake_tracker.requests
        if (r.method, r.path) == CREATE_ROUTES[provider]
    ]
    assert len(creates) == 2


def test_a_refused_create_stops_retrying_and_says_why(
    fake_tracker, tracker_config, item, editor, django_capture_on_commit_callbacks
):
    tracker_config("jira")
    fake_tracker.route(
        "POST", "/rest/api/3/issue", 400, fixture("jira", "create_issue_error.json")
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.tracker_issue_create(item=item, actor=editor)

    link = TrackerLink.objects.get(item=item)
    assert link.sync_due is None
    assert "Specify a valid project ID or key" in link.last_error


def test_a_broker_outage_leaves_the_link_due_for_the_relay(
    fake_tracker,
    tracker_config,
    item,
    editor,
    broker_down,
    django_capture_on_commit_callbacks,
):
    from kb.celery import app

    tracker_config("github")
    _created(fake_tracker, "github")

    with django_capture_on_commit_callbacks(execute=True):
        services.tracker_issue_create(item=item, actor=editor)

    link = TrackerLink.objects.get(item=item)
    assert link.sync_due <= timezone.now()
    assert fake_tracker.requests == []
    assert services.tracker_links_relay() == 0  # still down: stays due
    link.refresh_from_db()
    assert link.sync_due <= timezone.now()
    app.conf.task_always_eager = True  # the broker is back
    assert services.tracker_links_relay() == 1
    link.refresh_from_db()
    assert link.remote_key == KEYS["github"]


def test_the_sync_task_twice_creates_one_issue(
    fake_tracker, tracker_config, item, editor
):
    tracker_config("jira")
    _created(fake_tracker, "jira")
    link = TrackerLink.objects.create(
        item=item, provider="jira", sync_due=timezone.now()
    )

    assert tasks.tracker_sync(link_id=link.pk) == "in step"
    assert tasks.tracker_sync(link_id=link.pk) == "nothing due"
    assert tasks.tracker_sync(link_id=link.pk + 1000) == "nothing due"
    assert len(fake_tracker.requests) == 1


@pytest.mark.parametrize("provider", ["jira", "github", "linear"])
def test_linking_an_existing_issue_reads_its_state(
    fake_tracker,
    tracker_config,
    item,
    editor,
    provider,
    django_capture_on_commit_callbacks,
):
    tracker_config(provider)
    method, path, body = FETCH_ROUTES[provider]
    fake_tracker.route(method, path, 200, fixture(provider, body))

    with django_capture_on_commit_callbacks(execute=True):
        services.tracker_issue_link(item=item, text=KEYS[provider], actor=editor)

    link = TrackerLink.objects.get(item=item)
    assert link.remote_status == FETCHED_STATUS[provider]
    item.refresh_from_db()
    assert item.status == FETCHED_STATUS[provider]
    assert item.tracker_key == KEYS[provider]
    assert item.history.filter(history_user=editor).exists()


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "Give a Jira issue key"),
        ("nonsense", "Give a Jira issue key"),
    ],
)
def test_linking_refuses_what_is_not_an_issue(
    fake_tracker, tracker_config, item, editor, text, message
):
    tracker_config("jira")
    with pytest.raises(ValidationError, match=message):
        services.tracker_issue_link(item=item, text=text, actor=editor)
    assert not TrackerLink.objects.exists()


def test_one_issue_follows_one_item(fake_tracker, tracker_config, item, editor, team):
    tracker_config("jira")
    services.tracker_issue_link(item=item, text="OPS-24", actor=editor)
    other = factories.ActionItemFactory(team=team)

    with pytest.raises(ValidationError, match=f"already linked to AI-{item.pk}"):
        services.tracker_issue_link(item=other, text="OPS-24", actor=editor)
    with pytest.raises(ValidationError, match="already linked"):
        services.tracker_issue_create(item=item, actor=editor)


def test_without_a_team_tracker_the_error_says_what_to_do(item, editor):
    with pytest.raises(ValidationError, match="no issue tracker set up"):
        services.tracker_issue_create(item=item, actor=editor)


def test_without_credentials_the_error_names_the_docs(
    fake_tracker, tracker_config, item, editor, settings
):
    tracker_config("github")
    settings.KB_GITHUB_TOKEN = ""
    with pytest.raises(ValidationError, match="credentials are not set"):
        services.tracker_issue_create(item=item, actor=editor)


def test_reconcile_fixes_what_a_lost_webhook_missed(
    fake_tracker, tracker_config, item, editor
):
    tracker_config("github")
    TrackerLink.objects.create(
        item=item, provider="github", remote_key=KEYS["github"], remote_status="open"
    )
    fake_tracker.route(
        "GET",
        "/repos/octocat/Hello-World/issues/1347",
        200,
        fixture("github", "get_issue_closed_not_planned.json"),
    )

    assert tasks.trackers_reconcile() == str({"moved": 1})

    item.refresh_from_db()
    assert item.status == Status.WONT_DO
    assert "found closed (not planned) by Hindsight's sync" in item.status_reason
    link = TrackerLink.objects.get(item=item)
    assert (link.remote_status, link.sync_due) == ("wont_do", None)


def test_reconcile_during_an_outage_leaves_links_due(
    fake_tracker, tracker_config, item
):
    tracker_config("jira")
    TrackerLink.objects.create(
        item=item, provider="jira", remote_key="OPS-24", remote_status="open"
    )
    fake_tracker.route("GET", "/rest/api/3/issue/OPS-24", 502, {})

    assert services.trackers_reconcile() == {"retry later": 1}
    link = TrackerLink.objects.get(item=item)
    assert link.sync_due is not None and "502" in link.last_error
    item.refresh_from_db()
    assert item.status == Status.OPEN


def test_unlinking_keeps_the_items_status(fake_tracker, tracker_config, item, editor):
    tracker_config("jira")
    services.tracker_issue_link(item=item, text="OPS-24", actor=editor)

    services.tracker_link_remove(item=item, actor=editor)

    item.refresh_from_db()
    assert (item.tracker_key, item.tracker_provider) == ("", "")
    assert not TrackerLink.objects.exists()


@pytest.mark.parametrize("creating", [True, False], ids=["create", "fetch"])
def test_syncing_a_link_reads_it_and_writes_its_issue_once(
    fake_tracker,
    tracker_config,
    item,
    editor,
    creating,
    django_capture_on_commit_callbacks,
):
    """GIVEN a link waiting to create its issue, or to fetch a linked one
    WHEN the sync task runs
    THEN the link (with its item) is read once before the tracker call and once,
    locked, after it, and the issue's key, id and url are written once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tracker_config("jira")
    with django_capture_on_commit_callbacks(execute=False):
        if creating:
            _created(fake_tracker, "jira")
            link = services.tracker_issue_create(item=item, actor=editor)
        else:
            method, path, body = FETCH_ROUTES["jira"]
            fake_tracker.route(method, path, 200, fixture("jira", body))
            link = services.tracker_issue_link(item=item, text="OPS-24", actor=editor)

    with CaptureQueriesContext(connection) as queries:
        assert services.tracker_link_sync(link_id=link.pk) != "nothing due"

    sql = [q["sql"] for q in queries.captured_queries]
    link_table = TrackerLink._meta.db_table
    team_table = item.team._meta.db_table
    # The link, and the item with its team (what the sync reads to apply).
    reads = [
        s
        for s in sql
        if s.startswith("SELECT")
        and (
            f'FROM "{link_table}"' in s
            or f'FROM "{item._meta.db_table}" INNER JOIN "{team_table}"' in s
        )
    ]
    key_writes = [
        s for s in sql if s.startswith(f'UPDATE "{link_table}"') and '"remote_key"' in s
    ]
    assert len(reads) == 2, reads
    assert len(key_writes) == 1, key_writes
    assert TrackerLink.objects.get(pk=link.pk).remote_key == "OPS-24"
