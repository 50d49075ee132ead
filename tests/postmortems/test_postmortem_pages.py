"""The postmortem pages: document, editor, conflict (409), workflow, history, export."""

import re

import pytest
import yaml
from django.test import Client
from django.urls import reverse

from postmortems.markdown import render_markdown
from postmortems.models import (
    HypothesisStatus,
    HypothesisTrack,
    PostmortemStatus,
    Role,
    TimelineKind,
    WorkflowEvent,
)
from postmortems.services.postmortems import (
    postmortem_approve,
    postmortem_publish,
    postmortem_submit,
)
from tests import factories
from tests.postmortems.editor_form import formset

pytestmark = pytest.mark.django_db


def _url(name, pm, **kwargs):
    return reverse(f"postmortems:{name}", args=[pm.pk])


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _editor_payload(pm, **overrides) -> dict:
    """The editor form as a browser would post it for ``pm``."""
    data = {
        "version": pm.version,
        "impact_users_affected": "",
        "impact_revenue_usd": "",
        "impact_error_budget_pct": "",
        "impact_regions": "",
        "reviewers": [r.pk for r in pm.reviewers.all()],
    }
    for section in pm.template.sections:
        data[f"section_{section['key']}"] = pm.section(section["key"])
    data.update(overrides)
    return data


def _published(pm, author, reviewer):
    pm.sections = {"summary": "Checkout returned 502s."}
    pm.save()
    postmortem_submit(postmortem=pm, actor=author)
    postmortem_approve(postmortem=pm, actor=reviewer)
    postmortem_publish(postmortem=pm, actor=author)
    return pm


# --- the document page -------------------------------------------------------------


def test_postmortem_detail_renders_sections_as_markdown(
    editor_client, draft_postmortem
):
    draft_postmortem.sections = {"summary": "**Checkout** failed.\n\n- one\n- two"}
    draft_postmortem.save()
    html = editor_client.get(
        _url("postmortem_detail", draft_postmortem)
    ).content.decode()
    assert "<strong>Checkout</strong> failed." in html
    assert "<li>one</li>" in html
    # Sections the template has but nobody wrote yet say so.
    assert "Not written yet." in html


def test_postmortem_detail_of_another_teams_draft_is_404(
    client, draft_postmortem, other_team
):
    outsider = factories.UserFactory(
        username="out", role=Role.EDITOR, teams=[other_team]
    )
    client.force_login(outsider)
    for name in ("postmortem_detail", "postmortem_edit", "postmortem_history",
                 "postmortem_export_markdown", "postmortem_print"):  # fmt: skip
        assert client.get(_url(name, draft_postmortem)).status_code == 404, name
    response = client.post(_url("comment_create", draft_postmortem), {"body": "hi"})
    assert response.status_code == 404


def test_postmortem_detail_published_is_readable_by_other_teams(
    client, draft_postmortem, editor, reviewer, other_team
):
    _published(draft_postmortem, editor, reviewer)
    outsider = factories.UserFactory(
        username="out", role=Role.VIEWER, teams=[other_team]
    )
    client.force_login(outsider)
    response = client.get(_url("postmortem_detail", draft_postmortem))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Checkout returned 502s." in html
    assert ">Edit<" not in html and "Post comment" not in html


def test_postmortem_detail_shows_the_document_parts(editor_client, draft_postmortem):
    pm = draft_postmortem
    pm.five_whys = ["Why did checkout fail?", "Why was the pool exhausted?"]
    pm.impact_users_affected = 12000
    pm.impact_regions = ["eu-west-1"]
    pm.save()
    factories.ContributingFactorFactory(postmortem=pm, description="No load test")
    factories.HypothesisFactory(
        postmortem=pm,
        track=HypothesisTrack.DIAGNOSIS,
        text="DNS was slow",
        status=HypothesisStatus.RULED_OUT,
        test="dig showed 2 ms answers",
    )
    factories.HypothesisFactory(
        postmortem=pm, track=HypothesisTrack.MITIGATION, text="Raise the pool size"
    )
    factories.TimelineEntryFactory(incident=pm.incident, text="HighErrorRate fired")
    factories.ActionItemFactory(postmortem=pm, title="Alert on pool saturation")
    html = editor_client.get(_url("postmortem_detail", pm)).content.decode()
    for expected in (
        "Why was the pool exhausted?",
        "12,000",
        "eu-west-1",
        "Checkout",  # blast radius: the incident's service
        "No load test",
        "DNS was slow",  # ruled out, still shown
        "Ruled out",
        "dig showed 2 ms answers",
        "Mitigation track",
        "HighErrorRate fired",
        "Alert on pool saturation",
        'id="action-items-panel"',
    ):
        assert expected in html, expected


def test_postmortem_detail_empty_parts_have_useful_empty_states(
    editor_client, draft_postmortem
):
    html = editor_client.get(
        _url("postmortem_detail", draft_postmortem)
    ).content.decode()
    for expected in (
        "No whys yet.",
        "No contributing factors yet.",
        "No hypotheses recorded.",
        "No timeline entries yet.",
        "No action items yet.",
        "No comments yet.",
    ):
        assert expected in html, expected


def test_postmortem_detail_buttons_follow_permissions(
    client, draft_postmortem, editor, reviewer, viewer
):
    detail = _url("postmortem_detail", draft_postmortem)
    client.force_login(editor)
    html = client.get(detail).content.decode()
    assert ">Edit<" in html and "Submit for review" in html and ">Approve<" not in html
    client.force_login(viewer)
    html = client.get(detail).content.decode()
    assert ">Edit<" not in html and "Submit for review" not in html
    draft_postmortem.sections = {"summary": "ok"}
    draft_postmortem.save()
    postmortem_submit(postmortem=draft_postmortem, actor=editor)
    client.force_login(reviewer)
    html = client.get(detail).content.decode()
    assert ">Approve<" in html and "Send back to draft" in html
    client.force_login(editor)
    assert ">Approve<" not in client.get(detail).content.decode()


def test_postmortem_detail_shows_workflow_history_with_who(
    editor_client, draft_postmortem, editor, reviewer
):
    _published(draft_postmortem, editor, reviewer)
    html = editor_client.get(
        _url("postmortem_detail", draft_postmortem)
    ).content.decode()
    history = html[html.index('id="workflow-history"') :]
    assert (
        history.index("In review")
        < history.index("Approved")
        < history.index("Published")
    )
    assert reviewer.get_full_name() in history


def test_postmortem_detail_query_count_is_bounded(
    editor_client, draft_postmortem, django_assert_max_num_queries
):
    pm = draft_postmortem
    for _ in range(5):
        factories.ContributingFactorFactory(postmortem=pm)
        factories.HypothesisFactory(postmortem=pm, settled_by=pm.author)
        factories.TimelineEntryFactory(incident=pm.incident, author=pm.author)
        factories.ActionItemFactory(postmortem=pm, team=pm.incident.team)
        root = factories.CommentFactory(postmortem=pm, section="summary")
        factories.CommentFactory(postmortem=pm, parent=root, section="summary")
    # The document, its panels, and insights' class and similar incidents.
    with django_assert_max_num_queries(22):
        response = editor_client.get(_url("postmortem_detail", pm))
    assert response.status_code == 200


# --- starting a postmortem ---------------------------------------------------------


def test_postmortem_new_offers_the_templates_and_only_reviewers(
    editor_client, team, editor, reviewer, viewer
):
    incident = factories.IncidentFactory(team=team)
    response = editor_client.get(
        reverse("postmortems:postmortem_create", args=[incident.pk])
    )
    html = response.content.decode()
    for name in ("Google SRE", "Reason for Outage (RFO)", "Configuration change"):
        assert name in html
    reviewers = response.context["form"].fields["reviewers"].queryset
    assert list(reviewers) == [reviewer]


def test_postmortem_new_creates_the_draft_and_opens_the_editor(
    editor_client, team, editor, reviewer
):
    incident = factories.IncidentFactory(team=team)
    rfo = factories.PostmortemTemplate.objects.get(slug="rfo")
    response = editor_client.post(
        reverse("postmortems:postmortem_create", args=[incident.pk]),
        {"template": rfo.pk, "reviewers": [reviewer.pk]},
    )
    pm = incident.postmortem
    assert response.status_code == 302
    assert response["Location"] == _url("postmortem_edit", pm)
    assert (pm.template, pm.author, pm.status) == (rfo, editor, PostmortemStatus.DRAFT)
    assert list(pm.reviewers.all()) == [reviewer]


def test_postmortem_new_when_one_exists_goes_to_it(editor_client, draft_postmortem):
    url = reverse("postmortems:postmortem_create", args=[draft_postmortem.incident.pk])
    response = editor_client.get(url)
    assert response.status_code == 302
    assert response["Location"] == draft_postmortem.get_absolute_url()


def test_postmortem_new_is_forbidden_to_a_viewer(client, team, viewer):
    incident = factories.IncidentFactory(team=team)
    client.force_login(viewer)
    url = reverse("postmortems:postmortem_create", args=[incident.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"template": 1}).status_code == 403


# --- the editor -------------------------------------------------------------------


def test_postmortem_edit_has_a_textarea_per_section_with_live_preview_and_check(
    editor_client, draft_postmortem
):
    html = editor_client.get(_url("postmortem_edit", draft_postmortem)).content.decode()
    for section in draft_postmortem.template.sections:
        assert f'name="section_{section["key"]}"' in html
        assert f'id="preview-{section["key"]}"' in html
        assert f'id="blame-{section["key"]}"' in html
    assert html.count(f'hx-post="{reverse("postmortems:markdown_preview")}"') == 10
    assert html.count(f'hx-post="{reverse("postmortems:blame_check")}"') == 10
    assert 'name="version" value="1"' in html
    # The saved text is already previewed and checked on the first render.
    assert "Checkout returned errors for 40 minutes." in html


def test_postmortem_edit_shows_existing_blame_hits_beside_the_section(
    editor_client, draft_postmortem
):
    draft_postmortem.sections = {"root_cause": "Root cause: human error."}
    draft_postmortem.save()
    html = editor_client.get(_url("postmortem_edit", draft_postmortem)).content.decode()
    box = html[html.index('id="blame-root_cause"') :]
    box = box[: box.index("</section>")]
    assert "<q>human error</q>" in box


def test_postmortem_edit_saves_sections_impact_and_lists(
    editor_client, draft_postmortem, reviewer
):
    pm = draft_postmortem
    data = _editor_payload(
        pm,
        section_summary="**Checkout** returned 502s.",
        impact_users_affected="1200",
        impact_revenue_usd="5400.50",
        impact_error_budget_pct="12.5",
        impact_regions="eu-west-1, us-east-1",
        **formset(
            "whys",
            [{"text": "Why 502s?"}, {"text": ""}, {"text": "Why was the pool small?"}],
        ),
        **formset(
            "factors",
            [
                {"kind": "technical", "description": "Pool limit 50"},
                {"kind": "detection_gap", "description": ""},
            ],
        ),
        **formset(
            "hypotheses",
            [
                {
                    "track": "diagnosis",
                    "status": "ruled_out",
                    "text": "DNS latency",
                    "test": "dig answered in 2 ms",
                    "settled_by": str(reviewer.pk),
                    "settled_at": "2026-05-01T10:30",
                }
            ],
        ),
    )
    response = editor_client.post(_url("postmortem_edit", pm), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == pm.get_absolute_url()
    pm.refresh_from_db()
    assert pm.version == 2
    assert pm.section("summary") == "**Checkout** returned 502s."
    assert (pm.impact_users_affected, str(pm.impact_revenue_usd)) == (1200, "5400.50")
    assert pm.impact_regions == ["eu-west-1", "us-east-1"]
    assert pm.five_whys == ["Why 502s?", "Why was the pool small?"]
    assert [f.description for f in pm.contributing_factors.all()] == ["Pool limit 50"]
    [hyp] = pm.hypotheses.all()
    assert (hyp.status, hyp.settled_by, hyp.settled_at.hour) == (
        "ruled_out",
        reviewer,
        10,
    )


def test_postmortem_edit_save_and_continue_stays_in_the_editor(
    editor_client, draft_postmortem
):
    data = _editor_payload(draft_postmortem, section_summary="x", **{"continue": "1"})
    response = editor_client.post(_url("postmortem_edit", draft_postmortem), data)
    assert response["Location"] == _url("postmortem_edit", draft_postmortem)


def test_postmortem_edit_invalid_input_keeps_the_text(editor_client, draft_postmortem):
    data = _editor_payload(
        draft_postmortem,
        section_summary="My long unsaved paragraph.",
        impact_users_affected="lots",
    )
    response = editor_client.post(_url("postmortem_edit", draft_postmortem), data)
    assert response.status_code == 400
    assert "My long unsaved paragraph." in response.content.decode()
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.version == 1


def test_postmortem_edit_of_an_approved_postmortem_is_read_only(
    client, draft_postmortem, editor, reviewer
):
    draft_postmortem.sections = {"summary": "ok"}
    draft_postmortem.save()
    postmortem_submit(postmortem=draft_postmortem, actor=editor)
    postmortem_approve(postmortem=draft_postmortem, actor=reviewer)
    client.force_login(editor)
    response = client.get(_url("postmortem_edit", draft_postmortem))
    assert response.status_code == 302
    assert response["Location"] == draft_postmortem.get_absolute_url()


def test_postmortem_edit_is_forbidden_to_a_team_viewer(
    client, draft_postmortem, viewer
):
    client.force_login(viewer)
    assert client.get(_url("postmortem_edit", draft_postmortem)).status_code == 403
    response = client.post(_url("postmortem_edit", draft_postmortem), {"version": 1})
    assert response.status_code == 403


# --- concurrent edits: 409 ---------------------------------------------------------


def test_postmortem_edit_second_save_gets_a_409_with_both_versions(
    draft_postmortem, editor, team
):
    """GIVEN two people open version 1 WHEN both save THEN the second gets a 409
    that shows their text and the saved text side by side, and nothing is lost."""
    colleague = factories.UserFactory(
        username="colleague", role=Role.EDITOR, teams=[team]
    )
    first, second = _client_for(editor), _client_for(colleague)
    url = _url("postmortem_edit", draft_postmortem)
    assert first.get(url).status_code == 200
    assert second.get(url).status_code == 200

    ours = _editor_payload(draft_postmortem, section_summary="Saved first: pool at 50.")
    assert first.post(url, ours).status_code == 302

    theirs = _editor_payload(
        draft_postmortem, section_summary="Saved second: a retry storm.", why=["Why?"]
    )
    response = second.post(url, theirs)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Saved first: pool at 50." in html  # the saved version
    assert "Saved second: a retry storm." in html  # the writer's own, to copy
    assert "Copy your text" in html and 'data-copy="yours-summary"' in html
    assert 'name="version" value="2"' in html  # "save mine over theirs" is current
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.section("summary") == "Saved first: pool at 50."

    # Replacing theirs is explicit, and theirs stays in the history.
    reposted = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', html))
    assert reposted["section_summary"] == "Saved second: a retry storm."
    overwrite = {**theirs, "version": 2}
    assert second.post(url, overwrite).status_code == 302
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.section("summary") == "Saved second: a retry storm."
    texts = [v.sections.get("summary") for v in draft_postmortem.history.all()]
    assert "Saved first: pool at 50." in texts


# --- preview and blameless check endpoints ----------------------------------------


def test_markdown_preview_uses_the_page_renderer(editor_client):
    text = "# Title\n\n**bold** and <script>alert(1)</script> [x](javascript:alert(1))"
    response = editor_client.post(
        reverse("postmortems:markdown_preview"),
        {"field": "section_summary", "section_summary": text},
    )
    html = response.content.decode()
    assert render_markdown(text) in html
    assert "<strong>bold</strong>" in html
    assert "<script" not in html and 'href="javascript:' not in html


def test_blame_check_lists_hits_with_a_suggestion(editor_client, editor):
    response = editor_client.post(
        reverse("postmortems:blame_check"),
        {
            "field": "section_root_cause",
            "section_root_cause": "Root cause: human error.",
        },
    )
    html = response.content.decode()
    assert "<q>human error</q>" in html and "What in the system" in html
    # Known people are checked by name.
    response = editor_client.post(
        reverse("postmortems:blame_check"),
        {"text": f"{editor.first_name} forgot to renew the certificate."},
    )
    assert "<q>forgot to</q>" in response.content.decode()


def test_blame_check_neutral_text_says_so(editor_client):
    response = editor_client.post(
        reverse("postmortems:blame_check"),
        {"text": "The job should complete in five minutes."},
    )
    assert "No blaming language found." in response.content.decode()


def test_preview_and_check_do_not_answer_get(editor_client):
    assert editor_client.get(reverse("postmortems:markdown_preview")).status_code == 405
    assert editor_client.get(reverse("postmortems:blame_check")).status_code == 405


# --- workflow through the pages ----------------------------------------------------


def test_submit_with_hits_and_no_acknowledgement_stays_a_draft(
    editor_client, draft_postmortem
):
    draft_postmortem.sections = {"root_cause": "It was Bob's mistake."}
    draft_postmortem.save()
    page = editor_client.get(
        _url("postmortem_detail", draft_postmortem)
    ).content.decode()
    assert "<q>Bob&#x27;s mistake</q>" in page and 'name="acknowledge_blame"' in page
    response = editor_client.post(
        _url("postmortem_submit", draft_postmortem), follow=True
    )
    assert "tick the box" in response.content.decode()
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.status == PostmortemStatus.DRAFT


def test_submit_with_acknowledgement_is_recorded(editor_client, draft_postmortem):
    draft_postmortem.sections = {"root_cause": "It was Bob's mistake."}
    draft_postmortem.save()
    response = editor_client.post(
        _url("postmortem_submit", draft_postmortem), {"acknowledge_blame": "on"}
    )
    assert response.status_code == 302
    event = WorkflowEvent.objects.get()
    assert event.blame_acknowledged and event.blame_hits[0]["text"] == "Bob's mistake"
    page = editor_client.get(
        _url("postmortem_detail", draft_postmortem)
    ).content.decode()
    assert "1 acknowledged blameless-language warning" in page


def test_approve_by_the_author_through_the_page_is_forbidden(
    editor_client, draft_postmortem, editor
):
    draft_postmortem.sections = {"summary": "ok"}
    draft_postmortem.save()
    postmortem_submit(postmortem=draft_postmortem, actor=editor)
    response = editor_client.post(_url("postmortem_approve", draft_postmortem))
    assert response.status_code == 403
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.status == PostmortemStatus.IN_REVIEW


def test_send_back_through_the_page_needs_a_comment(
    client, draft_postmortem, editor, reviewer
):
    draft_postmortem.sections = {"summary": "ok"}
    draft_postmortem.save()
    postmortem_submit(postmortem=draft_postmortem, actor=editor)
    client.force_login(reviewer)
    url = _url("postmortem_send_back", draft_postmortem)
    response = client.post(url, {"comment": " "}, follow=True)
    assert "Say what needs to change." in response.content.decode()
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.status == PostmortemStatus.IN_REVIEW
    client.post(url, {"comment": "Add the pool graph."})
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.status == PostmortemStatus.DRAFT
    page = client.get(_url("postmortem_detail", draft_postmortem)).content.decode()
    assert "Add the pool graph." in page


def test_workflow_urls_change_nothing_on_get(editor_client, draft_postmortem):
    for name in ("postmortem_submit", "postmortem_approve", "postmortem_send_back",
                 "postmortem_publish", "comment_create"):  # fmt: skip
        assert editor_client.get(_url(name, draft_postmortem)).status_code == 405
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.status == PostmortemStatus.DRAFT


def test_workflow_posts_need_a_csrf_token(draft_postmortem, editor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    draft_postmortem.sections = {"summary": "ok"}
    draft_postmortem.save()
    for name in ("postmortem_submit", "postmortem_edit", "comment_create"):
        assert client.post(_url(name, draft_postmortem), {}).status_code == 403
    assert client.post(reverse("postmortems:markdown_preview"), {}).status_code == 403
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.status == PostmortemStatus.DRAFT


# --- comments ---------------------------------------------------------------------


def test_comment_thread_by_section_is_shown_with_replies(
    client, draft_postmortem, editor, reviewer
):
    client.force_login(reviewer)
    url = _url("comment_create", draft_postmortem)
    response = client.post(url, {"section": "trigger", "body": "Which **campaign**?"})
    assert response.status_code == 302
    root = draft_postmortem.comments.get()
    assert response["Location"].endswith(f"#comment-{root.pk}")
    client.force_login(editor)
    client.post(url, {"parent": root.pk, "body": "The spring sale."})
    html = client.get(_url("postmortem_detail", draft_postmortem)).content.decode()
    thread = html[html.index('id="comments-trigger"') :]
    assert "Which <strong>campaign</strong>?" in thread
    assert thread.index("Which") < thread.index("The spring sale.")
    assert 'href="#comments-trigger">2 comments<' in html


def test_comments_are_hidden_from_people_who_cannot_see_the_draft(
    client, draft_postmortem, other_team
):
    factories.CommentFactory(postmortem=draft_postmortem, body="Secret detail")
    outsider = factories.UserFactory(
        username="o", role=Role.REVIEWER, teams=[other_team]
    )
    client.force_login(outsider)
    response = client.get(_url("postmortem_detail", draft_postmortem))
    assert response.status_code == 404
    assert b"Secret detail" not in response.content


def test_comments_are_shown_to_the_author_and_a_named_reviewer_of_another_team(
    client, draft_postmortem, other_team
):
    factories.CommentFactory(postmortem=draft_postmortem, body="Check the pool graph")
    guest = factories.UserFactory(username="g", role=Role.REVIEWER, teams=[other_team])
    draft_postmortem.reviewers.add(guest)
    for person in (draft_postmortem.author, guest):
        client.force_login(person)
        html = client.get(_url("postmortem_detail", draft_postmortem)).content.decode()
        assert "Check the pool graph" in html and "Post comment" in html


# --- history ----------------------------------------------------------------------


def test_history_lists_every_version_and_diffs_words(editor_client, draft_postmortem):
    url = _url("postmortem_edit", draft_postmortem)
    editor_client.post(
        url, _editor_payload(draft_postmortem, section_summary="The pool was small.")
    )
    draft_postmortem.refresh_from_db()
    editor_client.post(
        url, _editor_payload(draft_postmortem, section_summary="The pool was tiny.")
    )
    response = editor_client.get(_url("postmortem_history", draft_postmortem))
    versions = response.context["versions"]
    assert [v.version for v in versions] == [3, 2, 1]
    assert all(v.history_user == draft_postmortem.author for v in versions[:2])
    html = response.content.decode()
    assert '<del class="diff-del">small</del><ins class="diff-add">tiny</ins>' in html

    # Any two versions: from v1 to v3.
    first, last = versions[-1], versions[0]
    response = editor_client.get(
        _url("postmortem_history", draft_postmortem),
        {"a": first.history_id, "b": last.history_id},
    )
    html = response.content.decode()
    assert "Changes from v1 to v3" in html
    assert re.search(r'<ins class="diff-add">[^<]*tiny[^<]*</ins>', html)


def test_history_diff_escapes_html(editor_client, draft_postmortem):
    payload = "<img src=x onerror=alert(1)>"
    editor_client.post(
        _url("postmortem_edit", draft_postmortem),
        _editor_payload(draft_postmortem, section_summary=payload),
    )
    html = editor_client.get(
        _url("postmortem_history", draft_postmortem)
    ).content.decode()
    assert "<img" not in html and "&lt;img" in html


def test_history_of_a_new_postmortem_has_a_useful_empty_state(
    editor_client, team, editor
):
    pm = factories.PostmortemFactory(incident__team=team, author=editor)
    html = editor_client.get(_url("postmortem_history", pm)).content.decode()
    assert "Only one version so far." in html


# --- export and print ------------------------------------------------------------


def test_export_markdown_has_front_matter_and_the_document(
    editor_client, draft_postmortem
):
    pm = draft_postmortem
    pm.five_whys = ["Why did checkout fail?"]
    pm.impact_users_affected = 1200
    pm.save()
    factories.ActionItemFactory(
        postmortem=pm, title="Alert on saturation", status="done"
    )
    factories.TimelineEntryFactory(incident=pm.incident, kind=TimelineKind.ALERT)
    response = editor_client.get(_url("postmortem_export_markdown", pm))
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="INC-{pm.incident.pk}-'
    )
    text = response.content.decode()
    _, header, body = text.split("---\n", 2)
    meta = yaml.safe_load(header)
    assert meta["title"] == pm.incident.title
    assert meta["incident"] == f"INC-{pm.incident.pk}"
    assert meta["severity"] == "SEV2"
    assert meta["services"] == ["Checkout"]
    assert meta["team"] == "Payments"
    assert meta["status"] == "draft"
    assert meta["started"] == "2026-05-01T10:00:00+00:00"
    assert meta["resolved"] == "2026-05-01T12:00:00+00:00"
    assert meta["detected"] and meta["mitigated"]
    assert meta["root_cause_class"] is None
    assert meta["impact"]["users_affected"] == 1200
    [item] = meta["action_items"]
    assert (item["title"], item["status"]) == ("Alert on saturation", "done")
    assert "## Summary\n\nCheckout returned errors for 40 minutes." in body
    assert "1. Why did checkout fail?" in body
    assert "- [x] Alert on saturation (done, P1" in body


def test_print_page_has_the_document_and_no_navigation(editor_client, draft_postmortem):
    html = editor_client.get(
        _url("postmortem_print", draft_postmortem)
    ).content.decode()
    assert "Checkout returned errors for 40 minutes." in html
    assert 'class="topbar"' not in html and "Sign out" not in html
    assert "css/postmortem.css" in html and "@media print" not in html
    assert "Post comment" not in html


# --- the incident page's postmortem card ------------------------------------------


def _render_card(user, incident) -> str:
    from django.template import Context, Template
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    template = Template(
        "{% load postmortem_extras %}{% incident_postmortem_card incident %}"
    )
    return template.render(Context({"request": request, "incident": incident}))


def test_incident_postmortem_card_offers_to_write_one_to_team_editors(
    team, editor, viewer
):
    incident = factories.IncidentFactory(team=team)
    new_url = reverse("postmortems:postmortem_create", args=[incident.pk])
    assert f'href="{new_url}"' in _render_card(editor, incident)
    html = _render_card(viewer, incident)
    assert new_url not in html and "No postmortem yet." in html


def test_incident_postmortem_card_links_the_postmortem_or_hides_a_private_draft(
    draft_postmortem, editor, other_team
):
    html = _render_card(editor, draft_postmortem.incident)
    assert draft_postmortem.get_absolute_url() in html and "Draft" in html
    outsider = factories.UserFactory(username="o", role=Role.EDITOR, teams=[other_team])
    html = _render_card(outsider, draft_postmortem.incident)
    assert draft_postmortem.get_absolute_url() not in html


def test_postmortem_detail_lists_similar_incidents_and_its_class(
    editor_client, draft_postmortem, team
):
    """GIVEN insights found a published postmortem similar to this one
    WHEN the postmortem page is opened THEN it names that incident and its score."""
    from insights.models import SimilarPostmortem

    similar = factories.PostmortemFactory(
        incident=factories.IncidentFactory(team=team, title="Pool exhausted again"),
        status=PostmortemStatus.PUBLISHED,
    )
    SimilarPostmortem.objects.create(
        postmortem=draft_postmortem, similar=similar, score=0.82, rank=1
    )
    html = editor_client.get(_url("postmortem_detail", draft_postmortem)).content
    assert b"Pool exhausted again" in html
    assert b"0.82" in html


def _list_rows(
    factor: str, hypothesis_status: str, *, factor_id="", hypothesis_id=""
) -> dict:
    saved = 1 if factor_id else 0
    return {
        **formset(
            "factors",
            [{"id": factor_id, "kind": "technical", "description": factor}],
            initial=saved,
        ),
        **formset(
            "hypotheses",
            [
                {
                    "id": hypothesis_id,
                    "track": "diagnosis",
                    "status": hypothesis_status,
                    "text": "The release leaks connections",
                }
            ],
            initial=saved,
        ),
    }


def test_history_diffs_contributing_factors_and_the_investigation_log(
    editor_client, draft_postmortem
):
    """GIVEN a version with a factor and an open hypothesis
    WHEN the next save rewords the factor and rules the hypothesis out
    THEN the diff between them shows both changes, word by word."""
    url = _url("postmortem_edit", draft_postmortem)
    editor_client.post(
        url,
        {
            **_editor_payload(draft_postmortem),
            **_list_rows("Pool size was never load-tested", "open"),
        },
    )
    draft_postmortem.refresh_from_db()
    factor = draft_postmortem.contributing_factors.get()
    hypothesis = draft_postmortem.hypotheses.get()
    rows = _list_rows(
        "Pool size was never soak-tested",
        "ruled_out",
        factor_id=factor.pk,
        hypothesis_id=hypothesis.pk,
    )
    editor_client.post(url, {**_editor_payload(draft_postmortem), **rows})

    response = editor_client.get(_url("postmortem_history", draft_postmortem))
    diffs = {diff.key: diff for diff in response.context["diffs"]}
    assert ("del", "load") in diffs["factors"].ops
    assert ("add", "soak") in diffs["factors"].ops
    assert diffs["hypotheses"].old == (
        "[Diagnosis · Open] The release leaks connections"
    )
    assert "Ruled out" in diffs["hypotheses"].new
    html = response.content.decode()
    assert "Contributing factors" in html and "Investigation log" in html

    # The first version predates the lists being recorded: they are left out of
    # a diff from it rather than shown as all new.
    versions = response.context["versions"]
    response = editor_client.get(
        _url("postmortem_history", draft_postmortem),
        {"a": versions[-1].history_id, "b": versions[0].history_id},
    )
    keys = {diff.key for diff in response.context["diffs"]}
    assert "factors" not in keys and "hypotheses" not in keys
