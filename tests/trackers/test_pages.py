"""The tracker card on an action item's page and its form, for every role."""

import pytest
from django.urls import reverse
from django.utils import timezone

from actions.models import Status
from postmortems.models import Role
from tests import factories
from tests.trackers.conftest import KEYS
from tests.trackers.fake_server import fixture
from trackers.models import TrackerLink

pytestmark = pytest.mark.django_db


def detail(client, item):
    return client.get(item.get_absolute_url())


@pytest.mark.parametrize("provider", ["jira", "github", "linear"])
def test_the_item_page_shows_the_issue_its_state_and_a_disagreement(
    client, fake_tracker, tracker_config, item, editor, provider
):
    tracker_config(provider)
    TrackerLink.objects.create(
        item=item,
        provider=provider,
        remote_key=KEYS[provider],
        remote_url=f"https://tracker.example/{provider}",
        remote_status="done",
        remote_state="Done",
        remote_changed_by="Ada Lovelace",
        remote_changed_at=timezone.now(),
    )
    client.force_login(editor)

    html = detail(client, item).content.decode()

    assert f'href="https://tracker.example/{provider}"' in html
    assert KEYS[provider] in html
    assert "data-tracker-disagrees" in html  # open here, done there
    assert "by Ada Lovelace" in html


def test_the_item_page_says_when_the_team_has_no_tracker(client, item, editor):
    client.force_login(editor)
    html = detail(client, item).content.decode()
    assert "has no issue tracker set up" in html


def test_the_item_page_says_when_credentials_are_missing(
    client, tracker_config, item, editor, settings
):
    settings.KB_JIRA_API_TOKEN = ""
    tracker_config("jira")
    client.force_login(editor)
    html = detail(client, item).content.decode()
    assert "has no Jira credentials yet" in html


def test_an_editor_creates_the_issue_from_the_page(
    client,
    fake_tracker,
    tracker_config,
    item,
    editor,
    django_capture_on_commit_callbacks,
):
    tracker_config("jira")
    fake_tracker.route(
        "POST", "/rest/api/3/issue", 201, fixture("jira", "create_issue_response.json")
    )
    client.force_login(editor)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("trackers:item_tracker", args=[item.pk]), {"action": "create"}
        )
    page = client.get(response["Location"])

    html = page.content.decode()
    assert "The issue is being created" in html  # the worker creates it
    assert f"{fake_tracker.url}/browse/OPS-24" in html
    item.refresh_from_db()
    assert item.tracker_key == "OPS-24"


def test_a_bad_issue_reference_is_explained_and_kept(
    client, fake_tracker, tracker_config, item, editor
):
    tracker_config("github")
    client.force_login(editor)

    response = client.post(
        reverse("trackers:item_tracker", args=[item.pk]),
        {"action": "link", "issue": "the pool issue"},
        follow=True,
    )

    html = response.content.decode()
    assert "Give a GitHub issue as owner/repo#12" in html
    assert 'value="the pool issue"' in html
    assert not TrackerLink.objects.exists()


@pytest.mark.parametrize("action", ["create", "link", "resync", "unlink"])
@pytest.mark.parametrize("role", ["viewer", "reviewer", "other_team_editor"])
def test_only_editors_of_the_team_change_the_link(
    client, fake_tracker, tracker_config, item, team, other_team, role, action
):
    tracker_config("jira")
    link = TrackerLink.objects.create(
        item=item, provider="jira", remote_key="OPS-24", remote_status="open"
    )
    user = {
        "viewer": lambda: factories.UserFactory(role=Role.VIEWER, teams=[team]),
        "reviewer": lambda: factories.UserFactory(role=Role.REVIEWER, teams=[]),
        "other_team_editor": lambda: factories.UserFactory(
            role=Role.EDITOR, teams=[other_team]
        ),
    }[role]()
    client.force_login(user)

    response = client.post(
        reverse("trackers:item_tracker", args=[item.pk]),
        {"action": action, "issue": "OPS-25"},
    )

    assert response.status_code == 403
    assert list(TrackerLink.objects.values("pk", "remote_key", "sync_due")) == [
        {"pk": link.pk, "remote_key": "OPS-24", "sync_due": None}
    ]
    assert fake_tracker.requests == []


def test_signed_out_people_are_sent_to_log_in(client, item):
    response = client.post(
        reverse("trackers:item_tracker", args=[item.pk]), {"action": "create"}
    )
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_closed_item_can_be_linked_but_gets_no_new_issue(
    client, fake_tracker, tracker_config, item, editor
):
    from actions.services import action_item_set_status

    tracker_config("jira")
    action_item_set_status(
        item=item, status=Status.DONE, verification_note="Drill.", actor=editor
    )
    client.force_login(editor)

    html = detail(client, item).content.decode()
    assert 'value="create"' not in html
    assert 'value="link"' in html
