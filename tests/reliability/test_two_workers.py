"""Scale-out: two Celery workers consume one queue, each task is done once.

Real processes: a throwaway PostgreSQL and redis-server, two ``celery worker``
processes (prefork, concurrency 1, as deploy/serve.sh runs them) with the product's
tasks. docs/deployment.md points here.
"""

import pytest

from tests import procs
from tests.reliability import scenario

pytestmark = [pytest.mark.slow, pytest.mark.faults]

APP = "tests.reliability.celery_app"

TASKS = 24
RUN_TASK = "insights.tasks.run_insights"


@pytest.fixture
def env(database_url, redis_server):
    return procs.django_env(
        KB_DATABASE_URL=database_url,
        KB_CELERY_BROKER_URL=redis_server.url(0),
        # Each classification takes a little while, so both workers get some.
        SLOW_EMBED_SECONDS="0.2",
    )


def test_two_workers_share_one_queue_and_run_each_task_once(env, tmp_path):
    """GIVEN two workers started on one Redis queue
    WHEN 24 postmortems are saved (each save queues its classification)
    THEN every classification runs exactly once, both workers took part, and no
    classification or embedding row is duplicated."""
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    workers = [
        procs.celery_worker(env, name=f"worker{n}", log=log, app=APP)
        for n, log in enumerate(logs)
    ]
    try:
        for log in logs:
            procs.wait_until(
                lambda log=log: procs.worker_ready(log), timeout=120, what=str(log)
            )
        ids = procs.shell(env, scenario.seed_postmortems(TASKS))["ids"]
        procs.shell(env, scenario.edit_postmortems(ids))
        url = env["KB_DATABASE_URL"]
        procs.wait_until(
            lambda: (
                all(
                    status not in ("pending", "running")
                    for _, status, _ in procs.query(url, scenario.RUNS_SQL)
                )
                and len(procs.query(url, scenario.RUNS_SQL)) == TASKS
            ),
            timeout=180,
            what="every classification to finish",
        )
    finally:
        for worker in workers:
            procs.stop(worker)

    runs = procs.query(url, scenario.RUNS_SQL)
    assert sorted(pk for pk, _, _ in runs) == sorted(ids)  # one run per save
    assert {(status, attempts) for _, status, attempts in runs} == {("succeeded", 1)}
    classified = procs.query(
        url, "SELECT postmortem_id FROM insights_postmortemclassification"
    )
    assert sorted(pk for (pk,) in classified) == sorted(ids)
    [(embeddings, distinct)] = procs.query(
        url,
        "SELECT count(*), count(DISTINCT (model_name, text_hash)) "
        "FROM insights_embeddingcache",
    )
    # The texts and the class descriptions, each embedded (and stored) once.
    assert embeddings == distinct >= TASKS
    assert procs.query(url, "SELECT count(*) FROM postmortems_outboxtask") == [(0,)]

    per_worker = [
        [task_id for name, task_id in procs.succeeded_tasks(log) if name == RUN_TASK]
        for log in logs
    ]
    done = per_worker[0] + per_worker[1]
    assert len(done) == len(set(done)) == TASKS  # each task executed once in all
    assert all(per_worker), [len(p) for p in per_worker]  # both workers consumed
