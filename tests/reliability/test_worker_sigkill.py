"""A worker killed with SIGKILL mid-task: every task completes, no row duplicated.

Real processes: throwaway PostgreSQL and redis-server, ``celery worker`` (prefork,
concurrency 1) with the product's classification task, made slow by the fake
embedder of tests/insights/celery_slow.py so the kill lands inside a task. The
broker's visibility timeout is shortened to 4 s so the unacknowledged task comes
back quickly (production: KB_CELERY_VISIBILITY_TIMEOUT, an hour).
"""

import pytest

from tests import procs
from tests.reliability import scenario

pytestmark = [pytest.mark.slow, pytest.mark.faults]

APP = "tests.reliability.celery_app"

TASKS = 8


@pytest.fixture
def env(database_url, redis_server):
    return procs.django_env(
        KB_DATABASE_URL=database_url,
        KB_CELERY_BROKER_URL=redis_server.url(0),
        KB_CELERY_VISIBILITY_TIMEOUT="4",
        KB_INSIGHTS_STALE_SECONDS="2",
        SLOW_EMBED_SECONDS="1.5",
    )


def _worker(env, log):
    return procs.celery_worker(env, name=log.stem, log=log, app=APP)


def test_worker_killed_mid_task_every_task_completes_once(env, tmp_path):
    """GIVEN 8 classifications queued and a worker in the middle of one
    WHEN the worker (parent and child) is killed with SIGKILL
    THEN after a new worker starts, every classification has succeeded, the
    interrupted one ran again (attempt 2), and no row is duplicated."""
    url = env["KB_DATABASE_URL"]
    ids = procs.shell(env, scenario.seed_postmortems(TASKS))["ids"]
    procs.shell(env, scenario.edit_postmortems(ids))
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    worker = _worker(env, first_log)
    try:
        running = procs.wait_until(
            lambda: [
                pk
                for pk, status, _ in procs.query(url, scenario.RUNS_SQL)
                if status == "running"
            ],
            timeout=120,
            what="a classification to be running",
        )
        procs.kill(worker)
        interrupted = running[0]
        runs = dict(
            (pk, status) for pk, status, _ in procs.query(url, scenario.RUNS_SQL)
        )
        assert runs[interrupted] == "running"  # killed mid-task
        assert "pending" in runs.values()  # with work still queued behind it

        worker = _worker(env, second_log)
        procs.wait_until(
            lambda: all(
                status in ("succeeded", "failed")
                for _, status, _ in procs.query(url, scenario.RUNS_SQL)
            ),
            timeout=150,
            what="every classification to finish after the restart",
        )
    finally:
        procs.stop(worker)

    runs = procs.query(url, scenario.RUNS_SQL)
    assert sorted(pk for pk, _, _ in runs) == sorted(ids)  # still one run per save
    assert {status for _, status, _ in runs} == {"succeeded"}
    attempts = {pk: n for pk, _, n in runs}
    assert attempts.pop(interrupted) == 2  # redelivered and taken over
    assert set(attempts.values()) == {1}
    classified = procs.query(
        url, "SELECT postmortem_id FROM insights_postmortemclassification"
    )
    assert sorted(pk for (pk,) in classified) == sorted(ids)
    [(embeddings, distinct)] = procs.query(
        url,
        "SELECT count(*), count(DISTINCT (model_name, text_hash)) "
        "FROM insights_embeddingcache",
    )
    assert embeddings == distinct >= TASKS
    assert procs.query(url, "SELECT count(*) FROM postmortems_outboxtask") == [(0,)]
