"""Follow-up work after ingestion: enqueued through the outbox, idempotent."""

import datetime as dt
import json

import pytest

from actions.models import Category, Status
from postmortems.findings import similarity, tasks
from postmortems.models import (
    FindingMatch,
    FindingSuggestion,
    OutboxTask,
    PostmortemStatus,
    TimelineEntry,
)
from tests import factories

pytestmark = pytest.mark.django_db


def finding(**fields) -> dict:
    return {
        "analyzer": "api-tracer",
        "fingerprint": "fp-1",
        "incident_key": "inc-1",
        "title": "Checkout 5xx",
        "suggested_actions": [
            {"kind": "revert_change", "title": "Revert deploy 4812", "target": "4812"},
            {"kind": "file_bug", "title": "Pool size guard"},
        ],
        **fields,
    }


def post(client, key, payload):
    return client.post(
        "/api/v1/findings/",
        data=json.dumps(payload),
        content_type="application/json",
        headers={"Authorization": f"Api-Key {key}"},
    )


def test_ingestion_records_the_follow_up_in_the_outbox_and_sends_it_on_commit(
    client, findings_key, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(client, findings_key, finding())

    row = OutboxTask.objects.get()
    assert row.task_name == "postmortems.findings.follow_up"
    assert row.kwargs == {"finding_ids": [response.json()["id"]]}
    assert FindingSuggestion.objects.count() == 0
    for callback in callbacks:
        callback()
    assert OutboxTask.objects.count() == 0  # sent
    assert FindingSuggestion.objects.count() == 2


def test_suggestions_are_never_duplicated_when_a_finding_is_resent(
    client, findings_key, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, findings_key, finding())
        post(client, findings_key, finding(summary="now with a summary"))

    suggestions = FindingSuggestion.objects.order_by("pk")
    assert [(s.kind, s.category) for s in suggestions] == [
        ("revert_change", "mitigation"),
        ("file_bug", "prevention"),
    ]


def test_follow_up_task_is_safe_to_run_twice(client, findings_key):
    finding_id = post(client, findings_key, finding()).json()["id"]

    first = tasks.findings_follow_up(finding_ids=[finding_id])
    counts = (
        TimelineEntry.objects.count(),
        FindingSuggestion.objects.count(),
        FindingMatch.objects.count(),
    )
    tasks.findings_follow_up(finding_ids=[finding_id])

    assert first.startswith("1 findings")
    assert counts == (1, 2, 0)
    assert (
        TimelineEntry.objects.count(),
        FindingSuggestion.objects.count(),
        FindingMatch.objects.count(),
    ) == counts


def test_follow_up_task_exits_cleanly_when_the_findings_are_gone():
    assert tasks.findings_follow_up(finding_ids=[424242]) == "no findings (deleted?)"


def test_purge_forgets_idempotency_records_after_a_day(
    client, findings_key, time_machine
):
    time_machine.move_to(dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.UTC))
    client.post(
        "/api/v1/findings/",
        data=json.dumps(finding()),
        content_type="application/json",
        headers={"Authorization": f"Api-Key {findings_key}", "Idempotency-Key": "k"},
    )
    time_machine.move_to(dt.datetime(2026, 5, 2, 11, 0, tzinfo=dt.UTC))

    assert tasks.idempotency_records_purge() == "purged 1 idempotency records"


# -- Matching past incidents ---------------------------------------------------------


@pytest.fixture
def orders_db(team):
    return factories.ServiceFactory(slug="orders-db", name="Orders DB", team=team)


def past_incident(team, service, *, analyzer="storage-probe", status=Status.BLOCKED):
    past = factories.IncidentFactory(
        team=team,
        services=[service],
        started_at=factories.BASE_TIME - dt.timedelta(days=60),
    )
    factories.FindingFactory(incident=past, analyzer=analyzer, service=service)
    postmortem = factories.PostmortemFactory(
        incident=past, status=PostmortemStatus.PUBLISHED
    )
    factories.ActionItemFactory(
        postmortem=postmortem,
        team=team,
        category=Category.PREVENTION,
        status=status,
        status_reason="waiting" if status == Status.BLOCKED else "",
    )
    return past


def new_finding(team, service, analyzer="storage-probe"):
    incident = factories.IncidentFactory(team=team, services=[service])
    return factories.FindingFactory(
        incident=incident, analyzer=analyzer, service=service
    )


def test_match_past_incidents_falls_back_to_service_and_analyzer_without_vectors(
    team, orders_db
):
    past = past_incident(team, orders_db)
    finding = new_finding(team, orders_db)

    similarity.match_past_incidents(findings=[finding])
    similarity.match_past_incidents(findings=[finding])

    match = FindingMatch.objects.get()
    assert match.incident == finding.incident
    assert match.past_incident == past
    assert match.reason == (
        "Same service (Orders DB) and analyzer (storage-probe); "
        "no root-cause vectors yet (insights has not run)"
    )


def test_match_past_incidents_ignores_closed_items_other_analyzers_and_later_ones(
    team, orders_db
):
    past_incident(team, orders_db, status=Status.DONE)
    past_incident(team, orders_db, analyzer="log-anomaly-scanner")
    later = past_incident(team, orders_db)
    later.started_at = factories.BASE_TIME + dt.timedelta(days=30)
    later.save()
    finding = new_finding(team, orders_db)

    similarity.match_past_incidents(findings=[finding])

    assert FindingMatch.objects.count() == 0
