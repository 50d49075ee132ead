"""Kill a real Celery worker (Redis broker) in the middle of an insights run.

Everything runs in subprocesses against a throwaway SQLite file, so the worker and
the test see the same database; pytest-django's test database is not used.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDIS = ("127.0.0.1", 6379)

pytestmark = pytest.mark.slow


def _redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url():
    if not _redis_up():
        if os.environ.get("CI"):
            pytest.fail("Redis is not reachable at 127.0.0.1:6379 in CI.")
        pytest.skip("Redis is not reachable at 127.0.0.1:6379 (start redis-server).")
    url = "redis://127.0.0.1:6379/13"
    subprocess.run(["redis-cli", "-n", "13", "FLUSHDB"], capture_output=True)
    yield url
    subprocess.run(["redis-cli", "-n", "13", "FLUSHDB"], capture_output=True)


@pytest.fixture
def env(tmp_path, redis_url):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kb.settings",
        "KB_DATABASE_URL": f"sqlite:///{tmp_path / 'kill.sqlite3'}",
        "KB_CELERY_BROKER_URL": redis_url,
        "KB_CELERY_VISIBILITY_TIMEOUT": "3",
        "KB_INSIGHTS_STALE_SECONDS": "2",
        "KB_INSIGHTS_BATCH_SIZE": "2",
        "SLOW_EMBED_SECONDS": "1.5",
        "KB_EMBEDDING_MODEL": "fake-hashing-bow",
        "KB_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    _manage(environment, "migrate", "-v0")
    return environment


def _manage(env, *args) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _shell(env, code: str):
    """Run Django code in a fresh process; returns the JSON it prints last."""
    out = _manage(env, "shell", "-c", code)
    return json.loads(out.strip().splitlines()[-1])


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


def _worker(env):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.insights.celery_slow",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
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
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_killed_worker_run_is_retried_and_results_stay_consistent(env):
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
    worker = _worker(env)
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

        worker = _worker(env)  # the broker redelivers the unacknowledged task
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
