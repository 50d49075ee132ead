"""The fault scenarios, shared by the tests (which assert) and bench/faults_bench.py
(which reports the figures). Each starts the product's processes on the throwaway
servers it is given, injects one fault, and returns what clients and the database
saw. No assertion about time here: the benches report latencies.
"""

import threading
import time
from pathlib import Path

import requests

from tests import procs
from tests.reliability import scenario, web

FOLLOW_UP = "postmortems.findings.follow_up"
CLASSIFY = "insights.tasks.run_insights"


def follow_ups_waiting(url: str) -> int:
    """Findings whose follow-up has not run yet."""
    [(count,)] = procs.query(
        url, "SELECT count(*) FROM postmortems_finding WHERE follow_up_due IS NOT NULL"
    )
    return count


def redis_outage(env, redis_server, tmp_path: Path, *, saves: int, findings: int):
    """Redis (broker and cache) killed while people save and analyzers post.

    Phases: before (Redis up: ``saves`` saves and ``findings`` posts, the
    reference), outage (Redis killed: the same again), recovery (Redis started
    empty on the same port, ``manage.py relay_outbox --min-age 0``), after (one
    save and one post, sent directly again). Then waits until the worker ran
    everything."""
    url = env["KB_DATABASE_URL"]
    seed = procs.shell(env, scenario.seed_postmortems(2 * saves))
    ids, key = seed["ids"], seed["key"]
    before_ids, outage_ids = ids[:saves], ids[saves:]
    port = procs.free_port()
    base = f"http://127.0.0.1:{port}"
    worker_log = tmp_path / "worker.log"
    worker = procs.celery_worker(env, name="worker", log=worker_log)
    server = None
    phases: dict[str, dict] = {}
    try:
        server = procs.gunicorn(env, port=port, log=tmp_path / "gunicorn.log")
        person, analyzer = requests.Session(), requests.Session()
        web.login(person, base, *scenario.EDITOR, timeout=30)
        forms = {pk: web.editor_form(person, base, pk, timeout=30) for pk in ids}
        procs.wait_until(
            lambda: procs.worker_ready(worker_log), timeout=120, what="the worker"
        )

        def done(classifications: int) -> bool:
            """That many classifications ran, and no finding's follow-up waits.

            (Follow-ups are counted on the findings: one task may cover several
            of an incident's findings, KB_FOLLOW_UP_COALESCE.)"""
            ran = [n for n, _ in procs.succeeded_tasks(worker_log) if n == CLASSIFY]
            return len(ran) >= classifications and follow_ups_waiting(url) == 0

        def phase(name: str, pks: list[int], count: int) -> dict:
            result = {"save": [], "finding": [], "statuses": []}
            for n, pk in enumerate(pks):
                form = forms.get(pk) or web.editor_form(person, base, pk, timeout=30)
                response, seconds = web.save_postmortem(
                    person, base, pk, form, f"Saved {name} ({n}).", timeout=30
                )
                result["statuses"].append(response.status_code)
                result["save"].append(seconds)
            for n in range(count):
                body = web.finding(name, n, incident_key="inc-1")
                response, seconds = web.post_finding(
                    analyzer, base, key, body, timeout=30
                )
                result["statuses"].append(response.status_code)
                result["finding"].append(seconds)
            return result

        phases["before"] = phase("before", before_ids, findings)
        procs.wait_until(
            lambda: done(saves),
            timeout=120,
            what="the work saved before the outage to run",
        )

        redis_server.stop()
        phases["outage"] = phase("outage", outage_ids, findings)
        page = person.get(f"{base}/incidents/", timeout=30)
        pending = procs.query(
            url, "SELECT task_name, attempts FROM postmortems_outboxtask"
        )
        # Findings are their own outbox: refused follow-ups are due at once.
        [(follow_ups_due,)] = procs.query(
            url,
            "SELECT count(*) FROM postmortems_finding WHERE follow_up_due <= now()",
        )

        redis_server.start()  # the same port, empty: nothing was queued in it
        recovered_at = time.monotonic()
        relayed = procs.manage(env, "relay_outbox", "--min-age", "0")
        forms.pop(ids[0])  # saved once already: the editor is opened again
        phases["after"] = phase("after", ids[:1], 1)
        procs.wait_until(
            lambda: done(2 * saves + 1),
            timeout=120,
            what="the relayed tasks to run",
        )
        drained_seconds = time.monotonic() - recovered_at
    finally:
        procs.stop(server)
        procs.stop(worker)
    return {
        "phases": phases,
        "page_status": page.status_code,
        "pending": pending,
        "follow_ups_due": follow_ups_due,
        "relayed": relayed,
        "drained_seconds": drained_seconds,
        "done": procs.succeeded_tasks(worker_log),
        "runs": procs.query(url, scenario.RUNS_SQL),
        "suggestions": procs.query(
            url, "SELECT title FROM postmortems_findingsuggestion ORDER BY title"
        ),
        "outbox_left": procs.query(url, "SELECT count(*) FROM postmortems_outboxtask"),
        "follow_ups_left": follow_ups_waiting(url),
        "ids": ids,
    }


def postgres_restart(
    env,
    postgres_server,
    tmp_path: Path,
    *,
    threads: int,
    per_thread: int,
    outage: float,
    mode: str = "fast",
) -> dict:
    """Findings posted by ``threads`` clients through gunicorn (2 workers);
    PostgreSQL stopped (``mode``) for ``outage`` seconds a third of the way in.

    Clients behave as analyzers should: on 503 they wait Retry-After, then send
    the same finding with the same Idempotency-Key, on a new connection."""
    url = env["KB_DATABASE_URL"]
    key = procs.shell(env, scenario.seed_postmortems(0))["key"]
    port = procs.free_port()
    base = f"http://127.0.0.1:{port}"
    server = procs.gunicorn(env, port=port, log=tmp_path / "gunicorn.log")
    lock = threading.Lock()
    seen: list[dict] = []  # every response: status, body code, Retry-After, time
    acknowledged: dict[str, int] = {}  # fingerprint -> final 2xx status
    transport_errors: list[str] = []
    total = threads * per_thread
    third = threading.Event()

    def client(number: int) -> None:
        session = requests.Session()
        for n in range(per_thread):
            body = web.finding(f"c{number}", n, incident_key="inc-restart")
            while True:
                try:
                    response, seconds = web.post_finding(
                        session, base, key, body, timeout=30
                    )
                except requests.RequestException as exc:
                    with lock:
                        transport_errors.append(repr(exc))
                    time.sleep(1)
                    continue
                record = {
                    "status": response.status_code,
                    "seconds": seconds,
                    "at": time.monotonic(),
                    "retry_after": response.headers.get("Retry-After"),
                    "code": _code(response),
                }
                with lock:
                    seen.append(record)
                if 200 <= response.status_code < 300:
                    with lock:
                        acknowledged[body["fingerprint"]] = response.status_code
                        if len(acknowledged) >= total // 3:
                            third.set()
                    break
                if response.status_code != 503:
                    break  # not retried: the caller's assertions report it
                time.sleep(float(response.headers.get("Retry-After", "1")))
                # The server's keep-alive (5 s) has run out meanwhile: reconnect
                # rather than send on a connection it is closing.
                session.close()

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    try:
        started = time.monotonic()
        for worker in workers:
            worker.start()
        if not third.wait(timeout=120):
            raise RuntimeError("the clients never got going")
        down_at = time.monotonic()
        postgres_server.stop(mode)
        time.sleep(outage)
        postgres_server.start()
        up_at = time.monotonic()
        for worker in workers:
            worker.join(timeout=180)
        elapsed = time.monotonic() - started
    finally:
        procs.stop(server)
    stored = procs.query(
        url,
        "SELECT fingerprint, count(*) FROM postmortems_finding "
        "WHERE analyzer = 'reliability-tracer' GROUP BY fingerprint",
    )
    return {
        "seen": seen,
        "acknowledged": acknowledged,
        "stored": dict(stored),
        "transport_errors": transport_errors,
        "down_at": down_at,
        "up_at": up_at,
        "elapsed": elapsed,
        "total": total,
    }


def _code(response) -> str:
    try:
        return response.json().get("code", "")
    except ValueError:
        return "not json"
