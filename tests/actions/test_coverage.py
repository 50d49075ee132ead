"""Coverage policy: which categories a severity needs before approval, and the
inline action-item panel of the postmortem page (htmx)."""

import pytest
from django.core.exceptions import ValidationError
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse

from actions import services
from actions.models import ActionItem, CoveragePolicy, Status
from actions.selectors import coverage_for_postmortem, postmortem_action_items_context
from postmortems.models import Role, Severity
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def sev1_postmortem(team):
    return factories.PostmortemFactory(
        incident=factories.IncidentFactory(team=team, severity=Severity.SEV1)
    )


def test_coverage_sev1_needs_detection_and_prevention_by_default(sev1_postmortem):
    factories.ActionItemFactory(
        postmortem=sev1_postmortem,
        team=sev1_postmortem.incident.team,
        category="process",
    )
    assert coverage_for_postmortem(sev1_postmortem) == {
        "required": ["detection", "prevention"],
        "covered": ["process"],
        "missing": ["detection", "prevention"],
    }


def test_coverage_wont_do_items_do_not_cover(sev1_postmortem, team):
    for category in ("detection", "prevention"):
        factories.ActionItemFactory(
            postmortem=sev1_postmortem, team=team, category=category
        )
    ActionItem.objects.filter(category="prevention").update(
        status=Status.WONT_DO, status_reason="no"
    )
    assert coverage_for_postmortem(sev1_postmortem)["missing"] == ["prevention"]


def test_coverage_sev2_requires_nothing_unless_an_admin_says_so(team):
    postmortem = factories.PostmortemFactory(incident__team=team)
    assert coverage_for_postmortem(postmortem)["missing"] == []
    CoveragePolicy.objects.filter(severity="SEV2").update(
        required_categories=["mitigation"]
    )
    assert coverage_for_postmortem(postmortem)["missing"] == ["mitigation"]


def test_coverage_check_refuses_with_a_clear_message(sev1_postmortem, team):
    factories.ActionItemFactory(
        postmortem=sev1_postmortem, team=team, category="detection"
    )
    with pytest.raises(ValidationError) as excinfo:
        services.coverage_check(postmortem=sev1_postmortem)
    message = excinfo.value.messages[0]
    assert "SEV1" in message and "Missing: prevention" in message
    factories.ActionItemFactory(
        postmortem=sev1_postmortem, team=team, category="prevention"
    )
    services.coverage_check(postmortem=sev1_postmortem)  # no error


def test_postmortem_panel_include_shows_covered_and_missing(sev1_postmortem, editor):
    factories.ActionItemFactory(
        postmortem=sev1_postmortem,
        team=sev1_postmortem.incident.team,
        category="detection",
        title="Page on replica lag",
    )
    request = RequestFactory().get("/")
    request.user = editor
    context = postmortem_action_items_context(user=editor, postmortem=sev1_postmortem)
    template = engines["django"].from_string(
        '{% include "actions/_postmortem_action_items.html" %}'
    )
    html = template.render(context, request)
    assert "Page on replica lag" in html
    assert "✓ Detection" in html
    assert "✗ Prevention" in html
    assert "cannot be approved yet" in html
    assert "Add item" in html


def test_postmortem_panel_inline_create_returns_the_updated_panel(
    editor_client, sev1_postmortem, team
):
    url = reverse("actions:postmortem_item_new", args=[sev1_postmortem.pk])
    form = editor_client.get(url, HTTP_HX_REQUEST="true")
    assert f'hx-post="{url}"' in form.content.decode()
    response = editor_client.post(
        url,
        {
            "title": "Block deploys on failing canary",
            "category": "prevention",
            "priority": "P1",
            "team": team.pk,
            "status": "open",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="action-items-panel"' in html
    assert "Block deploys on failing canary" in html
    assert "✓ Prevention" in html
    item = sev1_postmortem.action_items.get()
    assert item.created_by.username == "editor"


def test_postmortem_panel_inline_form_errors_stay_in_the_panel(
    editor_client, sev1_postmortem, team
):
    url = reverse("actions:postmortem_item_new", args=[sev1_postmortem.pk])
    response = editor_client.post(
        url,
        {
            "title": "Drop the retry wrapper",
            "category": "prevention",
            "priority": "P2",
            "team": team.pk,
            "status": "blocked",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200  # htmx 2 swaps only 2xx
    assert "Say why this item is blocked" in response.content.decode()
    assert not sev1_postmortem.action_items.exists()


def test_postmortem_panel_inline_edit_changes_the_item(
    editor_client, sev1_postmortem, team, editor
):
    item = factories.ActionItemFactory(
        postmortem=sev1_postmortem, team=team, category="detection"
    )
    url = reverse("actions:postmortem_item_edit", args=[sev1_postmortem.pk, item.pk])
    assert "Save" in editor_client.get(url).content.decode()
    response = editor_client.post(
        url,
        {
            "title": "Renamed",
            "category": "detection",
            "priority": "P0",
            "team": team.pk,
            "owner": item.owner.pk,
            "due_date": item.due_date.isoformat(),
            "status": "in_progress",
        },
    )
    assert "Renamed" in response.content.decode()
    item.refresh_from_db()
    assert (item.title, item.priority) == ("Renamed", "P0")
    assert item.history.first().history_user == editor


def test_postmortem_panel_viewer_cannot_add(client, viewer, sev1_postmortem):
    client.force_login(viewer)
    url = reverse("actions:postmortem_item_new", args=[sev1_postmortem.pk])
    assert client.get(url).status_code == 403
    panel = client.get(reverse("actions:postmortem_items", args=[sev1_postmortem.pk]))
    assert "Add item" not in panel.content.decode()


def test_postmortem_panel_of_another_teams_draft_is_a_404(client, sev1_postmortem):
    outsider = factories.UserFactory(
        role=Role.EDITOR, teams=[factories.TeamFactory(slug="edge")]
    )
    client.force_login(outsider)
    url = reverse("actions:postmortem_items", args=[sev1_postmortem.pk])
    assert client.get(url).status_code == 404
