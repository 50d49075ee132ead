"""The findings partial on incident pages, its htmx actions, and a finding's page."""

import datetime as dt

import pytest

from actions.models import ActionItem, Category, Status
from findings import services, similarity
from findings.models import FindingMatch, FindingSuggestion, SuggestionStatus
from findings.selectors import incident_findings_context
from postmortems.models import PostmortemStatus, TimelineEntry
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def incident(team):
    return factories.IncidentFactory(team=team, title="Checkout errors")


@pytest.fixture
def chain(incident):
    """An api-tracer finding handing off to a storage-probe finding."""
    parent = factories.FindingFactory(
        incident=incident,
        analyzer="api-tracer",
        title="Checkout 5xx above 5%",
        evidence=[
            {
                "kind": "trace",
                "title": "Slowest span",
                "url": "https://traces.example/t/1",
                "excerpt": "SELECT ... 31 s",
                "data": None,
            }
        ],
        root_cause_confidence=0.8,
    )
    child = factories.FindingFactory(
        incident=incident,
        analyzer="storage-probe",
        title="Replica disk full",
        parent=parent,
        suggested_actions=[
            {
                "kind": "file_bug",
                "title": "Alert on replica disk above 85%",
                "target": "DATA",
                "category": "prevention",
            }
        ],
    )
    services.findings_sync_suggestions(findings=[child])
    return parent, child


def partial_url(incident) -> str:
    return f"/findings/incidents/{incident.pk}/"


def test_incident_findings_partial_shows_the_investigation_tree(
    client, viewer, incident, chain
):
    parent, child = chain
    client.force_login(viewer)

    response = client.get(partial_url(incident), headers=HTMX)

    assert response.status_code == 200
    assert "<html" not in response.content.decode()  # just the partial
    tree = response.context["finding_tree"]
    assert [node.finding for node in tree] == [parent]
    assert [node.finding for node in tree[0].children] == [child]
    page = response.content.decode()
    # The child is rendered inside its parent's list item.
    parent_at = page.index(f'id="finding-{parent.pk}"')
    child_at = page.index(f'id="finding-{child.pk}"')
    assert parent_at < page.index('<ul class="finding-tree">', parent_at) < child_at
    assert (
        '<a href="https://traces.example/t/1" rel="noopener noreferrer" '
        'target="_blank">Slowest span</a>'
    ) in page
    assert "80% confident" in page
    # A viewer sees no buttons.
    assert "Add to timeline" not in page
    assert "Accept" not in page


def test_incident_findings_page_without_htmx_is_a_whole_page(
    client, viewer, incident, chain
):
    client.force_login(viewer)

    response = client.get(partial_url(incident))

    page = response.content.decode()
    assert "<html" in page
    assert f"Findings: {incident.title}" in page
    assert 'id="incident-findings"' in page


def test_incident_page_shows_the_findings_section(client, editor, incident, chain):
    parent, child = chain
    client.force_login(editor)

    response = client.get(incident.get_absolute_url())

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="incident-findings"' in page
    assert parent.title in page and child.title in page
    # The section's forms carry the CSRF token (an inclusion tag has its own
    # context) and post back through htmx.
    timeline_form = page.index(f'action="/findings/{parent.pk}/timeline/"')
    assert 'name="csrfmiddlewaretoken"' in page[timeline_form : timeline_form + 600]


def test_incident_findings_partial_empty_state(client, viewer, incident):
    client.force_login(viewer)

    response = client.get(partial_url(incident))

    assert "No findings yet." in response.content.decode()


def test_incident_findings_partial_guards_n_plus_one(
    client, editor, incident, django_assert_max_num_queries
):
    parent = None
    for n in range(30):
        finding = factories.FindingFactory(incident=incident, parent=parent)
        finding.suggested_actions = [{"kind": "other", "title": f"Do {n}"}]
        finding.save()
        parent = finding if n % 3 else None
    services.findings_sync_suggestions(findings=list(incident.findings.all()))
    client.force_login(editor)

    with django_assert_max_num_queries(14):
        response = client.get(partial_url(incident))

    assert response.status_code == 200
    assert response.context["finding_count"] == 30


def test_finding_add_to_timeline_is_one_click_and_never_twice(
    client, editor, incident, chain
):
    parent, _ = chain
    client.force_login(editor)

    first = client.post(f"/findings/{parent.pk}/timeline/", headers=HTMX)
    again = client.post(f"/findings/{parent.pk}/timeline/", headers=HTMX)

    assert first.status_code == again.status_code == 200
    entry = TimelineEntry.objects.get(incident=incident)
    assert entry.dedupe_key == f"finding:{parent.pk}"
    assert entry.kind == "diagnosis" and entry.source == "finding"
    assert entry.author == editor
    assert entry.text.startswith("api-tracer: Checkout 5xx above 5%")
    assert "On the timeline" in first.content.decode()
    assert first["HX-Trigger"] == "findings-timeline-changed"
    assert 'id="incident-findings"' in first.content.decode()


def test_finding_add_to_timeline_without_htmx_redirects_to_the_incident(
    client, editor, incident, chain
):
    client.force_login(editor)

    response = client.post(f"/findings/{chain[0].pk}/timeline/")

    assert response.status_code == 302
    assert response["Location"] == incident.get_absolute_url()


def test_finding_add_to_timeline_needs_an_editor_of_the_team(
    client, viewer, incident, chain, other_team
):
    outsider = factories.UserFactory(username="outsider", teams=[other_team])
    for user in (viewer, outsider):
        client.force_login(user)
        response = client.post(f"/findings/{chain[0].pk}/timeline/", headers=HTMX)
        assert response.status_code == 403
    assert TimelineEntry.objects.count() == 0


def test_finding_verdict_by_a_reviewer(client, reviewer, incident, chain):
    parent, _ = chain
    client.force_login(reviewer)

    response = client.post(
        f"/findings/{parent.pk}/verdict/", {"verdict": "partial"}, headers=HTMX
    )

    parent.refresh_from_db()
    assert parent.verdict == "partial"
    assert parent.verdict_by == reviewer
    page = response.content.decode()
    assert 'class="badge badge-verdict-partial">Partly right</span>' in page
    assert 'value="partial" class="outline small" aria-pressed="true"' in page


def test_finding_verdict_can_be_cleared(client, reviewer, chain):
    parent, _ = chain
    client.force_login(reviewer)
    client.post(f"/findings/{parent.pk}/verdict/", {"verdict": "refuted"})

    client.post(f"/findings/{parent.pk}/verdict/", {"verdict": ""})

    parent.refresh_from_db()
    assert parent.verdict == "" and parent.verdict_by is None


def test_finding_verdict_needs_a_reviewer(client, editor, chain):
    client.force_login(editor)

    response = client.post(f"/findings/{chain[0].pk}/verdict/", {"verdict": "refuted"})

    assert response.status_code == 403
    chain[0].refresh_from_db()
    assert chain[0].verdict == ""


def test_finding_verdict_by_the_postmortems_named_reviewer_from_another_team(
    client, incident, chain, other_team
):
    outsider = factories.UserFactory(
        username="sre-reviewer", role="reviewer", teams=[other_team]
    )
    factories.PostmortemFactory(incident=incident, reviewers=[outsider])
    client.force_login(outsider)

    response = client.post(
        f"/findings/{chain[0].pk}/verdict/", {"verdict": "confirmed"}
    )

    assert response.status_code == 302
    chain[0].refresh_from_db()
    assert chain[0].verdict == "confirmed"


def test_finding_verdict_rejects_unknown_values(client, reviewer, chain):
    client.force_login(reviewer)

    response = client.post(f"/findings/{chain[0].pk}/verdict/", {"verdict": "maybe"})

    assert response.status_code == 400


def test_suggestion_accept_creates_one_action_item(client, editor, incident, chain):
    postmortem = factories.PostmortemFactory(incident=incident)
    suggestion = FindingSuggestion.objects.get()
    client.force_login(editor)

    response = client.post(
        f"/findings/suggestions/{suggestion.pk}/accept/",
        {"category": "mitigation"},
        headers=HTMX,
    )
    again = client.post(f"/findings/suggestions/{suggestion.pk}/accept/", headers=HTMX)

    assert response.status_code == again.status_code == 200
    item = ActionItem.objects.get()
    assert item.title == "Alert on replica disk above 85%"
    assert item.category == Category.MITIGATION
    assert item.team == incident.team
    assert item.postmortem == postmortem
    assert item.created_by == editor
    assert "Target: `DATA`" in item.description
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.ACCEPTED
    assert suggestion.action_item == item
    assert "Accepted" in response.content.decode()


def test_suggestion_dismiss(client, editor, chain):
    suggestion = FindingSuggestion.objects.get()
    client.force_login(editor)

    response = client.post(
        f"/findings/suggestions/{suggestion.pk}/dismiss/", headers=HTMX
    )

    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.DISMISSED
    assert ActionItem.objects.count() == 0
    assert "Dismissed by" in response.content.decode()


def test_suggestion_decisions_need_an_editor_of_the_team(client, viewer, chain):
    suggestion = FindingSuggestion.objects.get()
    client.force_login(viewer)

    accept = client.post(f"/findings/suggestions/{suggestion.pk}/accept/")
    dismiss = client.post(f"/findings/suggestions/{suggestion.pk}/dismiss/")

    assert accept.status_code == dismiss.status_code == 403
    assert ActionItem.objects.count() == 0


def _past_incident_with_open_item(team, service, *, status=PostmortemStatus.PUBLISHED):
    past = factories.IncidentFactory(
        team=team,
        services=[service],
        started_at=factories.BASE_TIME - dt.timedelta(days=90),
        title="Orders replica disk full",
    )
    factories.FindingFactory(incident=past, analyzer="storage-probe", service=service)
    postmortem = factories.PostmortemFactory(incident=past, status=status)
    item = factories.ActionItemFactory(
        postmortem=postmortem,
        team=team,
        category=Category.PREVENTION,
        status=Status.BLOCKED,
        status_reason="Waiting on the DBA team",
        title="Put PgBouncer in front of the Orders DB",
    )
    return past, item


def test_incident_findings_partial_says_this_looks_like_a_past_incident(
    client, viewer, team, incident
):
    service = factories.ServiceFactory(slug="orders-db", name="Orders DB", team=team)
    past, item = _past_incident_with_open_item(team, service)
    finding = factories.FindingFactory(
        incident=incident, analyzer="storage-probe", service=service
    )
    similarity.match_past_incidents(findings=[finding])
    client.force_login(viewer)

    response = client.get(partial_url(incident))

    page = response.content.decode()
    assert f'This looks like <a href="/incidents/{past.pk}/">{past.reference}</a>' in (
        page
    )
    assert (
        "its prevention item “Put PgBouncer in front of the Orders DB” is still "
        "blocked" in page
    )
    assert "Same service (Orders DB) and analyzer (storage-probe)" in page


def test_past_incident_match_is_hidden_when_its_postmortem_is_private(
    client, team, other_team, incident
):
    service = factories.ServiceFactory(slug="orders-db", name="Orders DB", team=team)
    _past_incident_with_open_item(team, service, status=PostmortemStatus.DRAFT)
    finding = factories.FindingFactory(
        incident=incident, analyzer="storage-probe", service=service
    )
    similarity.match_past_incidents(findings=[finding])
    outsider = factories.UserFactory(
        username="outsider", role="viewer", teams=[other_team]
    )

    context = incident_findings_context(user=outsider, incident=incident)

    assert FindingMatch.objects.count() == 1
    assert context["past_incident_matches"] == []


def test_finding_detail_page_shows_the_raw_payload(client, viewer, chain):
    parent, child = chain
    parent.raw = {"analyzer": "api-tracer", "extra_field": "kept"}
    parent.save()
    client.force_login(viewer)

    response = client.get(f"/findings/{parent.pk}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "&quot;extra_field&quot;: &quot;kept&quot;" in page
    assert child.title in page  # follow-up findings


def test_finding_detail_page_explains_a_robusta_truncation(client, viewer, incident):
    finding = factories.FindingFactory(
        incident=incident,
        source="robusta",
        meta={"truncated": True, "missing_keys": ["links", "enrichments"]},
    )
    client.force_login(viewer)

    response = client.get(f"/findings/{finding.pk}/")

    assert "these keys are missing: links, enrichments" in response.content.decode()


def test_finding_detail_page_404(client, viewer):
    client.force_login(viewer)

    assert client.get("/findings/999999/").status_code == 404
