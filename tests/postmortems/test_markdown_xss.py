"""Markdown XSS, server side: every payload through the real pages."""

import pytest
from django.urls import reverse

from postmortems.markdown import render_markdown
from tests import factories
from tests.postmortems.editor_form import formset
from tests.postmortems.xss_payloads import PAYLOADS, unsafe_markup

pytestmark = pytest.mark.django_db


def test_xss_payload_list_is_large_enough():
    assert len(PAYLOADS) >= 30
    assert len(set(PAYLOADS)) == len(PAYLOADS)


def test_xss_checker_catches_what_it_should():
    # The checker itself must fail on the markup it is there to catch.
    assert unsafe_markup('<img src=x onerror="alert(1)">', fragment=True)
    assert unsafe_markup('<a href=" JaVa&#x09;Script:alert(1)">x</a>', fragment=True)
    assert unsafe_markup("<script>alert(1)</script>", fragment=True)
    assert unsafe_markup("<main><svg></svg></main>")
    assert unsafe_markup('<p style="color:red">x</p>', fragment=True)
    assert unsafe_markup('<a href="https://ok.example">ok</a>', fragment=True) == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_render_markdown_output_is_safe(payload):
    assert unsafe_markup(render_markdown(payload), fragment=True) == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_postmortem_page_with_payload_everywhere_is_safe(
    editor_client, draft_postmortem, payload
):
    """GIVEN a payload in every Markdown field WHEN the page renders THEN no script,
    no on* attribute and no javascript:/data:/vbscript: URL reaches the HTML."""
    pm = draft_postmortem
    pm.sections = {section["key"]: payload for section in pm.template.sections}
    pm.five_whys = [payload]
    pm.impact_regions = [payload]
    pm.save()
    factories.ContributingFactorFactory(postmortem=pm, description=payload)
    factories.HypothesisFactory(postmortem=pm, text=payload, test=payload)
    factories.TimelineEntryFactory(incident=pm.incident, text=payload)
    factories.CommentFactory(postmortem=pm, body=payload, section="summary")
    for name in ("postmortem_detail", "postmortem_print", "postmortem_edit"):
        response = editor_client.get(reverse(f"postmortems:{name}", args=[pm.pk]))
        assert response.status_code == 200
        html = response.content.decode()
        # The editor legitimately uses <template> for its add-row buttons.
        problems = [p for p in unsafe_markup(html) if p != "<template> inside <main>"]
        assert problems == [], (name, problems)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_live_preview_and_blame_check_are_safe(editor_client, payload):
    for name in ("markdown_preview", "blame_check"):
        response = editor_client.post(
            reverse(f"postmortems:{name}"), {"field": "text", "text": payload}
        )
        assert unsafe_markup(response.content.decode(), fragment=True) == [], name


def test_history_and_conflict_pages_escape_payloads(editor_client, draft_postmortem):
    pm = draft_postmortem
    everything = "\n\n".join(PAYLOADS)
    data = {
        "version": 1,
        "section_summary": everything,
        **formset("whys", [{"text": everything}]),
    }
    assert (
        editor_client.post(
            reverse("postmortems:postmortem_edit", args=[pm.pk]), data
        ).status_code
        == 302
    )
    html = editor_client.get(
        reverse("postmortems:postmortem_history", args=[pm.pk])
    ).content.decode()
    assert unsafe_markup(html) == []
    # A stale save: the 409 page shows both texts as plain text.
    response = editor_client.post(
        reverse("postmortems:postmortem_edit", args=[pm.pk]), data
    )
    assert response.status_code == 409
    assert unsafe_markup(response.content.decode()) == []
