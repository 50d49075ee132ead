"""In Chromium: the editor's rows are added, moved and removed in place."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_browser_editor_rows_add_move_and_remove_in_place(
    page, live_server, login, draft_postmortem
):
    pm = draft_postmortem
    for position, text in enumerate(("Pool capped at 50", "Retries had no jitter")):
        factories.ContributingFactorFactory(
            postmortem=pm, description=text, position=position
        )
    login(page, "editor")
    url = live_server.url + reverse("postmortems:postmortem_edit", args=[pm.pk])
    page.goto(url)
    rows = page.locator("#factor-list > li")
    # With JavaScript, arrows replace the position boxes.
    expect(rows.first.locator(".row-order")).to_be_hidden()
    rows.first.get_by_role("button", name="Move down").click()
    expect(rows.first.locator("textarea[name$='-description']")).to_have_value(
        "Retries had no jitter"
    )

    rows.first.get_by_label("Remove").check()
    expect(rows.first).to_have_class(re.compile(r"\brow-removed\b"))

    page.get_by_role("button", name="Add a contributing factor").click()
    expect(rows).to_have_count(3)
    assert page.url == url  # added in place, no round trip
    expect(rows.last.locator("textarea[name$='-description']")).to_be_focused()
    rows.last.locator("select").select_option("detection_gap")
    rows.last.locator("textarea[name$='-description']").fill("No saturation alert")

    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/postmortems/\d+/$"))
    assert list(pm.contributing_factors.values_list("description", flat=True)) == [
        "Pool capped at 50",
        "No saturation alert",
    ]
