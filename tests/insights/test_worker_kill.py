"""Kill a real Celery worker (Redis broker) in the middle of an insights run.

Everything runs in subprocesses against a throwaway SQLite file and a throwaway
redis-server (tests/procs.py), so the worker and the test see the same database;
pytest-django's test database is not used.
"""

import signal
import time

import pytest

from tests import procs

pytestmark = [pytest.mark.slow, pytest.mark.faults]


@pytest.fixture
def redis_url(tmp_path):
    """A throwaway redis-server on a free port (tests/procs.py), not the shared one."""
    try:
        server = procs.RedisServer(tmp_path)
    except procs.Unavailable as exc:
        procs.unavailable(str(exc))
    server.start()
    yield server.url(0)
    server.stop()


@pytest.fixture
def env(tmp_path, redis_url):
    environment = procs.django_env(
        KB_DATABASE_URL=f"sqlite:///{tmp_path / 'kill.sqlite3'}",
        KB_CELERY_BROKER_URL=redis_url,
        KB_CELERY_VISIBILITY_TIMEOUT="3",
        KB_INSIGHTS_STALE_SECONDS="2",
        KB_INSIGHTS_BATCH_SIZE="2",
        SLOW_EMBED_SECONDS="1.5",
    )
    _manage(environment, "migrate", "-v0")
    return environment


def _manage(env, *args) -> str:
    return procs.manage(env, *args, timeout=180)


def _shell(env, code: str):
    """Run Django code in a fresh process; returns the JSON it prints last."""
    return procs.shell(env, code, timeout=180)


SEED = """
import json, datetime as dt
from django.contrib.auth import get_user_model
from postmortems.models import Incident, Postmortem, PostmortemTemplate, Team
team = Team.objects.create(slug="t", name="T")
author = get_user_model().objects.create(username="a")
template = PostmortemTemplate.objects.get(slug="google-sre")
kinds = ["tls certificate expired renewal", "search indexer redelivered batches",
         "disk filled log rotation", "leap second ntp clock drift"]
for i in range(40):
    incident = Incident.objects.create(
        title=f"I{i}", severity="SEV2", team=team,
        started_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=i))
    Postmortem.objects.create(incident=incident, template=template, author=author,
        sections={"root_cause": f"{kinds[i % 4]} again, case {i}"})
print(json.dumps(Postmortem.objects.count()))
"""

STATE = """
import json
from insights.models import *
runs = list(InsightRun.objects.order_by("pk").values("pk", "status", "progress",
            "attempts", "error"))
rows = sorted(PostmortemClassification.objects.values_list("postmortem_id",
              "failure_class__slug"))
classes = list(FailureClass.objects.values_list("slug", "name"))
embeddings = list(EmbeddingCache.objects.values_list("model_name", "text_hash"))
print(json.dumps({"runs": runs, "rows": rows, "classes": classes,
                  "embeddings": embeddings}))
"""


def _worker(env, log):
    # The slow embedder of celery_slow.py; unacknowledged tasks are looked for
    # every second (tests/reliability/celery_app.py).
    return procs.celery_worker(
        env, name=log.stem, log=log, app="tests.reliability.celery_app", pool="solo"
    )


def _wait(env, predicate, timeout: float, what: str) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _shell(env, STATE)
        if predicate(state):
            return state
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}: {state['runs']}")


def _stop(process) -> None:
    procs.stop(process, signal.SIGKILL)


def test_killed_worker_run_is_retried_and_results_stay_consistent(env, tmp_path):
    """GIVEN a successful insights run, then postmortems edited
    WHEN a worker is killed (SIGKILL) while the next run is embedding
    THEN the previous results stay readable, a new worker takes the run over and
    finishes it, and no class or embedding is duplicated."""
    assert _shell(env, SEED) == 40
    _manage(env, "run_insights")
    before = _shell(env, STATE)
    assert before["runs"][-1]["status"] == "succeeded"
    # Edit every postmortem so the next run has 40 new texts to embed slowly.
    _shell(
        env,
        "import json\nfrom postmortems.models import Postmortem\n"
        "for p in Postmortem.objects.all():\n"
        "    p.sections = {'root_cause': p.sections['root_cause'] + ' (edited)'}\n"
        "    p.save()\n"
        "print(json.dumps(1))",
    )
    worker = _worker(env, tmp_path / "first.log")
    try:
        run_id = _shell(
            env,
            "import json\nfrom insights import services\n"
            "print(json.dumps(services.insight_run_request().pk))",
        )
        _wait(
            env,
            lambda s: any(
                r["pk"] == run_id and r["status"] == "running" and r["progress"] > 5
                for r in s["runs"]
            ),
            timeout=90,
            what="the run to start embedding",
        )
        _stop(worker)
        during = _shell(env, STATE)
        assert during["rows"] == before["rows"]  # last good results still readable
        assert during["classes"] == before["classes"]

        worker = _worker(
            env, tmp_path / "second.log"
        )  # the broker redelivers the unacknowledged task
        after = _wait(
            env,
            lambda s: any(
                r["pk"] == run_id and r["status"] in ("succeeded", "failed")
                for r in s["runs"]
            ),
            timeout=120,
            what="the run to be retried",
        )
    finally:
        _stop(worker)
    run = next(r for r in after["runs"] if r["pk"] == run_id)
    assert run["status"] == "succeeded", run["error"]
    assert run["attempts"] == 2
    assert len(after["rows"]) == 40
    embeddings = [tuple(e) for e in after["embeddings"]]
    assert len(set(embeddings)) == len(embeddings)
    names = [name for _, name in after["classes"]]
    assert len(set(names)) == len(names)
    # 40 old texts + 40 edited ones + the class descriptions, each exactly once.
    descriptions = len(embeddings) - 80
    assert descriptions == len(before["embeddings"]) - 40
