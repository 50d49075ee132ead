"""A real Prometheus Alertmanager delivers its webhook to Hindsight (live_server).

Needs Debian's ``prometheus-alertmanager`` (``apt-get install
prometheus-alertmanager``). Skipped with a reason only when the binary is absent
and CI is not set; in CI it must run.
"""

import datetime as dt
import json
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from findings.models import Finding
from postmortems.models import Incident, TimelineEntry
from tests import procs

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
LABELS = {
    "alertname": "HindsightLiveCheck",
    "service": "checkout",
    "severity": "critical",
    "instance": "10.0.0.5:8080",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(condition, *, timeout: float, what: str, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    detail = log.read_text()[-3000:] if log is not None and log.exists() else ""
    pytest.fail(f"Timed out waiting for {what}.\nAlertmanager log:\n{detail}")


def _post_alerts(base: str, alerts: list[dict]) -> None:
    request = urllib.request.Request(
        f"{base}/api/v2/alerts",
        data=json.dumps(alerts).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def _ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/-/ready", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def alertmanager(live_server, alerts_key, tmp_path):
    if BINARY is None:
        procs.unavailable(
            "prometheus-alertmanager is not installed "
            "(apt-get install prometheus-alertmanager)"
        )
    port = _free_port()
    webhook = live_server.url.replace("localhost", "127.0.0.1")
    config = tmp_path / "alertmanager.yml"
    # Tiny group timings so a notification and its resolution take seconds.
    config.write_text(
        f"""
route:
  receiver: hindsight
  group_by: ["alertname"]
  group_wait: 200ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hindsight
    webhook_configs:
      - url: "{webhook}/api/v1/integrations/alertmanager/"
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: "{alerts_key}"
"""
    )
    log = tmp_path / "alertmanager.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                BINARY,
                f"--config.file={config}",
                f"--storage.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=debug",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(
            lambda: _ready(base), timeout=30, what="Alertmanager to start", log=log
        )
        yield base, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_alertmanager_live_alert_opens_an_incident_and_its_resolution_closes_it(
    alertmanager, team
):
    base, log = alertmanager
    starts_at = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=1)
    alert = {
        "labels": LABELS,
        "annotations": {"summary": "5xx ratio above 5%"},
        "startsAt": starts_at.isoformat().replace("+00:00", "Z"),
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up",
    }

    _post_alerts(base, [alert])

    incident = _wait_for(
        lambda: Incident.objects.filter(external_source="alertmanager").first(),
        timeout=30,
        what="the firing notification",
        log=log,
    )
    assert 'alertname="HindsightLiveCheck"' in incident.external_key
    assert incident.team == team
    assert incident.title == "HindsightLiveCheck: 5xx ratio above 5%"
    assert incident.resolved_at is None
    finding = Finding.objects.get(incident=incident)
    assert finding.analyzer == "alertmanager"
    assert finding.started_at == starts_at
    assert finding.raw["alert"]["labels"] == LABELS
    firing = _wait_for(
        lambda: TimelineEntry.objects.filter(
            incident=incident, kind="alert", dedupe_key__endswith=":firing"
        ).first(),
        timeout=10,
        what="the firing timeline entry",
        log=log,
    )
    assert firing.occurred_at == starts_at

    ends_at = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=1)
    _post_alerts(
        base, [{**alert, "endsAt": ends_at.isoformat().replace("+00:00", "Z")}]
    )

    _wait_for(
        lambda: Incident.objects.filter(
            pk=incident.pk, resolved_at__isnull=False
        ).exists(),
        timeout=30,
        what="the resolved notification",
        log=log,
    )
    incident.refresh_from_db()
    assert incident.resolved_at == ends_at
    assert incident.status == "resolved"
    assert Finding.objects.filter(incident=incident).count() == 1
    # Written by the follow-up task, just after the request's commit.
    recovery = _wait_for(
        lambda: TimelineEntry.objects.filter(
            incident=incident, kind="recovery"
        ).first(),
        timeout=10,
        what="the resolution timeline entry",
        log=log,
    )
    assert recovery.occurred_at == ends_at
