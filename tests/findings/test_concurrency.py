"""Concurrent retries of the same findings never make a second row (SQLite and PG).

CI runs this file on SQLite (a file database, see tests/conftest.py) and again on
PostgreSQL (.ci/run sets KB_DATABASE_URL).
"""

import json
import random
import threading

import pytest
from django.db import connections
from django.test import Client

from findings.models import Finding, FindingSuggestion
from postmortems.models import Incident, TimelineEntry
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 16
FINDINGS = 200
ROUNDS = 3


def finding(n: int) -> dict:
    return {
        "analyzer": "api-tracer",
        "analyzer_version": "2.1.0",
        "fingerprint": f"fp-{n:04d}",
        "incident_key": "storm-2026-05-01",
        "service": "checkout-web",
        "severity": "high",
        "title": f"Slow span {n}",
        "suggested_actions": [{"kind": "file_bug", "title": f"Fix span {n}"}],
        # Every tenth finding hands off to the one before it.
        **({"parent_dedupe_key": f"api-tracer:fp-{n - 1:04d}"} if n % 10 == 9 else {}),
    }


def test_findings_concurrent_retries_make_exactly_one_row_per_dedupe_key(team):
    """GIVEN 16 clients that each send the same 200 findings 3 times, in their own
    order and batch sizes, all at once
    WHEN the requests race (the first ones also race to open the incident)
    THEN there are exactly 200 findings, one incident, no 5xx, no duplicate
    suggestions or timeline entries."""
    factories.ServiceFactory(slug="checkout-web", name="Checkout Web", team=team)
    from findings.services import api_key_create

    _, secret = api_key_create(name="storm", team=team, scopes=["findings:write"])
    payloads = [finding(n) for n in range(FINDINGS)]
    statuses: list[int] = []
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        client = Client()
        try:
            start.wait()
            for _ in range(ROUNDS):
                items = payloads[:]
                rng.shuffle(items)
                while items:
                    size = rng.choice([1, 7, 25, 60])
                    batch, items = items[:size], items[size:]
                    body = batch[0] if len(batch) == 1 else batch
                    response = client.post(
                        "/api/v1/findings/",
                        data=json.dumps(body),
                        content_type="application/json",
                        headers={"Authorization": f"Api-Key {secret}"},
                    )
                    with lock:
                        statuses.append(response.status_code)
                        if response.status_code >= 300:
                            failures.append(response.content.decode()[:300])
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            with lock:
                failures.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert set(statuses) <= {200, 201}
    assert Finding.objects.count() == FINDINGS
    assert Incident.objects.count() == 1
    assert FindingSuggestion.objects.count() == FINDINGS
    assert TimelineEntry.objects.count() == 1  # "opened automatically", once
    child = Finding.objects.get(fingerprint="fp-0019")
    assert child.parent.fingerprint == "fp-0018"
