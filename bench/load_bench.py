"""Load test of the production shape with locust: people and analyzers at once.

    /work/main/.venv/bin/python bench/load_bench.py              # 5 minutes
    /work/main/.venv/bin/python bench/load_bench.py --run-time 60s --persons 10

Starts a throwaway PostgreSQL and redis-server on free loopback ports (never the
machine's shared ones), loads the demo corpus (and runs insights once), then starts
the production shape with deploy/serve.sh itself (gunicorn 2 workers x 4 threads,
one Celery worker with the real embedding model, beat, whitenoise, KB_DEBUG=0) and
runs locust headless against 127.0.0.1 only, bounded by ``--run-time`` and
``--exit-code-on-error 1`` (bench/locustfile.py): people sign in, read lists,
incidents, postmortems and the dashboards and save their postmortems through the
editor, while analyzers post findings with API keys.

Reports the p95 of page requests (target < 300 ms; in-run reference: the p95 of
/healthz through the same server meanwhile), the number of 5xx responses (target
0), and findings lost (acknowledged with a 2xx but not stored; target 0).
tests/reliability/test_load_short.py runs a short version in CI.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Result, emit, percentile  # noqa: E402
from tests import procs  # noqa: E402
from tests.reliability.scenario import CAUSES  # noqa: E402

ANALYZER = "load-analyzer"

PLAN = """
import json
from django.contrib.auth import get_user_model
from postmortems import permissions
from findings.services import api_key_create
from postmortems.models import Incident, Postmortem, Team
users = list(get_user_model().objects.filter(is_active=True).order_by("username"))
slots = []
for pm in Postmortem.objects.select_related("incident").order_by("pk"):
    editors = [u for u in users
               if u.username != "demo" and permissions.can_edit_postmortem(u, pm)]
    if editors:
        slots.append([editors[pm.pk % len(editors)].username, pm.pk])
    else:  # approved or published: only an admin may still edit it
        slots.append(["demo", pm.pk])
keys, incidents_by_team = {}, {}
for team in Team.objects.order_by("slug"):
    ids = list(Incident.objects.filter(team=team).order_by("pk")
               .values_list("pk", flat=True))
    if ids:
        _, keys[team.slug] = api_key_create(
            name="load-analyzer", team=team, scopes=["findings:write"])
        incidents_by_team[team.slug] = ids
print(json.dumps({
    "edit_slots": slots,
    "readers": [u.username for u in users],
    "incidents": list(Incident.objects.order_by("pk").values_list("pk", flat=True)),
    "postmortems": list(Postmortem.objects.order_by("pk").values_list("pk", flat=True)),
    "keys": keys,
    "incidents_by_team": incidents_by_team,
}))
"""


def log(message: str) -> None:
    print(message, flush=True)


def run_load(
    *,
    postgres: procs.PostgresServer,
    redis: procs.RedisServer,
    workdir: Path,
    run_time: str,
    persons: int,
    analyzers: int,
    spawn_rate: float = 2.0,
    with_insights: bool = True,
    template: str | None = None,
) -> dict:
    """Load the demo, serve it with deploy/serve.sh, run locust; return figures.

    ``template``: a migrated database to copy instead of migrating (tests)."""
    database = f"hindsight_load_{os.getpid()}_{int(time.time())}"
    url = postgres.create_database(database, template=template)
    port = procs.free_port()
    env = procs.django_env(
        KB_DATABASE_URL=url,
        KB_CELERY_BROKER_URL=redis.url(0),
        KB_CACHE_URL=redis.url(1),
        KB_EMBEDDING_MODEL="all-MiniLM-L6-v2",
        KB_STATIC_MANIFEST="1",
        KB_STATIC_ROOT=str(workdir / "static"),
        KB_BIND=f"127.0.0.1:{port}",
        KB_LOG_LEVEL="WARNING",
        # deploy/serve.sh runs the project's .venv; point it at this interpreter's.
        HINDSIGHT_BIN=str(Path(sys.executable).parent),
    )
    log(f"database {database} on throwaway PostgreSQL :{postgres.port}: migrate, demo")
    procs.manage(env, "migrate", "--noinput", "-v0")
    procs.manage(env, "load_demo")
    if with_insights:
        procs.manage(env, "run_insights", timeout=900)
    plan = procs.shell(env, PLAN)
    plan.update(causes=CAUSES, run=f"load-{os.getpid()}-{int(time.time())}")
    plan_file, results_file = workdir / "plan.json", workdir / "results.json"
    plan_file.write_text(json.dumps(plan))

    serve_log = workdir / "serve.log"
    log(f"deploy/serve.sh on 127.0.0.1:{port} (log {serve_log})")
    with open(serve_log, "ab") as handle:
        serve = subprocess.Popen(
            ["bash", "deploy/serve.sh"],
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        procs.wait_until(
            lambda: (
                procs._http_ok(f"http://127.0.0.1:{port}/readyz")
                or serve.poll() is not None
            ),
            timeout=300,
            what="the production shape to be ready (/readyz)",
        )
        if serve.poll() is not None:
            raise RuntimeError(
                f"deploy/serve.sh exited:\n{serve_log.read_text()[-3000:]}"
            )
        command = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--host",
            f"http://127.0.0.1:{port}",
            "--users",
            str(persons + analyzers + 1),
            "--spawn-rate",
            str(spawn_rate),
            "--run-time",
            run_time,
            "--stop-timeout",
            "15",
            "--exit-code-on-error",
            "1",
            "--only-summary",
            "--loglevel",
            "WARNING",
        ]
        log(f"locust: {persons} people, {analyzers} analyzers, 1 probe, {run_time}")
        load_before = os.getloadavg()[0]
        cpu_before = _cpu_seconds(serve.pid, postgres)
        started = time.monotonic()
        locust = subprocess.run(
            command,
            cwd=ROOT,
            env={
                **env,
                "LOAD_PLAN": str(plan_file),
                "LOAD_RESULTS": str(results_file),
                # Weights, so the users split exactly (plus the fixed probe).
                "LOAD_PERSONS": str(persons),
                "LOAD_ANALYZERS": str(analyzers),
            },
            capture_output=True,
            text=True,
            timeout=_seconds(run_time) + 300,
        )
        elapsed = time.monotonic() - started
        cpu_used = _cpu_seconds(serve.pid, postgres) - cpu_before
        # The 5-minute average over the run (2 cores, shared with other work).
        load_average = (load_before, os.getloadavg()[1])
        (workdir / "locust.log").write_text(locust.stdout + locust.stderr)
        # Give the worker a little time to finish the follow-on work in flight.
        pending = _drain(url)
    finally:
        procs.stop(serve)
    results = json.loads(results_file.read_text())
    stored = {
        fingerprint
        for (fingerprint,) in procs.query(
            url,
            "SELECT fingerprint FROM postmortems_finding WHERE analyzer = %s",
            ANALYZER,
        )
    }
    acknowledged = set(results["acknowledged"])
    statuses = {int(k): v for k, v in results["statuses"].items()}
    runs = dict(
        procs.query(
            url,
            "SELECT status, count(*) FROM insights_insightrun WHERE kind = 'single' "
            "GROUP BY status",
        )
    )
    return {
        "locust_exit": locust.returncode,
        "locust_tail": (locust.stdout + locust.stderr)[-4000:],
        "elapsed": elapsed,
        "requests": sum(statuses.values()),
        "statuses": statuses,
        "server_errors": sum(v for k, v in statuses.items() if k >= 500),
        "failures": results["failures"],
        "pages": results["pages"],
        "saves": results["saves"],
        "findings": results["findings"],
        "healthz": results["healthz"],
        "by_name": results["by_name"],
        "load_average": load_average,
        "server_cpu_seconds": cpu_used,
        "acknowledged": len(acknowledged),
        "stored": len(stored),
        "lost": len(acknowledged - stored),
        "unacknowledged_stored": len(stored - acknowledged),
        "outbox_pending": pending,
        "classifications": runs,
    }


def _cpu_seconds(serve_pid: int, postgres: procs.PostgresServer) -> float:
    """CPU time used so far by the served processes (gunicorn, the worker, beat)
    and by PostgreSQL: what the load cost, whatever else shares the machine."""
    import psutil

    roots = [serve_pid]
    pidfile = postgres.data / "postmaster.pid"
    if pidfile.exists():
        roots.append(int(pidfile.read_text().split()[0]))
    total = 0.0
    for root in roots:
        try:
            parent = psutil.Process(root)
            for process in [parent, *parent.children(recursive=True)]:
                times = process.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


def _drain(url: str, timeout: float = 90) -> int:
    """Wait for the outbox, the findings' follow-ups and the queued classifications
    to empty; return the number of outbox rows and follow-ups still pending."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        [(outbox,)] = procs.query(url, "SELECT count(*) FROM postmortems_outboxtask")
        [(follow_ups,)] = procs.query(
            url,
            "SELECT count(*) FROM postmortems_finding WHERE follow_up_due IS NOT NULL",
        )
        [(active,)] = procs.query(
            url,
            "SELECT count(*) FROM insights_insightrun "
            "WHERE status IN ('pending', 'running')",
        )
        if outbox == follow_ups == active == 0:
            return 0
        time.sleep(2)
    return outbox + follow_ups


def _seconds(run_time: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return int(float(run_time[:-1]) * units[run_time[-1]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-time", default="5m")
    parser.add_argument("--persons", type=int, default=20)
    parser.add_argument("--analyzers", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kb-load-") as tmp:
        workdir = Path(tmp)
        postgres = procs.PostgresServer().init().start()
        redis = procs.RedisServer(workdir).start()
        try:
            figures = run_load(
                postgres=postgres,
                redis=redis,
                workdir=workdir,
                run_time=args.run_time,
                persons=args.persons,
                analyzers=args.analyzers,
            )
        finally:
            redis.stop()
            postgres.destroy()

    pages, healthz = figures["pages"], figures["healthz"]
    page_p95 = percentile(pages, 95)
    health_p95 = percentile(healthz, 95) if healthz else 0.0
    log(
        f"{figures['requests']} requests in {figures['elapsed']:.0f} s "
        f"({figures['requests'] / figures['elapsed']:.1f}/s); statuses "
        f"{dict(sorted(figures['statuses'].items()))}"
    )
    log(
        f"pages: {len(pages)}, p50 {percentile(pages, 50):.0f} ms, p95 "
        f"{page_p95:.0f} ms, p99 {percentile(pages, 99):.0f} ms; saves p95 "
        f"{percentile(figures['saves'], 95):.0f} ms ({len(figures['saves'])}); "
        f"findings p95 {percentile(figures['findings'], 95):.0f} ms "
        f"({len(figures['findings'])}); /healthz p95 {health_p95:.0f} ms"
    )
    for name, times in sorted(figures["by_name"].items()):
        log(
            f"  {name:<32} {len(times):>5}  p50 {percentile(times, 50):>6.0f} ms"
            f"  p95 {percentile(times, 95):>6.0f} ms"
        )
    cpu = figures["server_cpu_seconds"]
    log(
        f"server CPU (gunicorn, worker, beat, PostgreSQL): {cpu:.0f} s in "
        f"{figures['elapsed']:.0f} s = {cpu / figures['elapsed']:.2f} of 2 cores; "
        f"{1000 * cpu / figures['requests']:.0f} ms per request"
    )
    start_load, run_load_average = figures["load_average"]
    log(
        f"machine load average: {start_load:.1f} at the start, "
        f"{run_load_average:.1f} over the last 5 minutes (2 cores; locust, "
        "gunicorn, the worker and PostgreSQL share them)"
    )
    log(
        f"findings acknowledged {figures['acknowledged']}, stored "
        f"{figures['stored']}, lost {figures['lost']}; failures "
        f"{len(figures['failures'])} {figures['failures'][:3]}; outbox pending "
        f"after drain {figures['outbox_pending']}; classifications "
        f"{figures['classifications']}; locust exit {figures['locust_exit']}"
    )
    note = (
        f"{args.persons} people + {args.analyzers} analyzers, {args.run_time}; "
        f"load average {figures['load_average'][1]:.1f} on 2 cores"
    )
    emit(
        "load",
        [
            Result(
                metric="page p95",
                value=page_p95,
                unit="ms",
                target=300,
                better="lower",
                reference={
                    "metric": "/healthz p95 (same server, same run)",
                    "value": round(health_p95, 1),
                    "ratio": page_p95 / health_p95 if health_p95 else None,
                },
                note=f"{len(pages)} page requests, {note}",
            ),
            Result(
                metric="server CPU per request",
                value=1000 * cpu / figures["requests"],
                unit="ms",
                note=(
                    "gunicorn, worker, beat and PostgreSQL used "
                    f"{cpu / figures['elapsed']:.2f} of the 2 cores"
                ),
            ),
            Result(
                metric="page p50",
                value=percentile(pages, 50),
                unit="ms",
                note=note,
            ),
            Result(
                metric="findings POST p95",
                value=percentile(figures["findings"], 95),
                unit="ms",
                note=f"{len(figures['findings'])} posts",
            ),
            Result(
                metric="5xx responses",
                value=figures["server_errors"],
                unit="responses",
                target=0,
                better="lower",
                note=f"of {figures['requests']} requests",
            ),
            Result(
                metric="findings lost (acknowledged, not stored)",
                value=figures["lost"],
                unit="findings",
                target=0,
                better="lower",
                note=(
                    f"{figures['acknowledged']} acknowledged, "
                    f"{figures['stored']} stored"
                ),
            ),
            Result(
                metric="failed requests (locust)",
                value=len(figures["failures"]),
                unit="requests",
                target=0,
                better="lower",
            ),
        ],
    )


if __name__ == "__main__":
    main()
