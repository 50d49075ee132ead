"""Redis down while people save postmortems and analyzers post findings.

Real processes, production shape: gunicorn (2 workers, KB_DEBUG=0) and a Celery
worker on a throwaway PostgreSQL, with one throwaway redis-server as the broker
(db 0) and the cache (db 1), as deploy/serve.sh has it. The editor signs in and
submits the editor form; an analyzer posts findings with an API key.

Redis is killed; the saves and the findings must still succeed, their follow-on
work (the postmortem's classification, the findings' follow-up) stays in the
outbox, and once Redis is back the relay sends it: each task runs exactly once.
The latencies during the outage are measured by bench/faults_bench.py, which runs
this same scenario (``outage()``); here they are only bounded (no request hangs
on the broker).
"""

import re

import pytest
import requests

from tests import procs
from tests.reliability import scenario, web

pytestmark = pytest.mark.slow

SAVES = 6  # editor saves during the outage
FINDINGS = 12  # findings posted during the outage
FOLLOW_UP = "postmortems.findings.follow_up"
CLASSIFY = "insights.tasks.run_insights"


def outage(env, redis_server, tmp_path, *, saves: int, findings: int) -> dict:
    """Run the scenario; return what was measured (the test and the bench)."""
    url = env["KB_DATABASE_URL"]
    seed = procs.shell(env, scenario.seed_postmortems(saves + 1))
    ids, key = seed["ids"], seed["key"]
    port = procs.free_port()
    base = f"http://127.0.0.1:{port}"
    worker_log = tmp_path / "worker.log"
    worker = procs.celery_worker(env, name="worker", log=worker_log)
    server = None
    try:
        server = procs.gunicorn(env, port=port, log=tmp_path / "gunicorn.log")
        person, analyzer = requests.Session(), requests.Session()
        web.login(person, base, *scenario.EDITOR, timeout=30)
        forms = {pk: web.editor_form(person, base, pk, timeout=30) for pk in ids}
        procs.wait_until(
            lambda: procs.worker_ready(worker_log), timeout=120, what="the worker"
        )

        # Before: one save and one finding, sent and run at once.
        response, _ = web.save_postmortem(
            person, base, ids[0], forms[ids[0]], "Before the outage.", timeout=30
        )
        assert response.status_code == 302, response.text[:500]
        response, _ = web.post_finding(
            analyzer,
            base,
            key,
            web.finding("before", 0, incident_key="inc-1"),
            timeout=30,
        )
        assert response.status_code == 201, response.text[:500]
        procs.wait_until(
            lambda: len(procs.succeeded_tasks(worker_log)) == 2,
            timeout=60,
            what="the work saved before the outage to run",
        )

        redis_server.stop()
        save_seconds, finding_seconds, statuses = [], [], []
        for n, pk in enumerate(ids[1:]):
            response, seconds = web.save_postmortem(
                person, base, pk, forms[pk], f"During the outage ({n}).", timeout=30
            )
            statuses.append(response.status_code)
            save_seconds.append(seconds)
        for n in range(findings):
            response, seconds = web.post_finding(
                analyzer,
                base,
                key,
                web.finding("outage", n, incident_key="inc-1"),
                timeout=30,
            )
            statuses.append(response.status_code)
            finding_seconds.append(seconds)
        page = person.get(f"{base}/incidents/", timeout=30)
        pending = procs.query(
            url, "SELECT task_name, attempts FROM postmortems_outboxtask"
        )

        redis_server.start()  # the same port, empty: nothing was queued in it
        relayed = procs.manage(env, "relay_outbox", "--min-age", "0")
        # After: the web processes publish directly again.
        response, _ = web.save_postmortem(
            person,
            base,
            ids[0],
            web.editor_form(person, base, ids[0], timeout=30),
            "After the outage.",
            timeout=30,
        )
        statuses.append(response.status_code)
        response, _ = web.post_finding(
            analyzer,
            base,
            key,
            web.finding("after", 0, incident_key="inc-1"),
            timeout=30,
        )
        statuses.append(response.status_code)
        total = 4 + saves + findings
        procs.wait_until(
            lambda: len(procs.succeeded_tasks(worker_log)) >= total,
            timeout=120,
            what="the relayed tasks to run",
        )
    finally:
        procs.stop(server)
        procs.stop(worker)
    return {
        "statuses": statuses,
        "page_status": page.status_code,
        "save_seconds": save_seconds,
        "finding_seconds": finding_seconds,
        "pending": pending,
        "relayed": relayed,
        "done": procs.succeeded_tasks(worker_log),
        "runs": procs.query(url, scenario.RUNS_SQL),
        "suggestions": procs.query(
            url, "SELECT title FROM postmortems_findingsuggestion ORDER BY title"
        ),
        "outbox_left": procs.query(url, "SELECT count(*) FROM postmortems_outboxtask"),
        "ids": ids,
    }


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
    THEN every save and post succeeds, pages still load, the 18 follow-on tasks
    wait in the outbox, and after Redis is back and the relay ran each one ran
    exactly once: nothing lost, nothing twice."""
    result = outage(env, redis_server, tmp_path, saves=SAVES, findings=FINDINGS)

    assert result["statuses"] == [302] * SAVES + [201] * FINDINGS + [302, 201]
    assert result["page_status"] == 200
    # No request waited on the broker: each was refused at once, well inside the
    # 30 s client timeout (the figures are in BENCHMARKS.md, faults).
    assert max(result["save_seconds"] + result["finding_seconds"]) < 30
    pending = sorted(name for name, _ in result["pending"])
    assert pending == sorted([CLASSIFY] * SAVES + [FOLLOW_UP] * FINDINGS)
    assert all(attempts >= 1 for _, attempts in result["pending"])  # tried, kept
    assert re.search(
        rf"Sent {SAVES + FINDINGS} pending task\(s\); 0 still", result["relayed"]
    )

    done = result["done"]
    assert len({task_id for _, task_id in done}) == len(done)  # no task twice
    assert sorted(name for name, _ in done) == sorted(
        [CLASSIFY] * (SAVES + 2) + [FOLLOW_UP] * (FINDINGS + 2)
    )
    runs = result["runs"]
    # One classification per save (the first postmortem was saved twice).
    assert sorted(pk for pk, _, _ in runs) == sorted(result["ids"] + result["ids"][:1])
    assert {(status, attempts) for _, status, attempts in runs} == {("succeeded", 1)}
    titles = [title for (title,) in result["suggestions"]]
    assert len(titles) == FINDINGS + 2 == len(set(titles))  # every follow-up's row
    assert result["outbox_left"] == [(0,)]
