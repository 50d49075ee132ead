"""The editor's lists (five whys, contributing factors, investigation log) as
formsets, through the page: add, remove, reorder, invalid rows, stale rows."""

import re
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from postmortems.models import Role
from tests import factories
from tests.postmortems.editor_form import editor_fields, page_fields

pytestmark = pytest.mark.django_db


def _url(pm) -> str:
    return reverse("postmortems:postmortem_edit", args=[pm.pk])


def _row_html(html: str, list_id: str, number: int) -> str:
    """The markup of row ``number`` (from 0) of list ``list_id``."""
    part = html[html.index(f'id="{list_id}"') :]
    part = part[: part.index("</ul>" if "why" not in list_id else "</ol>")]
    return part.split("<li data-row")[number + 1]


def _factors(pm) -> list[tuple[str, str]]:
    return list(pm.contributing_factors.values_list("kind", "description"))


def test_editor_rows_add_without_javascript_keeps_the_typing_and_saves_nothing(
    editor_client, draft_postmortem
):
    """GIVEN the editor without JavaScript WHEN "Add a contributing factor" is
    pressed THEN the same page comes back with one more blank row and everything
    typed so far, and nothing is saved until Save."""
    pm = draft_postmortem
    fields = page_fields(editor_client, _url(pm))
    # An empty list starts with one blank row to type into.
    assert fields["factors-TOTAL_FORMS"] == ["1"]
    fields["factors-0-kind"] = ["technical"]
    fields["factors-0-description"] = ["Pool capped at 50"]
    fields["section_summary"] = ["Typed before adding a row."]

    response = editor_client.post(_url(pm), {**fields, "add_row": "factors"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Row added." in html and "Typed before adding a row." in html
    again = editor_fields(html)
    assert again["factors-TOTAL_FORMS"] == ["2"]
    assert again["factors-0-description"] == ["Pool capped at 50"]
    assert again["factors-1-description"] == [""]
    pm.refresh_from_db()
    assert pm.version == 1 and _factors(pm) == []

    again["factors-1-kind"] = ["detection_gap"]
    again["factors-1-description"] = ["No alert on pool saturation"]
    assert editor_client.post(_url(pm), again).status_code == 302
    pm.refresh_from_db()
    assert pm.version == 2
    assert _factors(pm) == [
        ("technical", "Pool capped at 50"),
        ("detection_gap", "No alert on pool saturation"),
    ]


def test_editor_rows_added_in_place_are_saved(editor_client, draft_postmortem):
    """As the page's script adds rows: the next index, and a higher total."""
    pm = draft_postmortem
    factories.HypothesisFactory(postmortem=pm, text="DNS was slow")
    fields = page_fields(editor_client, _url(pm))
    assert fields["hypotheses-TOTAL_FORMS"] == ["1"]
    fields["hypotheses-TOTAL_FORMS"] = ["2"]
    fields.update(
        {
            "hypotheses-1-track": ["mitigation"],
            "hypotheses-1-status": ["open"],
            "hypotheses-1-text": ["Rolling back the pool config helps"],
        }
    )
    fields["whys-0-text"] = ["Why did checkout fail?"]
    fields["whys-TOTAL_FORMS"] = ["2"]
    fields["whys-1-text"] = ["Why was the pool full?"]

    assert editor_client.post(_url(pm), fields).status_code == 302
    pm.refresh_from_db()
    assert pm.five_whys == ["Why did checkout fail?", "Why was the pool full?"]
    assert sorted(pm.hypotheses.values_list("track", "text")) == [
        ("diagnosis", "DNS was slow"),
        ("mitigation", "Rolling back the pool config helps"),
    ]


def test_editor_rows_remove_deletes_only_the_ticked_rows(
    editor_client, draft_postmortem
):
    pm = draft_postmortem
    pm.five_whys = ["First why", "Second why"]
    pm.save()
    factories.ContributingFactorFactory(postmortem=pm, description="Goes", position=0)
    factories.ContributingFactorFactory(postmortem=pm, description="Stays", position=1)
    factories.HypothesisFactory(postmortem=pm, text="Ruled out long ago")
    fields = page_fields(editor_client, _url(pm))
    for name in ("factors-0-DELETE", "hypotheses-0-DELETE", "whys-0-DELETE"):
        fields[name] = ["on"]

    assert editor_client.post(_url(pm), fields).status_code == 302
    pm.refresh_from_db()
    assert pm.version == 2
    assert [d for _, d in _factors(pm)] == ["Stays"]
    assert not pm.hypotheses.exists()
    assert pm.five_whys == ["Second why"]
    # The version history records the lists as they were saved.
    assert pm.history.first().list_parts["factors"] == ["Technical: Stays"]
    assert pm.history.first().list_parts["hypotheses"] == []


def test_editor_rows_reorder_by_position(editor_client, draft_postmortem):
    """GIVEN three factors, one drafted WHEN their positions are changed THEN
    they are saved in the new order, and moving a drafted factor is not editing
    it: its mark stays."""
    pm = draft_postmortem
    pm.five_whys = ["Why A", "Why B"]
    pm.save()
    for position, text in enumerate(("A", "B", "C")):
        factories.ContributingFactorFactory(
            postmortem=pm,
            description=text,
            position=position,
            drafted_from="log-scanner" if text == "C" else "",
        )
    fields = page_fields(editor_client, _url(pm))
    assert [fields[f"factors-{n}-ORDER"] for n in range(3)] == [["1"], ["2"], ["3"]]
    fields["factors-0-ORDER"], fields["factors-2-ORDER"] = ["3"], ["1"]
    fields["whys-0-ORDER"], fields["whys-1-ORDER"] = ["2"], ["1"]

    assert editor_client.post(_url(pm), fields).status_code == 302
    pm.refresh_from_db()
    assert [d for _, d in _factors(pm)] == ["C", "B", "A"]
    assert list(pm.contributing_factors.values_list("position", flat=True)) == [
        0,
        1,
        2,
    ]
    assert pm.contributing_factors.get(description="C").drafted_from == "log-scanner"
    assert pm.five_whys == ["Why B", "Why A"]
    # The editor shows the saved order.
    fields = page_fields(editor_client, _url(pm))
    assert fields["factors-0-description"] == ["C"]


def test_editor_rows_invalid_rows_show_their_errors_and_keep_the_typing(
    editor_client, draft_postmortem
):
    pm = draft_postmortem
    factories.ContributingFactorFactory(postmortem=pm, description="Pool capped")
    fields = page_fields(editor_client, _url(pm))
    fields["section_summary"] = ["A paragraph nobody wants to type twice."]
    fields["factors-TOTAL_FORMS"] = ["2"]
    fields["factors-1-kind"] = [""]
    fields["factors-1-description"] = ["Retries had no jitter"]
    fields["hypotheses-TOTAL_FORMS"] = ["2"]
    fields.update(
        {
            "hypotheses-0-track": ["diagnosis"],
            "hypotheses-0-status": ["ruled_out"],
            "hypotheses-0-text": [""],
            "hypotheses-0-test": ["dig answered in 2 ms"],
            "hypotheses-1-track": ["diagnosis"],
            "hypotheses-1-status": ["confirmed"],
            "hypotheses-1-text": ["Config push shrank the pool"],
            "hypotheses-1-settled_at": ["yesterday"],
        }
    )

    response = editor_client.post(_url(pm), fields)

    assert response.status_code == 400
    html = response.content.decode()
    assert "Not saved yet." in html
    first, second = _row_html(html, "factor-list", 0), _row_html(html, "factor-list", 1)
    assert "field-error" not in first
    assert "row-invalid" in second and "Kind: Pick one." in second
    assert "Retries had no jitter</textarea>" in second
    hypothesis = _row_html(html, "hypothesis-list", 0)
    assert "Write the hypothesis, or remove the row." in hypothesis
    assert "dig answered in 2 ms</textarea>" in hypothesis
    settled = _row_html(html, "hypothesis-list", 1)
    assert re.search(r"Settled at: Enter a valid date", settled)
    assert "Config push shrank the pool</textarea>" in settled
    assert "A paragraph nobody wants to type twice." in html
    pm.refresh_from_db()
    assert pm.version == 1
    assert _factors(pm) == [("technical", "Pool capped")]
    assert not pm.hypotheses.exists()


def test_editor_rows_a_blank_row_is_dropped_not_an_error(
    editor_client, draft_postmortem
):
    pm = draft_postmortem
    factories.ContributingFactorFactory(postmortem=pm, description="Cleared")
    fields = page_fields(editor_client, _url(pm))
    fields["factors-0-description"] = [""]  # emptied: removed, as the page says
    assert editor_client.post(_url(pm), fields).status_code == 302
    assert not pm.contributing_factors.exists()


def test_editor_rows_removed_meanwhile_give_the_conflict_page(
    draft_postmortem, editor, team
):
    """GIVEN two people editing version 1 WHEN the first removes a factor and
    saves THEN the second's save, still carrying that row, gets the 409 page
    (not a row error), and "save mine anyway" brings the row back as new."""
    factories.ContributingFactorFactory(postmortem=draft_postmortem, description="X")
    colleague = factories.UserFactory(username="col", role=Role.EDITOR, teams=[team])
    first, second = Client(), Client()
    first.force_login(editor)
    second.force_login(colleague)
    url = _url(draft_postmortem)
    theirs = page_fields(second, url)
    ours = page_fields(first, url)
    ours["factors-0-DELETE"] = ["on"]
    assert first.post(url, ours).status_code == 302

    theirs["factors-0-description"] = ["X, reworded"]
    response = second.post(url, theirs)
    assert response.status_code == 409
    html = response.content.decode()
    assert "X, reworded" in html

    # The page's "Save mine over theirs" form carries the rows back.
    button = html.index("Save mine over theirs")
    form = html[html.rindex("<form", 0, button) : button]
    hidden = re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form)
    mine: dict[str, list[str]] = {}
    for name, value in hidden:
        mine.setdefault(name, []).append(unescape(value))
    assert mine["version"] == ["2"]
    assert second.post(url, mine).status_code == 302
    assert _factors(draft_postmortem) == [("technical", "X, reworded")]


def test_editor_post_without_the_lists_leaves_them_as_they_are(
    editor_client, draft_postmortem
):
    """A hand-made post without a list's formset changes the other fields only,
    as the API does; a browser always sends every list."""
    pm = draft_postmortem
    pm.five_whys = ["Kept"]
    pm.save()
    factories.ContributingFactorFactory(postmortem=pm, description="Kept too")
    response = editor_client.post(
        _url(pm),
        {"version": 1, "section_summary": "Only this changes.", "reviewers": []},
    )
    assert response.status_code == 302
    pm.refresh_from_db()
    assert pm.section("summary") == "Only this changes."
    assert pm.five_whys == ["Kept"]
    assert [d for _, d in _factors(pm)] == ["Kept too"]


def test_editor_rows_forged_row_counts_are_an_error_not_a_crash(
    editor_client, draft_postmortem
):
    fields = page_fields(editor_client, _url(draft_postmortem))
    fields["factors-TOTAL_FORMS"] = ["many"]
    response = editor_client.post(_url(draft_postmortem), fields)
    assert response.status_code == 400
    fields["factors-TOTAL_FORMS"] = ["many"]
    response = editor_client.post(
        _url(draft_postmortem), {**fields, "add_row": "factors"}
    )
    assert response.status_code == 200
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.version == 1


def _editor_queries(client, pm) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(_url(pm)).status_code == 200
    return len(queries)


def test_editor_queries_do_not_grow_with_the_rows(editor_client, draft_postmortem):
    pm = draft_postmortem
    factories.ContributingFactorFactory(postmortem=pm)
    factories.HypothesisFactory(postmortem=pm)
    one_row = _editor_queries(editor_client, pm)
    for _ in range(9):
        factories.ContributingFactorFactory(postmortem=pm)
        factories.HypothesisFactory(postmortem=pm)
    assert _editor_queries(editor_client, pm) == one_row


def test_editor_rows_keep_who_settled_a_hypothesis_after_they_left(
    editor_client, draft_postmortem, team
):
    """GIVEN a hypothesis settled by someone whose account is now inactive
    WHEN the editor is opened and saved as it is THEN they are still named."""
    pm = draft_postmortem
    former = factories.UserFactory(
        username="former", first_name="Fran", last_name="Former", teams=[team]
    )
    hypothesis = factories.HypothesisFactory(
        postmortem=pm, status="ruled_out", settled_by=former
    )
    former.is_active = False
    former.save()
    fields = page_fields(editor_client, _url(pm))
    assert fields["hypotheses-0-settled_by"] == [str(former.pk)]
    assert editor_client.post(_url(pm), fields).status_code == 302
    hypothesis.refresh_from_db()
    assert hypothesis.settled_by == former
    # Someone inactive cannot be newly named, though.
    other = factories.HypothesisFactory(postmortem=pm, text="Another")
    fields = page_fields(editor_client, _url(pm))
    index = next(n for n in (0, 1) if fields[f"hypotheses-{n}-id"] == [str(other.pk)])
    fields[f"hypotheses-{index}-settled_by"] = [str(former.pk)]
    assert editor_client.post(_url(pm), fields).status_code == 400
