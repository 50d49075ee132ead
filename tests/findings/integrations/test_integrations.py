"""Alertmanager, PagerDuty and Robusta webhooks, with payloads as the tools send."""

import copy
import datetime as dt
import json

import pytest

from findings.integrations.pagerduty import parser as pagerduty
from findings.models import Finding
from postmortems.models import Incident, IncidentStatus, SecurityEvent, TimelineEntry
from tests import factories
from tests.problems import field_errors, problem

pytestmark = pytest.mark.django_db

AM_URL = "/api/v1/integrations/alertmanager/"
PD_URL = "/api/v1/integrations/pagerduty/"
ROBUSTA_URL = "/api/v1/integrations/robusta/"
PD_SECRET = "whsec-current"

# shared/PAYLOADS.md §1, verbatim.
ALERTMANAGER_FIRING = {
    "version": "4",
    "groupKey": '{}/{severity="critical"}:{alertname="HighErrorRate"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "postmortem-kb",
    "groupLabels": {"alertname": "HighErrorRate"},
    "commonLabels": {
        "alertname": "HighErrorRate",
        "service": "checkout",
        "severity": "critical",
    },
    "commonAnnotations": {"summary": "5xx ratio above 5%"},
    "externalURL": "http://alertmanager.example:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "HighErrorRate",
                "service": "checkout",
                "severity": "critical",
                "instance": "10.0.0.5:8080",
            },
            "annotations": {
                "summary": "5xx ratio above 5%",
                "runbook_url": "https://runbooks.example/checkout",
            },
            "startsAt": "2026-05-01T10:15:00.000Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example:9090/graph?g0.expr=...",
            "fingerprint": "1a30ba71cca2921f",
        }
    ],
}


def resolved(payload: dict, ends_at: str = "2026-05-01T10:55:00.123456789Z") -> dict:
    data = copy.deepcopy(payload)
    data["status"] = "resolved"
    for alert in data["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = ends_at
    return data


# shared/PAYLOADS.md §2, verbatim apart from the event type and time.
def pd_event(event_type: str, occurred_at: str, event_id: str) -> dict:
    return {
        "event": {
            "id": event_id,
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": occurred_at,
            "agent": {
                "html_url": "https://acme.pagerduty.com/users/PLH1HKV",
                "id": "PLH1HKV",
                "self": "https://api.pagerduty.com/users/PLH1HKV",
                "summary": "Tenex Engineer",
                "type": "user_reference",
            },
            "client": {"name": "PagerDuty"},
            "data": {
                "id": "PGR0VU2",
                "type": "incident",
                "self": "https://api.pagerduty.com/incidents/PGR0VU2",
                "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
                "number": 2,
                "status": event_type.split(".")[1],
                "incident_key": "d3640fbd41094207a1c11e58e46b1662",
                "created_at": "2026-05-01T10:15:20Z",
                "title": "High error rate on checkout",
                "service": {
                    "html_url": "https://acme.pagerduty.com/services/PF9KMXH",
                    "id": "PF9KMXH",
                    "self": "https://api.pagerduty.com/services/PF9KMXH",
                    "summary": "Checkout API",
                    "type": "service_reference",
                },
                "assignees": [],
                "escalation_policy": {"id": "PUS0KTE", "summary": "Default"},
                "teams": [{"id": "PFCVPS0", "summary": "Payments"}],
                "priority": {"id": "PSO75BM", "summary": "P1"},
                "urgency": "high",
                "conference_bridge": None,
                "resolve_reason": None,
            },
        }
    }


TRIGGERED = pd_event("incident.triggered", "2026-05-01T10:15:22.169Z", "ev-trig")
ACKNOWLEDGED = pd_event("incident.acknowledged", "2026-05-01T10:19:02Z", "ev-ack")
RESOLVED = pd_event("incident.resolved", "2026-05-01T11:02:40Z", "ev-res")

# shared/PAYLOADS.md §3.
ROBUSTA = {
    "title": "CrashLoopBackOff",
    "description": "Container is crashing repeatedly",
    "cluster_name": "prod-eu-west",
    "account_id": "abcd-1234",
    "severity": "HIGH",
    "source": "KUBERNETES_API_SERVER",
    "finding_type": "ISSUE",
    "aggregation_key": "CrashLoopBackOff",
    "failure": True,
    "fingerprint": "2c1d9e",
    "starts_at": "2026-04-30T10:15:00+00:00",
    "ends_at": None,
    "id": "7e0c3b1a-uuid",
    "category": None,
    "service": {"name": "my-app", "namespace": "default"},
    "service_key": "default/Deployment/checkout",
    "creation_date": None,
    "investigate_uri": "https://platform.robusta.dev/investigate/1",
    "add_silence_url": False,
    "subject": {
        "name": "my-pod",
        "kind": "pod",
        "namespace": "default",
        "node": "node-1",
        "container": "main",
        "labels": {"app": "demo"},
        "annotations": {},
    },
    "links": [
        {
            "name": "Graph",
            "url": "https://prometheus.example/graph?g0",
            "type": "prometheus_generator_url",
        }
    ],
    "investigate": "https://platform.robusta.dev/investigate/1",
    "silence": "https://platform.robusta.dev/silences/create?x",
    "enrichments": [
        {
            "blocks": [{"hidden": False, "html_class": None, "text": "OOMKilled x3"}],
            "annotations": {},
            "enrichment_type": "pod_events",
            "title": "Pod events",
        }
    ],
}


def send(client, url, payload, key, *, keyword="Bearer", **headers):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(
        url,
        data=body,
        content_type="application/json",
        headers={"Authorization": f"{keyword} {key}", **headers},
    )


def send_pd(client, payload, key, *, secret=PD_SECRET, signature=None):
    body = json.dumps(payload).encode()
    header = signature if signature is not None else pagerduty.sign(body, secret)
    return send(
        client,
        PD_URL,
        body,
        key,
        keyword="Api-Key",
        **({"X-PagerDuty-Signature": header} if header else {}),
    )


@pytest.fixture
def checkout(team):
    return factories.ServiceFactory(slug="checkout", name="Checkout API", team=team)


@pytest.fixture
def pd_secrets(settings):
    settings.KB_PAGERDUTY_WEBHOOK_SECRETS = [PD_SECRET]


# -- Alertmanager -------------------------------------------------------------------


def test_alertmanager_firing_group_opens_an_incident_with_a_finding_and_timeline(
    client, alerts_key, checkout, team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, AM_URL, ALERTMANAGER_FIRING, alerts_key)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["incident_opened"] is True
    incident = Incident.objects.get(pk=body["incident_id"])
    assert incident.external_source == "alertmanager"
    assert incident.external_key == ALERTMANAGER_FIRING["groupKey"]
    assert incident.title == "HighErrorRate: 5xx ratio above 5%"
    assert incident.severity == "SEV1"
    assert incident.team == team
    assert incident.detected_at == dt.datetime(2026, 5, 1, 10, 15, tzinfo=dt.UTC)
    assert list(incident.services.all()) == [checkout]
    alert = Finding.objects.get()
    assert alert.fingerprint == "1a30ba71cca2921f"
    assert alert.severity == "critical"
    assert alert.raw["alert"] == ALERTMANAGER_FIRING["alerts"][0]
    assert alert.raw["group"]["externalURL"] == "http://alertmanager.example:9093"
    assert [e["title"] for e in alert.evidence] == ["Alert rule expression", "Runbook"]
    assert list(incident.timeline.values_list("kind", "text")) == [
        ("alert", "Alert firing: HighErrorRate: 5xx ratio above 5% (10.0.0.5:8080)"),
        (
            "detection",
            "Opened automatically from Prometheus Alertmanager (alertmanager): "
            "HighErrorRate: 5xx ratio above 5%",
        ),
    ]


def test_alertmanager_redelivery_changes_nothing(
    client, alerts_key, checkout, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = send(client, AM_URL, ALERTMANAGER_FIRING, alerts_key).json()
        again = send(client, AM_URL, ALERTMANAGER_FIRING, alerts_key).json()

    assert again["incident_id"] == first["incident_id"]
    assert again["findings"] == first["findings"]
    assert again["incident_opened"] is False
    assert Incident.objects.count() == 1
    assert Finding.objects.count() == 1
    assert TimelineEntry.objects.count() == 2


def test_alertmanager_resolution_sets_resolved_at_and_a_timeline_entry(
    client, alerts_key, checkout, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send(client, AM_URL, ALERTMANAGER_FIRING, alerts_key)
        response = send(client, AM_URL, resolved(ALERTMANAGER_FIRING), alerts_key)

    assert response.status_code == 200
    incident = Incident.objects.get()
    ended = dt.datetime(2026, 5, 1, 10, 55, 0, 123456, tzinfo=dt.UTC)
    assert incident.resolved_at == ended
    assert incident.status == IncidentStatus.RESOLVED
    assert Finding.objects.get().ended_at == ended
    assert incident.timeline.filter(kind="recovery").get().occurred_at == ended


def test_alertmanager_resolution_keeps_a_resolved_time_already_set(
    client, alerts_key, checkout
):
    send(client, AM_URL, ALERTMANAGER_FIRING, alerts_key)
    incident = Incident.objects.get()
    settled = dt.datetime(2026, 5, 1, 10, 50, tzinfo=dt.UTC)
    Incident.objects.filter(pk=incident.pk).update(resolved_at=settled)

    send(client, AM_URL, resolved(ALERTMANAGER_FIRING), alerts_key)

    incident.refresh_from_db()
    assert incident.resolved_at == settled


def test_alertmanager_same_group_firing_after_resolution_opens_a_new_incident(
    client, alerts_key, checkout
):
    send(client, AM_URL, ALERTMANAGER_FIRING, alerts_key)
    send(client, AM_URL, resolved(ALERTMANAGER_FIRING), alerts_key)
    next_week = copy.deepcopy(ALERTMANAGER_FIRING)
    next_week["alerts"][0]["startsAt"] = "2026-05-08T09:00:00Z"

    response = send(client, AM_URL, next_week, alerts_key)

    assert response.json()["incident_opened"] is True
    assert Incident.objects.count() == 2
    assert Finding.objects.count() == 2
    old, new = Incident.objects.order_by("pk")
    assert old.resolved_at is not None and new.resolved_at is None
    assert new.external_key == ALERTMANAGER_FIRING["groupKey"]


def test_alertmanager_grafana_extras_are_kept_and_used(client, alerts_key, checkout):
    payload = copy.deepcopy(ALERTMANAGER_FIRING)
    payload["orgId"] = 1
    payload["alerts"][0].update(
        {
            "silenceURL": "https://grafana.example/alerting/silence/new",
            "dashboardURL": "https://grafana.example/d/abc",
            "panelURL": "https://grafana.example/d/abc?viewPanel=2",
            "values": {"B": 0.072},
        }
    )

    response = send(client, AM_URL, payload, alerts_key)

    assert response.status_code == 200
    alert = Finding.objects.get()
    assert alert.raw["group"]["orgId"] == 1
    assert alert.raw["alert"]["silenceURL"].endswith("/silence/new")
    assert "Grafana dashboard" in [e["title"] for e in alert.evidence]


def test_alertmanager_truncated_alerts_are_reported(client, alerts_key, checkout):
    payload = copy.deepcopy(ALERTMANAGER_FIRING)
    payload["truncatedAlerts"] = 7

    response = send(client, AM_URL, payload, alerts_key)

    assert response.json()["detail"] == "7 alerts were left out by max_alerts."


def test_alertmanager_invalid_payload_names_the_fields(client, alerts_key):
    payload = copy.deepcopy(ALERTMANAGER_FIRING)
    del payload["groupKey"]
    payload["alerts"][0]["startsAt"] = "yesterday"

    response = send(client, AM_URL, payload, alerts_key)

    assert response.status_code == 400
    assert problem(response)["code"] == "invalid"
    errors = field_errors(response)
    assert errors["groupKey"] == ["This field is required (a non-empty string)."]
    assert "alerts/0/startsAt" in errors
    assert Incident.objects.count() == 0


def test_alertmanager_needs_the_alerts_scope(client, findings_key):
    response = send(client, AM_URL, ALERTMANAGER_FIRING, findings_key)

    assert response.status_code == 403
    assert problem(response)["code"] == "missing_scope"


def test_alertmanager_without_a_key_is_401(client):
    response = client.post(
        AM_URL, data=json.dumps(ALERTMANAGER_FIRING), content_type="application/json"
    )

    assert response.status_code == 401


def test_alertmanager_refused_when_the_team_disallows_auto_incidents(
    client, alerts_key, team
):
    team.allow_auto_incidents = False
    team.save()

    response = send(client, AM_URL, ALERTMANAGER_FIRING, alerts_key)

    assert response.status_code == 422
    assert problem(response)["code"] == "auto_incidents_disabled"
    assert (
        "does not let alerts and findings open incidents" in response.json()["detail"]
    )
    assert Finding.objects.count() == 0


def test_alertmanager_group_of_another_team_is_403(
    client, alerts_key, make_api_key, other_team
):
    _, theirs = make_api_key(other_team, scopes=["alerts:write"], name="theirs")
    send(client, AM_URL, ALERTMANAGER_FIRING, theirs)

    response = send(client, AM_URL, ALERTMANAGER_FIRING, alerts_key)

    assert response.status_code == 403
    assert problem(response)["code"] == "foreign_team"


def test_alertmanager_bad_json_is_400(client, alerts_key):
    response = send(client, AM_URL, b'{"version": "4",', alerts_key)

    assert response.status_code == 400
    assert problem(response)["code"] == "bad_json"


# -- PagerDuty ------------------------------------------------------------------------


def test_pagerduty_events_set_incident_times(
    client, alerts_key, checkout, pd_secrets, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for event in (TRIGGERED, ACKNOWLEDGED, RESOLVED):
            assert send_pd(client, event, alerts_key).status_code == 200

    incident = Incident.objects.get()
    assert incident.external_source == "pagerduty"
    assert incident.external_key == "PGR0VU2"
    assert incident.severity == "SEV1"  # priority P1
    assert incident.detected_at == dt.datetime(
        2026, 5, 1, 10, 15, 22, 169000, tzinfo=dt.UTC
    )
    assert incident.acknowledged_at == dt.datetime(2026, 5, 1, 10, 19, 2, tzinfo=dt.UTC)
    assert incident.resolved_at == dt.datetime(2026, 5, 1, 11, 2, 40, tzinfo=dt.UTC)
    assert incident.status == IncidentStatus.RESOLVED
    assert list(incident.services.all()) == [checkout]  # by name "Checkout API"
    assert Finding.objects.count() == 1
    # PagerDuty's moments, plus Hindsight opening the incident when it heard.
    assert sorted(incident.timeline.values_list("kind", flat=True)) == [
        "alert",
        "detection",
        "escalation",
        "recovery",
    ]
    assert (
        "acknowledged by Tenex Engineer"
        in incident.timeline.get(kind="escalation").text
    )


@pytest.mark.parametrize(
    "order",
    [
        (RESOLVED, ACKNOWLEDGED, TRIGGERED),
        (ACKNOWLEDGED, RESOLVED, TRIGGERED),
        (RESOLVED, TRIGGERED, ACKNOWLEDGED, RESOLVED, TRIGGERED),
    ],
    ids=["reversed", "shuffled", "with-replays"],
)
def test_pagerduty_times_do_not_depend_on_arrival_order(
    client, alerts_key, pd_secrets, order, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for event in order:
            assert send_pd(client, event, alerts_key).status_code == 200

    incident = Incident.objects.get()
    assert incident.detected_at == dt.datetime(
        2026, 5, 1, 10, 15, 22, 169000, tzinfo=dt.UTC
    )
    assert incident.acknowledged_at == dt.datetime(2026, 5, 1, 10, 19, 2, tzinfo=dt.UTC)
    assert incident.resolved_at == dt.datetime(2026, 5, 1, 11, 2, 40, tzinfo=dt.UTC)
    assert Finding.objects.count() == 1
    # A replayed event adds no timeline entry.
    assert incident.timeline.filter(kind="recovery").count() == 1


def test_pagerduty_replay_is_harmless(client, alerts_key, pd_secrets):
    send_pd(client, TRIGGERED, alerts_key)
    incident = Incident.objects.get()
    history = incident.history.count()

    response = send_pd(client, TRIGGERED, alerts_key)

    assert response.status_code == 200
    assert Incident.objects.get().history.count() == history


def test_pagerduty_reopened_after_resolution_clears_resolved_at(
    client, alerts_key, pd_secrets
):
    reopened = pd_event("incident.reopened", "2026-05-01T11:30:00Z", "ev-reopen")
    for event in (TRIGGERED, reopened, RESOLVED):
        send_pd(client, event, alerts_key)

    incident = Incident.objects.get()
    assert incident.resolved_at is None
    assert incident.status == IncidentStatus.INVESTIGATING


def test_pagerduty_accepts_any_of_several_signatures(client, alerts_key, settings):
    settings.KB_PAGERDUTY_WEBHOOK_SECRETS = ["old-secret", "new-secret"]
    body = json.dumps(TRIGGERED).encode()
    header = f"v1={'0' * 64}, {pagerduty.sign(body, 'new-secret')}"

    response = send(
        client, PD_URL, body, alerts_key, **{"X-PagerDuty-Signature": header}
    )

    assert response.status_code == 200


def test_pagerduty_wrong_signature_is_401(client, alerts_key, pd_secrets):
    response = send_pd(client, TRIGGERED, alerts_key, secret="someone-else")

    assert response.status_code == 401
    assert problem(response)["code"] == "signature_mismatch"
    assert Incident.objects.count() == 0
    event = SecurityEvent.objects.get(kind="webhook_signature_rejected")
    assert event.detail == {"source": "pagerduty", "reason": "signature_mismatch"}
    assert event.username.startswith("api-key:")


def test_pagerduty_signature_over_a_changed_body_is_401(client, alerts_key, pd_secrets):
    signature = pagerduty.sign(json.dumps(TRIGGERED).encode(), PD_SECRET)
    tampered = copy.deepcopy(TRIGGERED)
    tampered["event"]["data"]["title"] = "Nothing to see"

    response = send_pd(client, tampered, alerts_key, signature=signature)

    assert response.status_code == 401
    assert Incident.objects.count() == 0


def test_pagerduty_missing_signature_is_401(client, alerts_key, pd_secrets):
    response = send_pd(client, TRIGGERED, alerts_key, signature="")

    assert response.status_code == 401
    assert problem(response)["code"] == "signature_missing"


def test_pagerduty_without_configured_secrets_refuses_everything(
    client, alerts_key, settings
):
    settings.KB_PAGERDUTY_WEBHOOK_SECRETS = []

    response = send_pd(client, TRIGGERED, alerts_key)

    assert response.status_code == 401
    assert problem(response)["code"] == "signature_not_configured"


def test_pagerduty_events_about_other_objects_are_ignored(
    client, alerts_key, pd_secrets
):
    event = {
        "event": {
            "id": "ev-svc",
            "event_type": "service.updated",
            "resource_type": "service",
            "occurred_at": "2026-05-01T10:00:00Z",
            "agent": None,
            "client": None,
            "data": {"id": "PF9KMXH", "type": "service", "summary": "Checkout API"},
        }
    }

    response = send_pd(client, event, alerts_key)

    assert response.status_code == 202
    assert response.json()["status"] == "ignored"
    assert Incident.objects.count() == 0


def _not_about_an_incident(event_type, resource_type, data_type) -> dict:
    event = copy.deepcopy(TRIGGERED)
    event["event"].update(event_type=event_type, resource_type=resource_type)
    event["event"]["data"]["type"] = data_type
    return event


NOT_ABOUT_AN_INCIDENT = {
    # The bug: a service event whose data looks like an incident opened one.
    "service.updated-with-incident-data": ("service.updated", "service", "incident"),
    "service.created-with-incident-data": ("service.created", "service", "incident"),
    "service.deleted-without-resource-type": ("service.deleted", None, "incident"),
    "incident.annotated-note": ("incident.annotated", "incident", "incident_note"),
    "incident-event-about-a-service": ("incident.triggered", "service", "incident"),
    "unknown-event-type": ("pagey.updated", "incident", "incident"),
}


@pytest.mark.parametrize("case", NOT_ABOUT_AN_INCIDENT)
def test_pagerduty_events_not_about_an_incident_never_open_one(
    client, alerts_key, pd_secrets, case
):
    event = _not_about_an_incident(*NOT_ABOUT_AN_INCIDENT[case])
    if event["event"]["resource_type"] is None:
        del event["event"]["resource_type"]

    response = send_pd(client, event, alerts_key)

    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "ignored"
    assert not Incident.objects.exists()
    assert not Finding.objects.exists()


def test_pagerduty_invalid_envelope_is_400(client, alerts_key, pd_secrets):
    response = send_pd(client, {"event": {"id": "x"}}, alerts_key)

    assert response.status_code == 400
    assert set(field_errors(response)) == {"event/event_type", "event/occurred_at"}


# -- Robusta --------------------------------------------------------------------------


def test_robusta_finding_opens_an_incident_with_evidence(
    client, alerts_key, checkout, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, ROBUSTA_URL, ROBUSTA, alerts_key, keyword="Api-Key")

    assert response.status_code == 200, response.json()
    finding = Finding.objects.get()
    assert finding.source == "robusta"
    assert finding.severity == "high"
    assert finding.service == checkout  # from service_key default/Deployment/checkout
    assert finding.raw == ROBUSTA
    assert finding.meta["truncated"] is False
    kinds = [(e["kind"], e["title"]) for e in finding.evidence]
    assert kinds == [
        ("metric", "Graph"),
        ("link", "Investigate in Robusta"),
        ("log", "Pod events"),
    ]
    assert finding.incident.external_key == (
        "prod-eu-west/CrashLoopBackOff/default/my-pod"
    )
    assert finding.incident.timeline.filter(kind="alert").exists()


def test_robusta_finding_cut_at_size_limit_is_accepted_and_flagged(client, alerts_key):
    """GIVEN a finding whose description filled Robusta's 4096-byte size_limit
    WHEN it arrives without the keys that no longer fitted
    THEN it is stored, flagged as truncated, with the missing keys named."""
    cut = {
        key: ROBUSTA[key]
        for key in ("title", "description", "cluster_name", "account_id", "severity")
    }
    cut["description"] = "Back-off restarting failed container. " * 100

    response = send(client, ROBUSTA_URL, cut, alerts_key)

    assert response.status_code == 200
    assert "Raise size_limit" in response.json()["detail"]
    finding = Finding.objects.get()
    assert finding.meta["truncated"] is True
    assert "fingerprint" in finding.meta["missing_keys"]
    assert "enrichments" in finding.meta["missing_keys"]
    # Sent again, it is the same finding: the fingerprint is derived stably.
    send(client, ROBUSTA_URL, cut, alerts_key)
    assert Finding.objects.count() == 1


def test_robusta_finding_for_an_alert_we_hold_joins_its_incident(
    client, alerts_key, checkout
):
    send(client, AM_URL, ALERTMANAGER_FIRING, alerts_key)
    alert = Finding.objects.get()
    enriched = {**ROBUSTA, "fingerprint": alert.fingerprint, "source": "PROMETHEUS"}

    response = send(client, ROBUSTA_URL, enriched, alerts_key)

    assert response.json()["incident_opened"] is False
    robusta = Finding.objects.get(source="robusta")
    assert robusta.incident == alert.incident
    assert robusta.parent == alert


def test_robusta_without_a_title_is_400(client, alerts_key):
    response = send(client, ROBUSTA_URL, {"cluster_name": "prod"}, alerts_key)

    assert response.status_code == 400
    assert "size_limit" in response.json()["detail"]
