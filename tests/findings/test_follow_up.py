"""Follow-up work after ingestion: sent on commit, never lost, idempotent."""

import datetime as dt
import importlib
import json

import pytest
from django.core.cache import caches
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from actions.models import Category, Status
from findings import dispatch, follow_up, services, similarity, tasks
from findings.models import Finding, FindingMatch, FindingSuggestion
from findings.services.upsert import RESEND_AFTER
from postmortems.models import OutboxTask, PostmortemStatus, TimelineEntry
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


REVERT_CONFIG = {
    "kind": "rollback_config",
    "title": "Roll back pool size",
    "target": "pool.max",
}


def post(client, key, payload):
    return client.post(
        "/api/v1/findings/",
        data=json.dumps(payload),
        content_type="application/json",
        headers={"Authorization": f"Api-Key {key}"},
    )


def test_ingestion_sends_the_follow_up_on_commit_and_the_task_marks_it_done(
    client, findings_key, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(client, findings_key, finding())

    row = Finding.objects.get(pk=response.json()["id"])
    # Due again in 5 minutes unless its task runs first; no separate outbox row.
    assert row.follow_up_due == row.last_seen_at + RESEND_AFTER
    assert OutboxTask.objects.count() == 0
    assert FindingSuggestion.objects.count() == 0
    for callback in callbacks:
        callback()
    assert FindingSuggestion.objects.count() == 2
    row.refresh_from_db()
    assert row.follow_up_due is None
    assert dispatch.relay() == 0


def test_broker_down_the_follow_up_waits_and_the_relay_sends_it_once_back(
    client, findings_key, broker_down, django_capture_on_commit_callbacks
):
    """GIVEN a finding posted while the broker is down
    WHEN the relay runs, then the broker is back and the relay runs twice
    THEN the post succeeded at once, and the follow-up ran exactly once, when the
    broker was back."""
    from kb.celery import app

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, findings_key, finding())
    assert response.status_code == 201
    row = Finding.objects.get()
    assert row.follow_up_due <= timezone.now()  # due at once, for the relay
    assert dispatch.relay() == 0  # still down: nothing lost
    assert Finding.objects.get().follow_up_due is not None

    app.conf.task_always_eager = True  # "the broker is back"
    assert dispatch.relay() == 1
    assert dispatch.relay() == 0
    assert FindingSuggestion.objects.count() == 2
    assert Finding.objects.get().follow_up_due is None


def test_a_follow_up_lost_after_commit_is_sent_again_after_five_minutes(
    client, findings_key, django_capture_on_commit_callbacks, time_machine
):
    """The process died between commit and send (or the broker lost the task)."""
    time_machine.move_to(timezone.now(), tick=False)
    with django_capture_on_commit_callbacks(execute=False):
        post(client, findings_key, finding())  # the send never happens

    time_machine.shift(RESEND_AFTER - dt.timedelta(seconds=1))
    assert dispatch.relay() == 0  # may still be in the queue
    time_machine.shift(dt.timedelta(seconds=1))
    assert dispatch.relay() == 1
    assert FindingSuggestion.objects.count() == 2


@pytest.fixture
def sent(monkeypatch) -> list[dict]:
    """The broker takes every follow-up task, and no worker runs them."""
    accepted: list[dict] = []
    monkeypatch.setattr(
        tasks.findings_follow_up,
        "apply_async",
        lambda kwargs, retry: accepted.append(kwargs),
    )
    return accepted


def test_a_slow_queue_gets_at_most_one_resend_per_period(
    client, findings_key, django_capture_on_commit_callbacks, time_machine, sent
):
    time_machine.move_to(timezone.now(), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        incident_id = post(client, findings_key, finding()).json()["incident_id"]
    assert sent == [{"incident_id": incident_id}]

    time_machine.shift(RESEND_AFTER)
    assert dispatch.relay() == 1
    assert dispatch.relay() == 0
    time_machine.shift(RESEND_AFTER - dt.timedelta(seconds=1))
    assert dispatch.relay() == 0
    assert sent == [{"incident_id": incident_id}] * 2


def test_the_relay_sends_a_large_backlog_in_one_run_each_incident_once(
    client, findings_key, broker_down, django_capture_on_commit_callbacks, monkeypatch
):
    """After a long outage: 250 refused follow-ups over 5 incidents, the incidents
    read 2 at a time."""
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            response = post(
                client,
                findings_key,
                [
                    finding(fingerprint=f"fp-{n}-{m}", incident_key=f"inc-{n}")
                    for m in range(50)
                ],
            )
            assert response.status_code == 201
    sent: list[dict] = []
    monkeypatch.setattr(
        tasks.findings_follow_up,
        "apply_async",
        lambda kwargs, retry: sent.append(kwargs),
    )

    assert dispatch.relay(page=2) == 250
    assert dispatch.relay(page=2) == 0
    incidents = sorted(set(Finding.objects.values_list("incident_id", flat=True)))
    assert sorted(kwargs["incident_id"] for kwargs in sent) == incidents


def test_an_incident_task_follows_up_all_its_due_findings_in_chunks(
    client, findings_key, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = post(
            client,
            findings_key,
            [finding(fingerprint=f"fp-{n}", suggested_actions=[]) for n in range(7)],
        )
    incident_id = response.json()["findings"][0]["incident_id"]

    assert follow_up.incident_findings_follow_up(incident_id=incident_id, chunk=3) == (
        f"incident {incident_id}: followed up 7 findings"
    )
    assert dispatch.pending() == 0
    assert TimelineEntry.objects.filter(incident_id=incident_id).count() == 1


# -- One task per incident while one waits (KB_FOLLOW_UP_COALESCE) ---------------


@pytest.fixture
def coalesce(settings):
    settings.KB_FOLLOW_UP_COALESCE = True
    caches["default"].clear()


def test_an_alert_storm_queues_one_follow_up_per_incident_until_it_starts(
    client, findings_key, django_capture_on_commit_callbacks, coalesce, sent
):
    """GIVEN findings posted to one incident while its follow-up waits in the queue
    WHEN the queued task runs
    THEN only one task was sent, it followed up every one of them, and the next
    finding sends a task of its own."""
    with django_capture_on_commit_callbacks(execute=True):
        ids = [
            post(client, findings_key, finding(fingerprint=f"fp-{n}")).json()["id"]
            for n in range(3)
        ]
        other = post(
            client, findings_key, finding(fingerprint="fp-9", incident_key="inc-2")
        ).json()
    incident_id = Finding.objects.get(pk=ids[0]).incident_id
    assert sent == [{"incident_id": incident_id}, {"incident_id": other["incident_id"]}]

    tasks.findings_follow_up(**sent[0])

    assert not Finding.objects.filter(pk__in=ids, follow_up_due__isnull=False).exists()
    assert FindingSuggestion.objects.filter(finding_id__in=ids).count() == 3 * 2
    with django_capture_on_commit_callbacks(execute=True):
        post(client, findings_key, finding(fingerprint="fp-late"))
    assert sent[2:] == [{"incident_id": incident_id}]


@pytest.mark.django_db(transaction=True)
def test_an_error_sending_the_follow_up_after_commit_still_answers_201(
    client, findings_key, coalesce, monkeypatch
):
    """The finding is committed (here for real: the hook runs inside the request):
    the response says so, and the relay has it."""

    def cache_broken(key, timeout):
        raise RuntimeError("unexpected cache reply")

    monkeypatch.setattr("kb.cache.claim", cache_broken)
    response = post(client, findings_key, finding())

    assert response.status_code == 201
    assert Finding.objects.get().follow_up_due is not None
    assert FindingSuggestion.objects.count() == 0


def test_a_refused_follow_up_leaves_the_incident_unclaimed(
    client, findings_key, broker_down, django_capture_on_commit_callbacks, coalesce
):
    """The broker was down: the next finding tries to send again."""
    with django_capture_on_commit_callbacks(execute=True):
        post(client, findings_key, finding())
    incident_id = Finding.objects.get().incident_id

    assert caches["default"].get(f"findings:follow-up-queued:{incident_id}") is None
    assert Finding.objects.get().follow_up_due <= timezone.now()


def test_copies_of_a_follow_up_do_the_work_once_on_the_latest_version(
    client, findings_key, django_capture_on_commit_callbacks
):
    """A finding re-sent while its first follow-up waits in the queue: the first
    task to run sees the latest version, the later copy finds nothing to do."""
    with django_capture_on_commit_callbacks(execute=False):
        incident_id = post(client, findings_key, finding()).json()["incident_id"]
        post(client, findings_key, finding(suggested_actions=[REVERT_CONFIG]))

    first = tasks.findings_follow_up(incident_id=incident_id)
    second = tasks.findings_follow_up(incident_id=incident_id)

    assert first == f"incident {incident_id}: followed up 1 findings"
    assert second == f"incident {incident_id}: followed up 0 findings"
    assert list(FindingSuggestion.objects.values_list("title", flat=True)) == [
        "Roll back pool size"
    ]


def test_a_finding_resent_while_its_follow_up_runs_stays_due_for_its_own(
    client, findings_key, django_capture_on_commit_callbacks, monkeypatch
):
    """The running task read the old version; the new one must still be followed
    up (by its own task, or the relay if that one is lost)."""
    with django_capture_on_commit_callbacks(execute=False):
        incident_id = post(client, findings_key, finding()).json()["incident_id"]

    match = similarity.match_past_incidents

    def resent_meanwhile(*, findings, **kwargs):
        with django_capture_on_commit_callbacks(execute=False):
            post(client, findings_key, finding(suggested_actions=[REVERT_CONFIG]))
        return match(findings=findings, **kwargs)

    monkeypatch.setattr(similarity, "match_past_incidents", resent_meanwhile)
    tasks.findings_follow_up(incident_id=incident_id)
    monkeypatch.setattr(similarity, "match_past_incidents", match)

    assert Finding.objects.get().follow_up_due is not None
    tasks.findings_follow_up(incident_id=incident_id)
    titles = set(FindingSuggestion.objects.values_list("title", flat=True))
    assert "Roll back pool size" in titles
    assert Finding.objects.get().follow_up_due is None


def test_the_task_releases_the_claim_before_it_reads_so_later_findings_send(
    client,
    findings_key,
    django_capture_on_commit_callbacks,
    coalesce,
    sent,
    monkeypatch,
):
    """A finding committed while the incident's task runs sends a task of its own:
    the running one may already have read past it."""
    with django_capture_on_commit_callbacks(execute=True):
        incident_id = post(client, findings_key, finding()).json()["incident_id"]
    match = similarity.match_past_incidents

    def posted_meanwhile(*, findings, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            post(client, findings_key, finding(fingerprint="fp-meanwhile"))
        return match(findings=findings, **kwargs)

    monkeypatch.setattr(similarity, "match_past_incidents", posted_meanwhile)
    tasks.findings_follow_up(incident_id=incident_id)

    assert sent == [{"incident_id": incident_id}] * 2
    assert Finding.objects.get(fingerprint="fp-meanwhile").follow_up_due is not None


def test_one_failing_finding_does_not_hold_up_the_others_of_its_incident(
    client, findings_key, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    with django_capture_on_commit_callbacks(execute=False):
        response = post(
            client, findings_key, [finding(fingerprint=f"fp-{n}") for n in range(3)]
        )
    incident_id = response.json()["findings"][0]["incident_id"]
    bad = Finding.objects.get(fingerprint="fp-1")
    record = services.findings_record_timeline

    def broken_for_one(*, findings):
        if any(f.pk == bad.pk for f in findings):
            raise ValueError("a finding this code cannot handle")
        return record(findings=findings)

    monkeypatch.setattr(
        "findings.follow_up.findings_record_timeline",
        broken_for_one,
    )
    result = tasks.findings_follow_up(incident_id=incident_id)

    assert (
        result == f"incident {incident_id}: followed up 2 findings, 1 failed (left due)"
    )
    due = set(
        Finding.objects.filter(follow_up_due__isnull=False).values_list("pk", flat=True)
    )
    assert due == {bad.pk}  # the relay tries it again
    assert f"Follow-up of finding {bad.pk} failed" in caplog.text


def test_a_message_sent_before_the_upgrade_is_still_followed_up(
    client, findings_key, django_capture_on_commit_callbacks
):
    """Queued with finding ids, for a row the upgrade left without a due time."""
    with django_capture_on_commit_callbacks(execute=False):
        finding_id = post(client, findings_key, finding()).json()["id"]
    Finding.objects.update(follow_up_due=None)

    assert tasks.findings_follow_up(finding_ids=[finding_id]).startswith("1 findings")
    assert FindingSuggestion.objects.count() == 2


def test_the_relay_ends_when_its_clock_is_ahead_of_this_one(
    client, findings_key, django_capture_on_commit_callbacks, sent
):
    with django_capture_on_commit_callbacks(execute=False):
        for n in range(3):
            post(
                client,
                findings_key,
                finding(fingerprint=f"fp-{n}", incident_key=f"i{n}"),
            )

    ahead = timezone.now() + 2 * RESEND_AFTER
    assert dispatch.relay(page=1, now=ahead) == 3
    assert len(sent) == 3


def test_follow_ups_left_in_the_old_outbox_become_due_on_their_findings(
    client, findings_key
):
    """The migration that made findings their own outbox keeps pending work."""
    migration = importlib.import_module(
        "postmortems.migrations.0006_finding_follow_up_due"
    )
    finding_id = post(client, findings_key, finding()).json()["id"]
    Finding.objects.update(follow_up_due=None)
    FindingSuggestion.objects.all().delete()
    OutboxTask.objects.create(
        task_name=tasks.findings_follow_up.name, kwargs={"finding_ids": [finding_id]}
    )

    # Run against the models as they were then (Finding was in postmortems).
    state = MigrationLoader(connection).project_state(
        ("postmortems", "0006_finding_follow_up_due")
    )
    migration.move_pending_follow_ups(state.apps, None)

    assert OutboxTask.objects.count() == 0
    assert dispatch.relay() == 1
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
