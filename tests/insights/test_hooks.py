import pytest

from insights.models import InsightRun, PostmortemClassification, RunKind, RunStatus
from postmortems.services.postmortems import PostmortemContent, postmortem_update

pytestmark = pytest.mark.django_db


def test_postmortem_update_classifies_the_edited_postmortem_after_commit(
    fake_model, make_postmortem, admin_user, django_capture_on_commit_callbacks
):
    postmortem = make_postmortem("Placeholder.")
    content = PostmortemContent(
        sections={"root_cause": "The TLS certificate expired; renewal was manual."}
    )
    with django_capture_on_commit_callbacks(execute=True):
        postmortem_update(
            postmortem=postmortem,
            actor=admin_user,
            base_version=postmortem.version,
            content=content,
        )
    run = InsightRun.objects.get(kind=RunKind.SINGLE)
    assert run.status == RunStatus.SUCCEEDED and run.postmortem_id == postmortem.pk
    row = PostmortemClassification.objects.get(postmortem=postmortem)
    assert row.failure_class.slug == "certificate-expiry"

    # Saving again without touching what insights reads queues nothing.
    postmortem.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        postmortem_update(
            postmortem=postmortem,
            actor=admin_user,
            base_version=postmortem.version,
            content=content,
        )
    assert InsightRun.objects.count() == 1


# Every way a postmortem comes to say something, page, API and integration alike.
CERT = "The TLS certificate expired; renewal was manual."


def _confirmed_finding(incident):
    from findings.models import RootCauseVerdict
    from tests import factories

    return factories.FindingFactory(
        incident=incident, root_cause=CERT, verdict=RootCauseVerdict.CONFIRMED
    )


def _started_with_text_on_the_api(client, incident, editor, reviewer):
    client.force_login(editor)
    response = client.post(
        "/api/v1/postmortems/",
        {
            "incident": incident.pk,
            "template": "google-sre",
            "sections": {"root_cause": CERT},
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _started_as_a_draft_on_the_page(client, incident, editor, reviewer):
    from postmortems.models import Postmortem
    from tests import factories

    _confirmed_finding(incident)
    client.force_login(editor)
    response = client.post(
        f"/incidents/{incident.pk}/postmortem/new/",
        {"template": factories.google_sre_template().pk, "draft": "on"},
    )
    assert response.status_code == 302
    return Postmortem.objects.get(incident=incident).pk


def _drafted_into_an_empty_postmortem(client, incident, editor, reviewer):
    from postmortems.services.drafting import postmortem_fill_draft
    from postmortems.services.postmortems import postmortem_create
    from tests import factories

    postmortem = postmortem_create(
        incident=incident, template=factories.google_sre_template(), author=editor
    )
    _confirmed_finding(incident)
    postmortem_fill_draft(postmortem=postmortem, actor=editor)
    return postmortem.pk


def _finding_confirmed_on_the_page(client, incident, editor, reviewer):
    from postmortems.services.postmortems import postmortem_create
    from tests import factories

    postmortem = postmortem_create(
        incident=incident, template=factories.google_sre_template(), author=editor
    )
    finding = factories.FindingFactory(incident=incident, root_cause=CERT)
    client.force_login(reviewer)
    client.post(f"/findings/{finding.pk}/verdict/", {"verdict": "confirmed"})
    return postmortem.pk


def _confirmed_finding_resent_with_another_root_cause(
    client, incident, editor, reviewer
):
    from findings.follow_up import findings_follow_up
    from findings.models import Finding
    from postmortems.services.postmortems import postmortem_create
    from tests import factories

    postmortem = postmortem_create(
        incident=incident, template=factories.google_sre_template(), author=editor
    )
    finding = _confirmed_finding(incident)
    # What an analyzer's re-send writes (the verdict stays), then its follow-up.
    Finding.objects.filter(pk=finding.pk).update(root_cause=CERT + " Again.")
    findings_follow_up(finding_ids=[finding.pk])
    return postmortem.pk


@pytest.mark.parametrize(
    "path",
    [
        _started_with_text_on_the_api,
        _started_as_a_draft_on_the_page,
        _drafted_into_an_empty_postmortem,
        _finding_confirmed_on_the_page,
        _confirmed_finding_resent_with_another_root_cause,
    ],
)
def test_every_way_a_postmortem_gets_its_text_classifies_it_after_commit(
    fake_model,
    client,
    team,
    editor,
    reviewer,
    django_capture_on_commit_callbacks,
    path,
):
    """GIVEN an incident
    WHEN its postmortem comes to say something, by any path (its first text
    sent on the API, a draft from the incident on the page or later, a
    finding's root cause confirmed, or re-sent)
    THEN after commit it is classified from what it now says, as an edit is:
    its page shows a class without waiting for the nightly run."""
    from insights.embeddings import text_hash
    from insights.services.inputs import postmortem_texts
    from tests import factories

    incident = factories.IncidentFactory(team=team)
    with django_capture_on_commit_callbacks(execute=True):
        postmortem_id = path(client, incident, editor, reviewer)
    text = postmortem_texts([postmortem_id])[postmortem_id]
    assert CERT in text
    row = PostmortemClassification.objects.get(postmortem_id=postmortem_id)
    assert row.text_hash == text_hash(text)
    assert row.failure_class.slug == "certificate-expiry"


def _clear_by_edit(postmortem, finding, reviewer, client):
    postmortem_update(
        postmortem=postmortem,
        actor=postmortem.author,
        base_version=postmortem.version,
        content=PostmortemContent(sections={"root_cause": ""}),
    )


def _clear_the_verdict(postmortem, finding, reviewer, client):
    client.force_login(reviewer)
    client.post(f"/findings/{finding.pk}/verdict/", {"verdict": ""})


@pytest.mark.parametrize("clear", [_clear_by_edit, _clear_the_verdict])
def test_a_postmortem_left_with_nothing_to_read_loses_what_its_old_text_gave(
    fake_model,
    client,
    team,
    editor,
    reviewer,
    django_capture_on_commit_callbacks,
    clear,
):
    """GIVEN a postmortem classified from its text (its root cause, or a
    confirmed finding's)
    WHEN that text goes (the section emptied, the verdict cleared)
    THEN its inferred class, cause statements and similar incidents go too,
    after commit, as a full run would leave them."""
    from insights.models import CauseStatement, SimilarPostmortem
    from postmortems.services.postmortems import postmortem_create
    from tests import factories

    other = factories.IncidentFactory(team=team)
    incident = factories.IncidentFactory(team=team)
    with django_capture_on_commit_callbacks(execute=True):
        postmortem_create(
            incident=other,
            template=factories.google_sre_template(),
            author=editor,
            content=PostmortemContent(sections={"root_cause": CERT + " Twice."}),
        )
        postmortem = postmortem_create(
            incident=incident, template=factories.google_sre_template(), author=editor
        )
        if clear is _clear_by_edit:
            finding = None
            postmortem_update(
                postmortem=postmortem,
                actor=editor,
                base_version=postmortem.version,
                content=PostmortemContent(sections={"root_cause": CERT}),
            )
        else:
            finding = factories.FindingFactory(incident=incident, root_cause=CERT)
            client.force_login(reviewer)
            client.post(f"/findings/{finding.pk}/verdict/", {"verdict": "confirmed"})
    postmortem.refresh_from_db()
    assert PostmortemClassification.objects.get(postmortem=postmortem).failure_class
    assert SimilarPostmortem.objects.filter(postmortem=postmortem).exists()
    # A confirmed finding's root cause is read with the text, not as a statement.
    assert CauseStatement.objects.filter(postmortem=postmortem).exists() == (
        finding is None
    )

    with django_capture_on_commit_callbacks(execute=True):
        clear(postmortem, finding, reviewer, client)
    assert not PostmortemClassification.objects.filter(postmortem=postmortem).exists()
    assert not SimilarPostmortem.objects.filter(postmortem=postmortem).exists()
    assert not CauseStatement.objects.filter(postmortem=postmortem).exists()
