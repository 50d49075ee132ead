"""Postmortem services: creation, optimistic locking, review workflow, comments."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from postmortems.models import (
    ContributingFactorKind,
    HypothesisStatus,
    HypothesisTrack,
    PostmortemStatus,
    Role,
    WorkflowEvent,
)
from postmortems.services.postmortems import (
    BlameNotAcknowledged,
    FactorInput,
    HypothesisInput,
    PostmortemConflict,
    PostmortemContent,
    comment_create,
    postmortem_approve,
    postmortem_create,
    postmortem_publish,
    postmortem_send_back,
    postmortem_submit,
    postmortem_update,
)
from tests import factories

pytestmark = pytest.mark.django_db

BLAMING = "Root cause: human error. The engineer was careless."


def _content(**overrides) -> PostmortemContent:
    values = {"sections": {"summary": "Checkout returned 502s for 40 minutes."}}
    values.update(overrides)
    return PostmortemContent(**values)


def _submit_clean(postmortem, actor):
    postmortem.sections = {"summary": "Checkout returned 502s."}
    postmortem.save()
    return postmortem_submit(postmortem=postmortem, actor=actor)


# --- create -------------------------------------------------------------------


def test_postmortem_create_starts_a_draft_by_the_author(team, editor, reviewer):
    incident = factories.IncidentFactory(team=team)
    template = factories.google_sre_template()
    postmortem = postmortem_create(
        incident=incident, template=template, author=editor, reviewers=[reviewer]
    )
    assert postmortem.status == PostmortemStatus.DRAFT
    assert postmortem.author == editor
    assert list(postmortem.reviewers.all()) == [reviewer]
    assert set(postmortem.sections) == set(template.section_keys)
    [version] = postmortem.history.all()
    assert version.history_user == editor


def test_postmortem_create_refuses_a_viewer(team, viewer):
    incident = factories.IncidentFactory(team=team)
    with pytest.raises(PermissionDenied):
        postmortem_create(
            incident=incident,
            template=factories.google_sre_template(),
            author=viewer,
        )


def test_postmortem_create_refuses_an_editor_of_another_team(other_team, editor):
    incident = factories.IncidentFactory(team=other_team)
    with pytest.raises(PermissionDenied):
        postmortem_create(
            incident=incident, template=factories.google_sre_template(), author=editor
        )


def test_postmortem_create_refuses_a_second_postmortem(draft_postmortem, editor):
    with pytest.raises(ValidationError):
        postmortem_create(
            incident=draft_postmortem.incident,
            template=factories.google_sre_template(),
            author=editor,
        )


def test_postmortem_create_refuses_reviewers_who_cannot_review(team, editor, viewer):
    incident = factories.IncidentFactory(team=team)
    for bad in (editor, viewer):
        with pytest.raises(ValidationError):
            postmortem_create(
                incident=incident,
                template=factories.google_sre_template(),
                author=editor,
                reviewers=[bad],
            )


# --- update -------------------------------------------------------------------


def test_postmortem_update_saves_a_new_version_with_its_author(
    draft_postmortem, editor
):
    saved = postmortem_update(
        postmortem=draft_postmortem,
        actor=editor,
        base_version=1,
        content=_content(five_whys=["Why 502s?", " ", "Pool exhausted"]),
    )
    assert saved.version == 2
    assert saved.section("summary") == "Checkout returned 502s for 40 minutes."
    assert saved.five_whys == ["Why 502s?", "Pool exhausted"]
    latest = saved.history.first()
    assert (latest.version, latest.history_user, latest.history_change_reason) == (
        2,
        editor,
        "Edited",
    )


def test_postmortem_update_on_a_stale_version_raises_conflict_and_writes_nothing(
    draft_postmortem, editor
):
    """GIVEN two people opened version 1 WHEN both save THEN the second conflicts."""
    postmortem_update(
        postmortem=draft_postmortem,
        actor=editor,
        base_version=1,
        content=_content(sections={"summary": "First writer's text."}),
    )
    with pytest.raises(PostmortemConflict) as caught:
        postmortem_update(
            postmortem=draft_postmortem,
            actor=editor,
            base_version=1,
            content=_content(sections={"summary": "Second writer's text."}),
        )
    assert caught.value.current.version == 2
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.section("summary") == "First writer's text."
    assert draft_postmortem.history.count() == 2


def test_postmortem_update_adds_changes_and_removes_list_rows(draft_postmortem, editor):
    kept = factories.ContributingFactorFactory(postmortem=draft_postmortem)
    gone = factories.ContributingFactorFactory(postmortem=draft_postmortem)
    hyp = factories.HypothesisFactory(postmortem=draft_postmortem)
    saved = postmortem_update(
        postmortem=draft_postmortem,
        actor=editor,
        base_version=1,
        content=_content(
            contributing_factors=[
                FactorInput(id=kept.pk, kind=ContributingFactorKind.PROCESS,
                            description="No load test before the campaign"),
                FactorInput(kind=ContributingFactorKind.DETECTION_GAP,
                            description="No alert on pool saturation"),
            ],
            hypotheses=[
                HypothesisInput(id=hyp.pk, track=HypothesisTrack.DIAGNOSIS,
                                text=hyp.text, status=HypothesisStatus.RULED_OUT,
                                test="Rolled one pod back; still saturated"),
            ],
        ),
    )  # fmt: skip
    factors = list(saved.contributing_factors.all())
    assert [(f.pk == kept.pk, f.kind) for f in factors] == [
        (True, ContributingFactorKind.PROCESS),
        (False, ContributingFactorKind.DETECTION_GAP),
    ]
    assert not saved.contributing_factors.filter(pk=gone.pk).exists()
    hyp.refresh_from_db()
    # Settling a hypothesis records who and when if the writer did not say.
    assert hyp.status == HypothesisStatus.RULED_OUT
    assert hyp.settled_by == editor and hyp.settled_at is not None


def test_postmortem_update_refuses_a_viewer(draft_postmortem, viewer):
    with pytest.raises(PermissionDenied):
        postmortem_update(
            postmortem=draft_postmortem,
            actor=viewer,
            base_version=1,
            content=_content(),
        )


# --- submit and the blameless acknowledgement ----------------------------------


def test_postmortem_submit_needs_a_named_reviewer(team, editor):
    postmortem = factories.PostmortemFactory(incident__team=team, author=editor)
    with pytest.raises(ValidationError):
        _submit_clean(postmortem, editor)
    postmortem.refresh_from_db()
    assert postmortem.status == PostmortemStatus.DRAFT


def test_postmortem_submit_with_blame_hits_needs_acknowledgement(
    draft_postmortem, editor
):
    draft_postmortem.sections = {"root_cause": BLAMING}
    draft_postmortem.save()
    with pytest.raises(BlameNotAcknowledged) as caught:
        postmortem_submit(postmortem=draft_postmortem, actor=editor)
    assert {hit["text"] for hit in caught.value.hits} == {"human error", "careless"}
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.status == PostmortemStatus.DRAFT
    assert not WorkflowEvent.objects.exists()


def test_postmortem_submit_acknowledged_records_the_hits(draft_postmortem, editor):
    draft_postmortem.sections = {"root_cause": BLAMING}
    draft_postmortem.save()
    event = postmortem_submit(
        postmortem=draft_postmortem, actor=editor, acknowledge_blame=True
    )
    event.refresh_from_db()
    assert event.to_status == PostmortemStatus.IN_REVIEW
    assert event.blame_acknowledged is True
    assert [(h["field"], h["text"]) for h in event.blame_hits] == [
        ("section:root_cause", "human error"),
        ("section:root_cause", "careless"),
    ]


def test_postmortem_submit_checks_whys_and_factors_too(draft_postmortem, editor):
    draft_postmortem.sections = {}
    draft_postmortem.five_whys = ["Why? Because Bob's mistake went unnoticed."]
    draft_postmortem.save()
    factories.ContributingFactorFactory(
        postmortem=draft_postmortem, description="The operator forgot to drain it."
    )
    with pytest.raises(BlameNotAcknowledged) as caught:
        postmortem_submit(postmortem=draft_postmortem, actor=editor)
    assert [h["field"] for h in caught.value.hits] == ["why:1", "factor:1"]


def test_postmortem_submit_without_hits_records_no_acknowledgement(
    draft_postmortem, editor
):
    event = _submit_clean(draft_postmortem, editor)
    assert (event.actor, event.blame_acknowledged, event.blame_hits) == (
        editor,
        False,
        [],
    )


def test_postmortem_submit_refuses_a_viewer(draft_postmortem, viewer):
    with pytest.raises(PermissionDenied):
        postmortem_submit(postmortem=draft_postmortem, actor=viewer)


# --- approve, send back, publish ------------------------------------------------


def test_postmortem_approve_by_the_author_is_refused_even_if_a_reviewer(
    team, reviewer, other_reviewer
):
    """GIVEN a reviewer wrote it and named themselves WHEN they approve THEN no."""
    postmortem = factories.PostmortemFactory(
        incident__team=team, author=reviewer, reviewers=[reviewer, other_reviewer]
    )
    _submit_clean(postmortem, reviewer)
    with pytest.raises(PermissionDenied):
        postmortem_approve(postmortem=postmortem, actor=reviewer)
    postmortem.refresh_from_db()
    assert postmortem.status == PostmortemStatus.IN_REVIEW


def test_postmortem_approve_by_a_reviewer_not_named_is_refused(
    draft_postmortem, editor, other_reviewer
):
    _submit_clean(draft_postmortem, editor)
    with pytest.raises(PermissionDenied):
        postmortem_approve(postmortem=draft_postmortem, actor=other_reviewer)


def test_postmortem_approve_by_a_named_editor_is_refused(team, editor):
    # Only the reviewer role approves, whoever is on the list.
    other_editor = factories.UserFactory(username="ed2", role=Role.EDITOR, teams=[team])
    postmortem = factories.PostmortemFactory(
        incident__team=team, author=editor, reviewers=[other_editor]
    )
    postmortem.sections = {"summary": "ok"}
    postmortem.save()
    postmortem_submit(postmortem=postmortem, actor=editor)
    with pytest.raises(PermissionDenied):
        postmortem_approve(postmortem=postmortem, actor=other_editor)


def test_postmortem_approve_by_a_named_reviewer(draft_postmortem, editor, reviewer):
    _submit_clean(draft_postmortem, editor)
    event = postmortem_approve(postmortem=draft_postmortem, actor=reviewer)
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.status == PostmortemStatus.APPROVED
    assert (event.from_status, event.to_status, event.actor) == (
        PostmortemStatus.IN_REVIEW,
        PostmortemStatus.APPROVED,
        reviewer,
    )


def test_postmortem_approve_sev1_needs_detection_and_prevention_items(
    draft_postmortem, editor, reviewer
):
    """GIVEN a SEV1 postmortem in review with only a detection item
    WHEN the reviewer approves THEN it is refused, naming prevention, and stays in
    review; with a prevention item added the same approval goes through."""
    from actions.models import Category

    draft_postmortem.incident.severity = "SEV1"
    draft_postmortem.incident.save()
    team = draft_postmortem.incident.team
    factories.ActionItemFactory(
        postmortem=draft_postmortem, team=team, category=Category.DETECTION
    )
    _submit_clean(draft_postmortem, editor)
    with pytest.raises(ValidationError, match="Missing: prevention"):
        postmortem_approve(postmortem=draft_postmortem, actor=reviewer)
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.status == PostmortemStatus.IN_REVIEW

    factories.ActionItemFactory(
        postmortem=draft_postmortem, team=team, category=Category.PREVENTION
    )
    postmortem_approve(postmortem=draft_postmortem, actor=reviewer)
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.status == PostmortemStatus.APPROVED


def test_postmortem_approve_a_draft_is_refused(draft_postmortem, reviewer):
    with pytest.raises(ValidationError):
        postmortem_approve(postmortem=draft_postmortem, actor=reviewer)


def test_postmortem_send_back_requires_a_comment(draft_postmortem, editor, reviewer):
    _submit_clean(draft_postmortem, editor)
    for empty in ("", "   \n"):
        with pytest.raises(ValidationError):
            postmortem_send_back(
                postmortem=draft_postmortem, actor=reviewer, comment=empty
            )
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.status == PostmortemStatus.IN_REVIEW


def test_postmortem_send_back_returns_it_to_draft_with_the_comment(
    draft_postmortem, editor, reviewer
):
    _submit_clean(draft_postmortem, editor)
    event = postmortem_send_back(
        postmortem=draft_postmortem, actor=reviewer, comment="Add the pool graph."
    )
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.status == PostmortemStatus.DRAFT
    assert (event.to_status, event.comment) == (
        PostmortemStatus.DRAFT,
        "Add the pool graph.",
    )


def test_postmortem_send_back_by_the_author_is_refused(draft_postmortem, editor):
    _submit_clean(draft_postmortem, editor)
    with pytest.raises(PermissionDenied):
        postmortem_send_back(postmortem=draft_postmortem, actor=editor, comment="No.")


def test_postmortem_publish_by_the_author_after_approval(
    draft_postmortem, editor, reviewer
):
    _submit_clean(draft_postmortem, editor)
    postmortem_approve(postmortem=draft_postmortem, actor=reviewer)
    postmortem_publish(postmortem=draft_postmortem, actor=editor)
    draft_postmortem.refresh_from_db()
    assert draft_postmortem.status == PostmortemStatus.PUBLISHED
    assert draft_postmortem.published_at is not None


def test_postmortem_publish_by_the_reviewer_is_refused(
    draft_postmortem, editor, reviewer
):
    _submit_clean(draft_postmortem, editor)
    postmortem_approve(postmortem=draft_postmortem, actor=reviewer)
    with pytest.raises(PermissionDenied):
        postmortem_publish(postmortem=draft_postmortem, actor=reviewer)


def test_postmortem_publish_by_an_admin(draft_postmortem, editor, reviewer, admin_user):
    _submit_clean(draft_postmortem, editor)
    postmortem_approve(postmortem=draft_postmortem, actor=reviewer)
    postmortem_publish(postmortem=draft_postmortem, actor=admin_user)
    assert draft_postmortem.status == PostmortemStatus.PUBLISHED


def test_postmortem_publish_before_approval_is_refused(draft_postmortem, editor):
    _submit_clean(draft_postmortem, editor)
    with pytest.raises(ValidationError):
        postmortem_publish(postmortem=draft_postmortem, actor=editor)


def test_postmortem_workflow_records_every_change_with_who(
    draft_postmortem, editor, reviewer
):
    _submit_clean(draft_postmortem, editor)
    postmortem_send_back(
        postmortem=draft_postmortem, actor=reviewer, comment="Timeline?"
    )
    postmortem_submit(postmortem=draft_postmortem, actor=editor)
    postmortem_approve(postmortem=draft_postmortem, actor=reviewer)
    postmortem_publish(postmortem=draft_postmortem, actor=editor)
    events = [
        (e.from_status, e.to_status, e.actor.username)
        for e in draft_postmortem.workflow_events.all()
    ]
    assert events == [
        ("draft", "in_review", "editor"),
        ("in_review", "draft", "reviewer"),
        ("draft", "in_review", "editor"),
        ("in_review", "approved", "reviewer"),
        ("approved", "published", "editor"),
    ]
    reasons = [v.history_change_reason for v in draft_postmortem.history.order_by("pk")]
    assert reasons[-5:] == [
        "Submitted for review",
        "Sent back to draft",
        "Submitted for review",
        "Approved",
        "Published",
    ]


# --- comments -------------------------------------------------------------------


def test_comment_create_on_a_section_and_replies_join_the_thread(
    draft_postmortem, editor, reviewer
):
    root = comment_create(
        postmortem=draft_postmortem,
        author=reviewer,
        body="Which pool?",
        section="trigger",
    )
    reply = comment_create(
        postmortem=draft_postmortem, author=editor, body="The DB pool.", parent=root
    )
    nested = comment_create(
        postmortem=draft_postmortem, author=reviewer, body="Thanks.", parent=reply
    )
    assert (reply.parent, reply.section) == (root, "trigger")
    assert nested.parent == root


def test_comment_create_rejects_an_unknown_section_and_empty_body(
    draft_postmortem, reviewer
):
    with pytest.raises(ValidationError):
        comment_create(
            postmortem=draft_postmortem, author=reviewer, body="Hm", section="nope"
        )
    with pytest.raises(ValidationError):
        comment_create(postmortem=draft_postmortem, author=reviewer, body="  ")


def test_comment_create_refuses_people_outside_the_review(draft_postmortem, other_team):
    outsider = factories.UserFactory(
        username="outsider", role=Role.EDITOR, teams=[other_team]
    )
    team_viewer = factories.UserFactory(
        username="tv", role=Role.VIEWER, teams=[draft_postmortem.incident.team]
    )
    for person in (outsider, team_viewer):
        with pytest.raises(PermissionDenied):
            comment_create(postmortem=draft_postmortem, author=person, body="Hi")


def test_hypothesis_settled_time_is_kept_when_given(draft_postmortem, editor, reviewer):
    when = dt.datetime(2026, 5, 1, 11, 0, tzinfo=dt.UTC)
    saved = postmortem_update(
        postmortem=draft_postmortem,
        actor=editor,
        base_version=1,
        content=_content(
            hypotheses=[
                HypothesisInput(track=HypothesisTrack.MITIGATION, text="Restart pods",
                                status=HypothesisStatus.CONFIRMED, settled_by=reviewer,
                                settled_at=when),
            ]
        ),
    )  # fmt: skip
    [hyp] = saved.hypotheses.all()
    assert (hyp.settled_by, hyp.settled_at) == (reviewer, when)
