"""Matching findings to past incidents by root-cause similarity (insights vectors)."""

import datetime as dt

import pytest

from actions.models import Category, Status
from findings import similarity
from findings.follow_up import findings_follow_up
from findings.models import FindingMatch
from insights.embeddings import FakeEmbedder
from insights.models import PostmortemClassification
from insights.services.inputs import cached_vectors, postmortem_texts
from postmortems.models import PostmortemStatus
from tests import factories

pytestmark = pytest.mark.django_db

CERT = "The TLS certificate on the API load balancer expired; renewal was manual."
INDEXER = "The search indexer rebalanced shards and redelivered batches twice."


@pytest.fixture
def api_gateway(team):
    return factories.ServiceFactory(slug="api-gateway", name="API gateway", team=team)


def past_postmortem(team, service, root_cause, *, days=60, status=Status.OPEN):
    """A published postmortem ``days`` before BASE_TIME with one prevention item."""
    incident = factories.IncidentFactory(
        team=team,
        services=[service],
        started_at=factories.BASE_TIME - dt.timedelta(days=days),
    )
    postmortem = factories.PostmortemFactory(
        incident=incident,
        status=PostmortemStatus.PUBLISHED,
        sections={"root_cause": root_cause, "trigger": ""},
    )
    factories.ActionItemFactory(
        postmortem=postmortem,
        team=team,
        category=Category.PREVENTION,
        status=status,
        status_reason="waiting" if status == Status.BLOCKED else "",
    )
    return postmortem


def cache_vectors(*postmortems):
    """What an insights run stores: each postmortem's vector, linked to it."""
    embedder = FakeEmbedder(model_name="fake-hashing-bow")
    texts = postmortem_texts([p.pk for p in postmortems])
    ordered = [texts[p.pk] for p in postmortems]
    _, rows, _ = cached_vectors(texts=ordered, embedder=embedder)
    for postmortem, row in zip(postmortems, rows, strict=True):
        PostmortemClassification.objects.create(
            postmortem=postmortem,
            model_name=embedder.model_name,
            text_hash=row.text_hash,
            embedding=row,
        )


def new_finding(team, service, **fields):
    incident = factories.IncidentFactory(team=team, services=[service])
    return factories.FindingFactory(incident=incident, service=service, **fields)


def test_match_past_incidents_finds_the_incident_with_a_similar_root_cause(
    team, api_gateway
):
    cert = past_postmortem(team, api_gateway, CERT)
    indexer = past_postmortem(team, api_gateway, INDEXER)
    cache_vectors(cert, indexer)
    finding = new_finding(
        team,
        api_gateway,
        root_cause="TLS certificate on the load balancer expired; renewal is manual.",
    )

    similarity.match_past_incidents(findings=[finding])

    match = FindingMatch.objects.get()
    assert match.past_incident == cert.incident
    assert match.action_item.category == Category.PREVENTION
    assert match.reason.startswith("Root cause 0.")
    assert match.reason.endswith(f"similar to {cert.incident.reference}")
    score = float(match.reason.split()[2])
    assert score >= similarity.MATCH_THRESHOLD


def test_match_past_incidents_uses_title_and_summary_without_a_root_cause(
    team, api_gateway
):
    cert = past_postmortem(team, api_gateway, CERT)
    indexer = past_postmortem(team, api_gateway, INDEXER)
    cache_vectors(cert, indexer)
    finding = new_finding(
        team,
        api_gateway,
        root_cause="",
        title="Search indexer redelivered batches",
        summary="The indexer rebalanced shards and redelivered batches twice.",
    )

    similarity.match_past_incidents(findings=[finding])

    assert [m.past_incident for m in FindingMatch.objects.all()] == [indexer.incident]


def test_match_past_incidents_skips_done_items_later_and_unrelated_incidents(
    team, api_gateway
):
    done = past_postmortem(team, api_gateway, CERT, status=Status.DONE)
    later = past_postmortem(team, api_gateway, CERT, days=-30)
    unrelated = past_postmortem(team, api_gateway, INDEXER)
    cache_vectors(done, later, unrelated)
    finding = new_finding(team, api_gateway, root_cause=CERT)

    similarity.match_past_incidents(findings=[finding])

    assert FindingMatch.objects.count() == 0


def test_match_past_incidents_ignores_the_findings_own_incident(team, api_gateway):
    own = past_postmortem(team, api_gateway, CERT)
    cache_vectors(own)
    finding = factories.FindingFactory(
        incident=own.incident, service=api_gateway, root_cause=CERT
    )

    similarity.match_past_incidents(findings=[finding])

    assert FindingMatch.objects.count() == 0


def test_match_past_incidents_on_similarity_ignores_service_and_analyzer(
    team, api_gateway
):
    """GIVEN vectors exist and a past incident of the same service and analyzer
    whose root cause is unrelated
    WHEN a finding arrives
    THEN similarity decides: no match (the fallback rule is not used)."""
    unrelated = past_postmortem(team, api_gateway, INDEXER)
    factories.FindingFactory(
        incident=unrelated.incident, analyzer="api-tracer", service=api_gateway
    )
    cache_vectors(unrelated)
    finding = new_finding(team, api_gateway, root_cause=CERT)

    similarity.match_past_incidents(findings=[finding])

    assert FindingMatch.objects.count() == 0


def test_match_past_incidents_is_idempotent_and_bounded(team, api_gateway):
    pasts = [
        past_postmortem(team, api_gateway, CERT, days=60 + n, status=Status.BLOCKED)
        for n in range(4)
    ]
    for postmortem in pasts:
        factories.ActionItemFactory(
            postmortem=postmortem, team=team, category=Category.DETECTION
        )
    cache_vectors(*pasts)
    finding = new_finding(team, api_gateway, root_cause=CERT)

    similarity.match_past_incidents(findings=[finding])
    similarity.match_past_incidents(findings=[finding])

    matches = list(FindingMatch.objects.select_related("action_item"))
    assert len(matches) == similarity.MAX_MATCHES_PER_FINDING
    # At most three past incidents, each with its prevention item first.
    past_ids = {m.past_incident_id for m in matches}
    assert len(past_ids) == similarity.MAX_PAST_INCIDENTS_PER_FINDING
    assert {m.action_item.category for m in matches} >= {Category.PREVENTION}


def test_findings_follow_up_records_similarity_matches_once(team, api_gateway):
    cert = past_postmortem(team, api_gateway, CERT)
    cache_vectors(cert)
    finding = new_finding(team, api_gateway, root_cause=CERT)

    findings_follow_up(finding_ids=[finding.pk])
    findings_follow_up(finding_ids=[finding.pk])

    match = FindingMatch.objects.get()
    assert match.past_incident == cert.incident
    assert match.reason == f"Root cause 1.00 similar to {cert.incident.reference}"


@pytest.mark.parametrize("failing", [False, True], ids=["chunks", "one-by-one"])
def test_incident_follow_up_reads_the_past_vectors_once(
    team, api_gateway, monkeypatch, failing
):
    """GIVEN an incident with five due findings, followed up two at a time
    WHEN its task runs (and, in the second case, one chunk fails and is retried
    one finding at a time)
    THEN the past incidents' vector matrix is read once for the whole run."""
    import insights.selectors
    from findings import follow_up

    cert = past_postmortem(team, api_gateway, CERT)
    cache_vectors(cert)
    incident = factories.IncidentFactory(team=team, services=[api_gateway])
    findings = [
        factories.FindingFactory(
            incident=incident,
            service=api_gateway,
            fingerprint=f"fp-{n}",
            root_cause=CERT,
            follow_up_due=factories.BASE_TIME,
        )
        for n in range(5)
    ]
    reads = []
    read = insights.selectors.past_vectors_with_open_items

    def spy(**kwargs):
        reads.append(kwargs)
        return read(**kwargs)

    monkeypatch.setattr(insights.selectors, "past_vectors_with_open_items", spy)
    if failing:
        record = follow_up.findings_record_timeline

        def fails_in_a_batch(*, findings):
            if len(findings) > 1 and findings[0].pk == first:
                raise ValueError("only in a batch")
            return record(findings=findings)

        first = findings[0].pk
        monkeypatch.setattr(follow_up, "findings_record_timeline", fails_in_a_batch)

    result = follow_up.incident_findings_follow_up(incident_id=incident.pk, chunk=2)

    assert result == f"incident {incident.pk}: followed up 5 findings"
    assert len(reads) == 1
    # One match per (incident, item): the past incident's prevention item.
    assert FindingMatch.objects.get(incident=incident).past_incident == cert.incident
