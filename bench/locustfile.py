"""Locust users for bench/load_bench.py: people and analyzers on the demo corpus.

Not run on its own: load_bench.py writes the plan (who may edit what, API keys,
incident ids) to the file named by ``LOAD_PLAN`` and reads the results locust
writes to ``LOAD_RESULTS`` when the run stops. 127.0.0.1 only.

- ``Person``: signs in through the login form, reads lists, incidents,
  postmortems and the three dashboards, and now and then opens the editor and
  saves its own postmortem (each person edits a different one, so no save meets
  an edit conflict).
- ``Probe``: one user asking ``/healthz`` every second, the in-run reference (a
  request through the same gunicorn on the same loaded machine, no database).
- ``Analyzer``: posts findings with its team's API key, one per request, and
  remembers each finding acknowledged (2xx): load_bench.py checks every one of
  them is stored.
"""

import itertools
import json
import os
import random
import sys
from pathlib import Path
from urllib.parse import urlparse

from locust import HttpUser, between, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.reliability import web  # noqa: E402

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
ANALYZER = "load-analyzer"

# What every request took, by kind; written to LOAD_RESULTS at the end.
RESULTS = {
    "pages": [],
    "saves": [],
    "findings": [],
    "healthz": [],
    "statuses": {},
    "failures": [],
    "by_name": {},
}
ACKNOWLEDGED: set[str] = set()
_slots = iter(PLAN["edit_slots"])
_fingerprints = itertools.count()
_rng = random.Random(7)


def _host_is_loopback(host: str) -> bool:
    return urlparse(host).hostname in ("127.0.0.1", "localhost", "::1")


@events.init.add_listener
def _refuse_other_hosts(environment, **kwargs):
    if environment.host and not _host_is_loopback(environment.host):
        raise SystemExit(
            f"load tests run against 127.0.0.1 only, not {environment.host}"
        )


@events.request.add_listener
def _record(request_type, name, response_time, response, exception, **kwargs):
    status = getattr(response, "status_code", 0) or 0
    RESULTS["statuses"][str(status)] = RESULTS["statuses"].get(str(status), 0) + 1
    if exception is not None:
        RESULTS["failures"].append(f"{request_type} {name}: {exception!r}"[:300])
    RESULTS["by_name"].setdefault(name, []).append(response_time)
    if name.startswith("page:"):
        RESULTS["pages"].append(response_time)
    if name == "page: save postmortem":
        RESULTS["saves"].append(response_time)
    elif name == "api: post finding":
        RESULTS["findings"].append(response_time)
    elif name == "probe: healthz":
        RESULTS["healthz"].append(response_time)


@events.test_stop.add_listener
def _write_results(environment, **kwargs):
    RESULTS["acknowledged"] = sorted(ACKNOWLEDGED)
    Path(os.environ["LOAD_RESULTS"]).write_text(json.dumps(RESULTS))


class Person(HttpUser):
    weight = int(os.environ.get("LOAD_PERSONS", "5"))
    wait_time = between(1, 3)  # reading and thinking between clicks

    def on_start(self):
        slot = next(_slots, None)
        if slot is None:
            username, self.postmortem = _rng.choice(PLAN["readers"]), None
        else:
            username, self.postmortem = slot
        password = "demo" if username == "demo" else username
        web.login(self.client, "", username, password, name="auth: login")
        self.edits = itertools.count()

    def _page(self, path: str, name: str) -> None:
        self.client.get(path, name=f"page: {name}")

    @task(4)
    def incident_list(self):
        self._page("/incidents/", "incident list")

    @task(2)
    def postmortem_list(self):
        self._page("/postmortems/", "postmortem list")

    @task(6)
    def incident(self):
        self._page(f"/incidents/{_rng.choice(PLAN['incidents'])}/", "incident")

    @task(6)
    def postmortem(self):
        self._page(f"/postmortems/{_rng.choice(PLAN['postmortems'])}/", "postmortem")

    @task(2)
    def action_dashboard(self):
        self._page("/actions/dashboard/", "action-item dashboard")

    @task(2)
    def insights(self):
        self._page("/insights/", "insights report")

    @task(1)
    def scorecards(self):
        self._page("/findings/analyzers/", "analyzer scorecards")

    @task(1)
    def action_items(self):
        self._page("/actions/", "action items")

    @task(3)
    def edit(self):
        if self.postmortem is None:
            return self.postmortem_list()
        fields = web.editor_form(self.client, "", self.postmortem, name="page: editor")
        cause = _rng.choice(PLAN["causes"])
        response, _ = web.save_postmortem(
            self.client,
            "",
            self.postmortem,
            fields,
            f"{cause} (load edit {next(self.edits)})",
            name="page: save postmortem",
        )
        if response.status_code == 302:
            self._page(f"/postmortems/{self.postmortem}/", "postmortem")


class Analyzer(HttpUser):
    weight = int(os.environ.get("LOAD_ANALYZERS", "1"))
    wait_time = between(0.5, 1.5)

    def on_start(self):
        self.team = _rng.choice(sorted(PLAN["keys"]))
        self.key = PLAN["keys"][self.team]

    @task
    def post_finding(self):
        incident = _rng.choice(PLAN["incidents_by_team"][self.team])
        body = web.finding(
            PLAN["run"], next(_fingerprints), incident_id=incident, analyzer=ANALYZER
        )
        response, _ = web.post_finding(
            self.client, "", self.key, body, name="api: post finding"
        )
        if 200 <= response.status_code < 300:
            ACKNOWLEDGED.add(body["fingerprint"])


class Probe(HttpUser):
    fixed_count = 1
    wait_time = between(1, 1)

    @task
    def healthz(self):
        self.client.get("/healthz", name="probe: healthz")
