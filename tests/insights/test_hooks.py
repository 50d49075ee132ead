import pytest

from insights.models import InsightRun, PostmortemClassification, RunKind, RunStatus
from insights.services import insight_run_execute
from postmortems.services.postmortems import (
    PostmortemContent,
    postmortem_create,
    postmortem_update,
)
from tests import factories

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


def _start(incident, author, root_cause=None):
    """Start the incident's postmortem, with a root cause when given."""
    content = None
    if root_cause is not None:
        content = PostmortemContent(sections={"root_cause": root_cause})
    return postmortem_create(
        incident=incident,
        template=factories.google_sre_template(),
        author=author,
        content=content,
    )


def _log_in_as_admin(client):
    admin = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)


def _confirmed_finding(incident):
    from findings.models import RootCauseVerdict

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

    postmortem = _start(incident, editor)
    _confirmed_finding(incident)
    postmortem_fill_draft(postmortem=postmortem, actor=editor)
    return postmortem.pk


def _finding_confirmed_on_the_page(client, incident, editor, reviewer):

    postmortem = _start(incident, editor)
    finding = factories.FindingFactory(incident=incident, root_cause=CERT)
    client.force_login(reviewer)
    client.post(f"/findings/{finding.pk}/verdict/", {"verdict": "confirmed"})
    return postmortem.pk


def _confirmed_finding_resent_with_another_root_cause(
    client, incident, editor, reviewer
):
    from findings.follow_up import findings_follow_up
    from findings.models import Finding

    postmortem = _start(incident, editor)
    finding = _confirmed_finding(incident)
    # What an analyzer's re-send writes (the verdict stays), then its follow-up.
    Finding.objects.filter(pk=finding.pk).update(root_cause=CERT + " Again.")
    findings_follow_up(finding_ids=[finding.pk])
    return postmortem.pk


def _admin_form_data(client, url, changes, inline_changes=None):
    """What the admin change page would post back: every field as the page
    shows it (inline formsets included), with ``changes`` applied."""
    page = client.get(url)
    assert page.status_code == 200
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            if value is None:
                continue
            key = form.add_prefix(name)
            if isinstance(value, (list, tuple)):
                data[key] = [str(v) for v in value]
            elif isinstance(value, bool):
                if value:
                    data[key] = "on"
            else:
                data[key] = str(value)

    add(page.context["adminform"].form)
    # The history (revert) form shows the postmortem alone.
    for inline in page.context.get("inline_admin_formsets", []):
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for form in formset.forms:
            add(form)
    data.update(changes)
    data.update(inline_changes or {})
    return data


def _edited_in_the_admin(client, incident, editor, reviewer):

    postmortem = _start(incident, editor)
    _log_in_as_admin(client)
    url = f"/admin/postmortems/postmortem/{postmortem.pk}/change/"
    sections = {**postmortem.sections, "root_cause": CERT}
    import json

    response = client.post(
        url, _admin_form_data(client, url, {"sections": json.dumps(sections)})
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    return postmortem.pk


def _reverted_in_the_admin(client, incident, editor, reviewer):
    """Reverted to an earlier version that had the text (since emptied). The
    versions are saved on the model directly, so no run is queued before the
    revert (queued runs only execute at the end, and read the text then)."""

    postmortem = factories.PostmortemFactory(
        incident=incident, author=editor, sections={"root_cause": CERT}
    )
    with_text = postmortem.history.latest("history_id")
    postmortem.sections = {"root_cause": ""}
    postmortem.save()
    _log_in_as_admin(client)
    url = (
        f"/admin/postmortems/postmortem/{postmortem.pk}/history/{with_text.history_id}/"
    )
    response = client.post(url, _admin_form_data(client, url, {}))
    assert response.status_code == 302, response.context["adminform"].form.errors
    return postmortem.pk


def _finding_confirmed_in_the_admin(client, incident, editor, reviewer):

    postmortem = _start(incident, editor)
    finding = factories.FindingFactory(incident=incident, root_cause=CERT)
    _log_in_as_admin(client)
    url = f"/admin/findings/finding/{finding.pk}/change/"
    response = client.post(url, _admin_form_data(client, url, {"verdict": "confirmed"}))
    assert response.status_code == 302, response.context["adminform"].form.errors
    return postmortem.pk


def _started_on_the_page_after_its_finding_was_confirmed(
    client, incident, editor, reviewer
):
    from postmortems.models import Postmortem

    _confirmed_finding(incident)
    client.force_login(editor)
    response = client.post(
        f"/incidents/{incident.pk}/postmortem/new/",
        {"template": factories.google_sre_template().pk},
    )
    assert response.status_code == 302
    return Postmortem.objects.get(incident=incident).pk


@pytest.mark.parametrize(
    "path",
    [
        _started_with_text_on_the_api,
        _started_as_a_draft_on_the_page,
        _drafted_into_an_empty_postmortem,
        _finding_confirmed_on_the_page,
        _confirmed_finding_resent_with_another_root_cause,
        _started_on_the_page_after_its_finding_was_confirmed,
        _edited_in_the_admin,
        _reverted_in_the_admin,
        _finding_confirmed_in_the_admin,
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


def _finding_deleted_in_the_admin(postmortem, finding, reviewer, client):

    _log_in_as_admin(client)
    response = client.post(
        f"/admin/findings/finding/{finding.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302


def _finding_moved_in_the_admin(postmortem, finding, reviewer, client):

    elsewhere = factories.IncidentFactory(team=postmortem.incident.team)
    _log_in_as_admin(client)
    url = f"/admin/findings/finding/{finding.pk}/change/"
    response = client.post(
        url, _admin_form_data(client, url, {"incident": str(elsewhere.pk)})
    )
    assert response.status_code == 302, response.context["adminform"].form.errors


@pytest.mark.parametrize(
    "clear",
    [
        _clear_by_edit,
        _clear_the_verdict,
        _finding_deleted_in_the_admin,
        _finding_moved_in_the_admin,
    ],
)
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
    WHEN that text goes (the section emptied; the verdict cleared, or the
    finding deleted or moved to another incident in the admin)
    THEN its inferred class, cause statements and similar incidents go too,
    after commit, as a full run would leave them."""
    from insights.models import CauseStatement, SimilarPostmortem

    other = factories.IncidentFactory(team=team)
    incident = factories.IncidentFactory(team=team)
    with django_capture_on_commit_callbacks(execute=True):
        _start(other, editor, CERT + " Twice.")
        postmortem = _start(incident, editor)
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
    # A full run lists each postmortem among the other's similar incidents.
    full = InsightRun.objects.create(kind=RunKind.FULL)
    assert insight_run_execute(run_id=full.pk) == RunStatus.SUCCEEDED
    postmortem.refresh_from_db()
    assert PostmortemClassification.objects.get(postmortem=postmortem).failure_class
    assert SimilarPostmortem.objects.filter(postmortem=postmortem).exists()
    assert SimilarPostmortem.objects.filter(similar=postmortem).exists()
    # A confirmed finding's root cause is read with the text, not as a statement.
    assert CauseStatement.objects.filter(postmortem=postmortem).exists() == (
        finding is None
    )

    with django_capture_on_commit_callbacks(execute=True):
        clear(postmortem, finding, reviewer, client)
    assert not PostmortemClassification.objects.filter(postmortem=postmortem).exists()
    assert not SimilarPostmortem.objects.filter(postmortem=postmortem).exists()
    # Nor is it similar to anything any more: it says nothing now.
    assert not SimilarPostmortem.objects.filter(similar=postmortem).exists()
    assert not CauseStatement.objects.filter(postmortem=postmortem).exists()


def test_a_confirmed_postmortems_text_read_again_when_it_comes_back(
    fake_model, team, editor, django_capture_on_commit_callbacks
):
    """GIVEN a postmortem whose class a person confirmed
    WHEN its root cause is emptied, then written back as it was
    THEN the person's class stays throughout, and the text is read again: its
    cause statements and similar incidents come back."""
    from insights.models import CauseStatement, FailureClass, SimilarPostmortem
    from insights.services import postmortem_class_confirm

    def write(postmortem, text):
        postmortem.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            postmortem_update(
                postmortem=postmortem,
                actor=editor,
                base_version=postmortem.version,
                content=PostmortemContent(sections={"root_cause": text}),
            )

    with django_capture_on_commit_callbacks(execute=True):
        _start(factories.IncidentFactory(team=team), editor, CERT + " Twice.")
        postmortem = _start(factories.IncidentFactory(team=team), editor, CERT)
    postmortem_class_confirm(
        postmortem=postmortem,
        failure_class=FailureClass.objects.get(slug="certificate-expiry"),
        user=editor,
        retrain=False,
    )
    write(postmortem, "")
    assert not SimilarPostmortem.objects.filter(postmortem=postmortem).exists()
    write(postmortem, CERT)
    row = PostmortemClassification.objects.get(postmortem=postmortem)
    assert (row.failure_class.slug, row.is_confirmed) == ("certificate-expiry", True)
    assert SimilarPostmortem.objects.filter(postmortem=postmortem).exists()
    assert CauseStatement.objects.filter(postmortem=postmortem).exists()


def test_a_confirmed_finding_resent_under_another_incident_leaves_the_old_postmortem(
    fake_model,
    client,
    team,
    editor,
    reviewer,
    findings_key,
    django_capture_on_commit_callbacks,
):
    """GIVEN a postmortem classified from its incident's confirmed finding
    WHEN the analyzer re-sends that finding under another incident key
    THEN the old postmortem no longer reads its root cause: its inferred class
    and similar incidents go, after commit."""
    import json

    from findings.models import Finding
    from findings.services import finding_set_verdict
    from insights.models import SimilarPostmortem

    factories.ServiceFactory(slug="checkout-web", name="Checkout Web", team=team)

    def send(incident_key):
        payload = {
            "analyzer": "api-tracer",
            "analyzer_version": "2.1.0",
            "fingerprint": "cert-1",
            "incident_key": incident_key,
            "service": "checkout-web",
            "severity": "high",
            "title": "TLS handshakes failing on checkout",
            "root_cause": {"text": CERT},
            "started_at": "2026-05-01T10:15:00Z",
        }
        response = client.post(
            "/api/v1/findings/",
            data=json.dumps(payload),
            content_type="application/json",
            headers={"Authorization": f"Api-Key {findings_key}"},
        )
        assert response.status_code in (200, 201), response.content
        return Finding.objects.get(pk=response.json()["id"])

    with django_capture_on_commit_callbacks(execute=True):
        _start(factories.IncidentFactory(team=team), editor, CERT + " Twice.")
        finding = send("checkout-tls-2026-05-01")
        postmortem = _start(finding.incident, editor)
        finding_set_verdict(finding=finding, verdict="confirmed", user=reviewer)
    assert PostmortemClassification.objects.get(postmortem=postmortem).failure_class
    assert SimilarPostmortem.objects.filter(postmortem=postmortem).exists()

    with django_capture_on_commit_callbacks(execute=True):
        moved = send("checkout-tls-2026-05-02")
    assert moved.pk == finding.pk and moved.incident_id != finding.incident_id
    assert not PostmortemClassification.objects.filter(postmortem=postmortem).exists()
    assert not SimilarPostmortem.objects.filter(postmortem=postmortem).exists()


def test_an_imported_file_is_read_by_one_full_run_after_commit(
    fake_model,
    make_postmortem,
    team,
    other_team,
    admin_user,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    """GIVEN a file of postmortems imported on the command line
    THEN one full run reads them once the import commits: one with a root
    cause gets a class and similar incidents; a file refused, or one already
    imported, queues nothing."""
    from io import StringIO
    from pathlib import Path

    from django.core.management import CommandError, call_command

    from insights.models import SimilarPostmortem
    from postmortems.models import Postmortem

    data = Path(__file__).parents[1] / "postmortems" / "data"

    def imported(path):
        with django_capture_on_commit_callbacks(execute=True):
            try:
                return call_command(
                    "import_postmortems",
                    str(path),
                    "--team",
                    team.slug,
                    stdout=StringIO(),
                    stderr=StringIO(),
                )
            except CommandError as exc:
                return exc

    factories.ServiceFactory(slug="checkout", name="Checkout", team=team)
    earlier = make_postmortem("The processor's TLS handshake was slow; we timed out.")
    assert not isinstance(imported(data / "good.jsonl"), CommandError)
    assert [(r.kind, r.status) for r in InsightRun.objects.all()] == [
        (RunKind.FULL, RunStatus.SUCCEEDED)
    ]
    card = Postmortem.objects.get(incident__title="Card processor timeouts")
    assert PostmortemClassification.objects.filter(postmortem=card).exists()
    assert [s.similar for s in SimilarPostmortem.objects.filter(postmortem=card)] == [
        earlier
    ]

    imported(data / "good.jsonl")  # already there
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "No date"}\n')
    assert isinstance(imported(bad), CommandError)
    assert InsightRun.objects.count() == 1


def test_two_edits_before_the_postmortems_run_starts_queue_one_run_that_reads_the_last(
    fake_model, make_postmortem, admin_user, django_capture_on_commit_callbacks
):
    """GIVEN a postmortem edited twice before its single run starts
    THEN one run is queued, and it classifies the text of the second edit."""
    postmortem = make_postmortem("Placeholder.")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for root_cause in (
            "A DNS resolver returned stale records after a zone change.",
            CERT,
        ):
            postmortem.refresh_from_db()
            postmortem_update(
                postmortem=postmortem,
                actor=admin_user,
                base_version=postmortem.version,
                content=PostmortemContent(sections={"root_cause": root_cause}),
            )
    run = InsightRun.objects.get(kind=RunKind.SINGLE)
    for callback in callbacks:
        callback()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    row = PostmortemClassification.objects.get(postmortem=postmortem)
    assert row.failure_class.slug == "certificate-expiry"
