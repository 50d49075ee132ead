"""The navigation bar: each app's sections, from postmortems.extensions.nav_items."""

import re

import pytest

from postmortems import extensions

pytestmark = pytest.mark.django_db

SECTIONS = ["Incidents", "Postmortems", "Action items", "Dashboard", "Insights"]


def _bar(client) -> list[str]:
    html = client.get("/incidents/").content.decode()
    links = html.split('<div class="nav-links"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r">([^<>]+)</a></li>", links)


def test_navigation_lists_every_apps_registered_section_in_order(editor_client):
    assert _bar(editor_client) == [*SECTIONS, "Analyzers"]


@pytest.mark.parametrize("allowed", [False, True])
def test_navigation_shows_a_section_only_to_whom_it_allows(
    editor_client, monkeypatch, allowed
):
    """A section with ``shown_to`` is left out for the users it refuses, and in
    its place (by ``order``) for the others."""
    probe = extensions.NavItem(
        "Probe", "postmortems:incident_list", order=55, shown_to=lambda u: allowed
    )
    monkeypatch.setattr(extensions, "nav_items", [*extensions.nav_items, probe])
    probe_shown = ["Probe"] if allowed else []
    assert _bar(editor_client) == [*SECTIONS, *probe_shown, "Analyzers"]
