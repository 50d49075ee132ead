"""Redis down while people save postmortems and analyzers post findings.

Real processes, production shape: gunicorn (2 workers, KB_DEBUG=0) and a Celery
worker on a throwaway PostgreSQL, with one throwaway redis-server as the broker
(db 0) and the cache (db 1), as deploy/serve.sh has it. The editor signs in and
submits the editor form; an analyzer posts findings with an API key
(tests/reliability/faults.py, ``redis_outage``).

Redis is killed; the saves and the findings must still succeed, their follow-on
work (the postmortem's classification in the outbox, the findings' follow-up on
the finding rows) waits, and once Redis is back the relay sends it: each piece of
work runs exactly once.
The latencies are reported by bench/faults_bench.py (same scenario); here they
are only bounded (no request hangs on the broker).
"""

import re

import pytest

from tests import procs
from tests.reliability.faults import CLASSIFY, FOLLOW_UP, redis_outage

pytestmark = [pytest.mark.slow, pytest.mark.faults]

SAVES = 6  # editor saves in each phase
FINDINGS = 12  # findings posted in each phase


@pytest.fixture
def env(database_url, redis_server):
    return procs.django_env(
        KB_DATABASE_URL=database_url,
        KB_CELERY_BROKER_URL=redis_server.url(0),
        KB_CACHE_URL=redis_server.url(1),
    )


def test_redis_outage_saves_and_ingestion_succeed_and_work_runs_once_after(
    env, redis_server, tmp_path
):
    """GIVEN the production shape with Redis as broker and cache
    WHEN Redis is killed while 6 postmortems are saved and 12 findings posted
    THEN every save and post succeeds, pages still load, the 6 classifications
    wait in the outbox and the 12 follow-ups on their findings, and after Redis is
    back and the relay ran each one ran exactly once: nothing lost, nothing
    twice."""
    result = redis_outage(env, redis_server, tmp_path, saves=SAVES, findings=FINDINGS)

    phases = result["phases"]
    for name, count in (("before", FINDINGS), ("outage", FINDINGS), ("after", 1)):
        saves = len(phases[name]["save"])
        assert phases[name]["statuses"] == [302] * saves + [201] * count, name
    assert result["page_status"] == 200
    # No request waited on the broker: each was refused at once, well inside the
    # 30 s client timeout (the figures are in BENCHMARKS.md, faults).
    outage = phases["outage"]
    assert max(outage["save"] + outage["finding"]) < 30
    assert [name for name, _ in result["pending"]] == [CLASSIFY] * SAVES
    assert all(attempts >= 1 for _, attempts in result["pending"])  # tried, kept
    # Each finding is its own outbox entry: the refused follow-ups are due.
    assert result["follow_ups_due"] == FINDINGS
    assert re.search(
        rf"Sent {SAVES} pending task\(s\) and .*the follow-up of {FINDINGS} "
        r"finding\(s\)",
        result["relayed"],
    )
    assert "; 0 task(s) still pending" in result["relayed"]

    done = result["done"]
    assert len({task_id for _, task_id in done}) == len(done)  # no task twice
    assert [name for name, _ in done].count(CLASSIFY) == 2 * SAVES + 1
    # One follow-up task per incident while one waits (KB_FOLLOW_UP_COALESCE): at
    # least one before, the relayed one, the one after; at most one per post.
    follow_ups = [name for name, _ in done].count(FOLLOW_UP)
    assert 3 <= follow_ups <= FINDINGS + 2
    runs = result["runs"]
    # One classification per save (the first postmortem was saved twice).
    ids = result["ids"]
    assert sorted(pk for pk, _, _ in runs) == sorted(ids + ids[:1])
    assert {(status, attempts) for _, status, attempts in runs} == {("succeeded", 1)}
    titles = [title for (title,) in result["suggestions"]]
    assert len(titles) == 2 * FINDINGS + 1 == len(set(titles))  # each follow-up ran
    assert result["outbox_left"] == [(0,)]
    assert result["follow_ups_left"] == 0
