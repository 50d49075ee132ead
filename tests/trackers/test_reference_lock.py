"""A linked item's tracker reference follows its issue: every way a person edits
an item (item page, postmortem page inline, API) refuses changing it, and the
tracker's own writes still work when the person who linked it lost edit rights."""

import pytest
from django.urls import reverse

from postmortems.models import Role
from tests import factories
from tests.trackers.conftest import KEYS
from tests.trackers.fake_server import fixture
from trackers import services, tasks
from trackers.models import TrackerLink

pytestmark = pytest.mark.django_db

NEW_VALUES = {
    "tracker_provider": "github",
    "tracker_key": "OPS-99",
    "tracker_url": "https://jira.example.com/browse/OPS-99",
}


@pytest.fixture
def linked_item(team, editor):
    postmortem = factories.PostmortemFactory(incident__team=team)
    item = factories.ActionItemFactory(
        team=team,
        owner=editor,
        postmortem=postmortem,
        tracker_provider="jira",
        tracker_key=KEYS["jira"],
        tracker_url=f"https://jira.example.com/browse/{KEYS['jira']}",
    )
    TrackerLink.objects.create(
        item=item, provider="jira", remote_key=KEYS["jira"], remote_status="open"
    )
    return item


def _form(item, **changes) -> dict:
    data = {
        "title": item.title,
        "description": item.description,
        "category": item.category,
        "priority": item.priority,
        "team": item.team_id,
        "owner": item.owner_id,
        "due_date": item.due_date.isoformat(),
        "status": item.status,
        "tracker_provider": item.tracker_provider,
        "tracker_key": item.tracker_key,
        "tracker_url": item.tracker_url,
    }
    data.update(changes)
    return data


def _edit(client, path: str, item, **changes):
    if path == "api":
        return client.patch(
            f"/api/v1/action-items/{item.pk}/",
            data=changes,
            content_type="application/json",
        )
    url = (
        reverse("actions:item_edit", args=[item.pk])
        if path == "page"
        else reverse("actions:postmortem_item_edit", args=[item.postmortem_id, item.pk])
    )
    return client.post(url, _form(item, **changes), HTTP_HX_REQUEST="true")


@pytest.mark.parametrize("path", ["page", "inline", "api"])
@pytest.mark.parametrize("field", list(NEW_VALUES))
def test_linked_item_refuses_a_changed_tracker_reference(
    client, editor, linked_item, path, field
):
    client.force_login(editor)
    before = (
        linked_item.tracker_provider,
        linked_item.tracker_key,
        linked_item.tracker_url,
    )

    response = _edit(client, path, linked_item, **{field: NEW_VALUES[field]})

    body = response.content.decode()
    assert response.status_code in (200, 400)
    assert "unlink it on the item" in body
    linked_item.refresh_from_db()
    after = (
        linked_item.tracker_provider,
        linked_item.tracker_key,
        linked_item.tracker_url,
    )
    assert after == before


@pytest.mark.parametrize("path", ["page", "inline", "api"])
def test_linked_item_other_fields_still_save(client, editor, linked_item, path):
    client.force_login(editor)

    response = _edit(client, path, linked_item, title="Renamed while linked")

    assert response.status_code in (200, 302)
    linked_item.refresh_from_db()
    assert linked_item.title == "Renamed while linked"
    assert linked_item.tracker_key == KEYS["jira"]


def test_unlinked_item_reference_is_editable_again(client, editor, linked_item):
    client.force_login(editor)
    services.tracker_link_remove(item=linked_item, actor=editor)

    response = _edit(
        client, "page", linked_item, tracker_provider="jira", tracker_key="OPS-99"
    )

    assert response.status_code == 302
    linked_item.refresh_from_db()
    assert linked_item.tracker_key == "OPS-99"


def test_sync_writes_even_when_the_linker_lost_edit_rights(
    fake_tracker, tracker_config, item, editor
):
    """GIVEN the person who asked for the issue is now a viewer
    WHEN the sync creates the issue
    THEN the item still records it, in history as the tracker's change."""
    tracker_config("jira")
    fake_tracker.route(
        "POST", "/rest/api/3/issue", 201, fixture("jira", "create_issue_response.json")
    )
    link = TrackerLink.objects.create(
        item=item, provider="jira", sync_due=None, created_by=editor
    )
    TrackerLink.objects.filter(pk=link.pk).update(sync_due=link.created_at)
    editor.profile.role = Role.VIEWER
    editor.profile.save()

    assert tasks.tracker_sync(link_id=link.pk) == "in step"

    item.refresh_from_db()
    assert item.tracker_key == KEYS["jira"]
    latest = item.history.first()
    assert latest.history_user is None
    assert "Jira OPS-24" in latest.history_change_reason
