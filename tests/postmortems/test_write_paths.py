"""The API writes postmortems through the same services as the pages.

So an API edit is recorded like a page edit (who, why), is re-read by insights,
conflicts on a stale version, creates no version when nothing changed, and the
review workflow (submit, approve, send back, publish) has API verbs that call the
workflow services.
"""

import json

import pytest
from django.urls import reverse

from insights.models import InsightRun, RunKind
from postmortems.models import PostmortemStatus, WorkflowEvent
from tests import factories
from tests.postmortems.editor_form import page_fields
from tests.problems import field_errors

pytestmark = pytest.mark.django_db


def _patch(client, postmortem, body, **headers):
    return client.patch(
        f"/api/v1/postmortems/{postmortem.pk}/",
        json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def _post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def test_api_edit_is_recorded_and_reclassified_like_a_page_edit(
    client, editor, draft_postmortem, django_capture_on_commit_callbacks
):
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = _patch(
            client,
            draft_postmortem,
            {"sections": {"root_cause": "The TLS certificate expired."}},
        )
    assert response.status_code == 200, response.content
    latest = draft_postmortem.history.order_by("-history_id").first()
    assert latest.history_user == editor
    assert latest.history_change_reason == "Edited"
    # The other sections are kept: a body naming one section changes that one.
    assert latest.sections["summary"] == draft_postmortem.sections["summary"]
    assert latest.sections["root_cause"] == "The TLS certificate expired."
    assert InsightRun.objects.filter(
        kind=RunKind.SINGLE, postmortem_id=draft_postmortem.pk
    ).exists()


def test_api_edit_based_on_a_stale_version_is_a_412_and_writes_nothing(
    client, editor, draft_postmortem
):
    client.force_login(editor)
    assert _patch(client, draft_postmortem, {"five_whys": ["One"]}).status_code == 200
    stale = _patch(client, draft_postmortem, {"five_whys": ["Two"]}, if_match='"1"')
    assert stale.status_code == 412
    draft_postmortem.refresh_from_db()
    assert (draft_postmortem.version, draft_postmortem.five_whys) == (2, ["One"])


def _page_resave(client, postmortem):
    url = reverse("postmortems:postmortem_edit", args=[postmortem.pk])
    return client.post(url, page_fields(client, url))


def _api_resave(client, postmortem):
    return _patch(
        client,
        postmortem,
        {
            "sections": postmortem.sections,
            "five_whys": postmortem.five_whys,
            "reviewers": [user.username for user in postmortem.reviewers.all()],
        },
    )


@pytest.mark.parametrize("path", ["page", "api"])
def test_saving_without_a_change_creates_no_version(
    client, editor, draft_postmortem, path
):
    """GIVEN a draft with contributing factors and a settled hypothesis
    WHEN it is saved again exactly as it is (page editor or API)
    THEN the version and the history stay as they were."""
    factories.ContributingFactorFactory(postmortem=draft_postmortem)
    factories.HypothesisFactory(
        postmortem=draft_postmortem,
        status="ruled_out",
        settled_by=editor,
        settled_at=factories.BASE_TIME.replace(second=42),
    )
    client.force_login(editor)
    versions = draft_postmortem.history.count()

    response = (_page_resave if path == "page" else _api_resave)(
        client, draft_postmortem
    )

    assert response.status_code in (200, 302), response.content[:3000]
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.version == 1
    assert draft_postmortem.history.count() == versions
    if path == "page":
        page = client.get(response["Location"])
        assert "Nothing changed; still version 1." in page.content.decode()


def test_api_review_workflow_runs_the_workflow_services(
    client, editor, reviewer, draft_postmortem
):
    base = f"/api/v1/postmortems/{draft_postmortem.pk}"
    client.force_login(editor)
    response = _post(client, f"{base}/submit/", {"comment": "Ready."})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == PostmortemStatus.IN_REVIEW
    # The author cannot approve their own; the named reviewer can.
    assert _post(client, f"{base}/approve/").status_code == 403
    client.force_login(reviewer)
    response = _post(client, f"{base}/approve/", {"comment": "Thorough."})
    assert response.json()["status"] == PostmortemStatus.APPROVED
    client.force_login(editor)
    response = _post(client, f"{base}/publish/")
    assert response.json()["status"] == PostmortemStatus.PUBLISHED
    events = WorkflowEvent.objects.filter(postmortem=draft_postmortem)
    assert list(events.order_by("pk").values_list("to_status", "actor")) == [
        (PostmortemStatus.IN_REVIEW, editor.pk),
        (PostmortemStatus.APPROVED, reviewer.pk),
        (PostmortemStatus.PUBLISHED, editor.pk),
    ]


def test_api_submit_with_blame_needs_the_acknowledgement(
    client, editor, draft_postmortem
):
    draft_postmortem.sections["summary"] = "Bob forgot to renew the certificate."
    draft_postmortem.save()
    base = f"/api/v1/postmortems/{draft_postmortem.pk}"
    client.force_login(editor)
    response = _post(client, f"{base}/submit/")
    assert response.status_code == 400
    assert "acknowledge_blame" in field_errors(response)
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.status == PostmortemStatus.DRAFT
    response = _post(client, f"{base}/submit/", {"acknowledge_blame": True})
    assert response.status_code == 200
    assert response.json()["status"] == PostmortemStatus.IN_REVIEW


def test_api_send_back_needs_a_comment(client, reviewer, draft_postmortem):
    draft_postmortem.status = PostmortemStatus.IN_REVIEW
    draft_postmortem.save()
    client.force_login(reviewer)
    url = f"/api/v1/postmortems/{draft_postmortem.pk}/send-back/"
    response = _post(client, url, {"comment": " "})
    # A blank comment is the service's rule: 422 naming the field.
    assert response.status_code == 422
    assert "comment" in field_errors(response)
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.status == PostmortemStatus.IN_REVIEW
