"""REST API: incidents, postmortems, teams and services under /api/v1/."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from postmortems.models import Incident, Postmortem, PostmortemStatus, Severity
from tests import factories
from tests.problems import field_errors

pytestmark = pytest.mark.django_db


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _incident_body(**overrides):
    body = {
        "title": "Checkout 502s",
        "severity": "SEV1",
        "team": "payments",
        "started_at": "2026-05-01T10:00:00Z",
        "detected_at": "2026-05-01T10:04:00Z",
    }
    body.update(overrides)
    return body


def test_api_requires_authentication(db):
    response = _client().get("/api/v1/incidents/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Session")


def test_api_incident_list_filters_and_searches(editor, team, other_team):
    factories.IncidentFactory(team=team, title="Pool exhausted", severity=Severity.SEV1)
    factories.IncidentFactory(team=other_team, title="DNS resolver flapping")
    client = _client(editor)
    body = client.get("/api/v1/incidents/", {"severity": "SEV1"}).json()
    assert [row["title"] for row in body["results"]] == ["Pool exhausted"]
    body = client.get("/api/v1/incidents/", {"q": "resolver"}).json()
    assert [row["title"] for row in body["results"]] == ["DNS resolver flapping"]
    row = body["results"][0]
    assert row["team"] == "identity"
    assert row["metrics"][0] == {
        "abbr": "TTD",
        "name": "Time to detect",
        "seconds": 300,
        "formula": "TTD = detected − started = 5 min",
    }


def test_api_invalid_filter_is_a_400(editor):
    response = _client(editor).get("/api/v1/incidents/", {"severity": "SEV9"})
    assert response.status_code == 400
    assert "severity" in field_errors(response)


def test_api_incident_create_by_an_editor_of_the_team(editor, team):
    response = _client(editor).post(
        "/api/v1/incidents/", _incident_body(services=[]), format="json"
    )
    assert response.status_code == 201, response.json()
    incident = Incident.objects.get()
    assert incident.team == team
    assert incident.history.get().history_user == editor


def test_api_incident_create_rejects_out_of_order_timestamps(editor):
    response = _client(editor).post(
        "/api/v1/incidents/",
        _incident_body(detected_at="2026-05-01T09:00:00Z"),
        format="json",
    )
    assert response.status_code == 422
    assert (
        "Detected cannot be before started" in field_errors(response)["detected_at"][0]
    )


def test_api_incident_create_for_another_team_is_refused(editor, other_team):
    response = _client(editor).post(
        "/api/v1/incidents/", _incident_body(team="identity"), format="json"
    )
    assert response.status_code == 422
    assert "team you belong to" in field_errors(response)["team"][0]


def test_api_incident_writes_are_403_for_viewers_and_404_for_other_teams(
    viewer, editor, team, other_team
):
    own = factories.IncidentFactory(team=team)
    other = factories.IncidentFactory(team=other_team)
    patch = {"title": "Renamed"}
    assert (
        _client(viewer)
        .patch(f"/api/v1/incidents/{own.pk}/", patch, format="json")
        .status_code
        == 403
    )
    assert (
        _client(viewer).post("/api/v1/incidents/", _incident_body(), format="json")
    ).status_code == 403
    assert (
        _client(editor)
        .patch(f"/api/v1/incidents/{other.pk}/", patch, format="json")
        .status_code
        == 404
    )
    # Reading another team's incident is fine.
    assert _client(editor).get(f"/api/v1/incidents/{other.pk}/").status_code == 200
    response = _client(editor).patch(
        f"/api/v1/incidents/{own.pk}/", patch, format="json"
    )
    assert response.status_code == 200
    assert response.json()["title"] == "Renamed"


def test_api_incident_delete_is_not_offered(editor, team):
    incident = factories.IncidentFactory(team=team)
    response = _client(editor).delete(f"/api/v1/incidents/{incident.pk}/")
    assert response.status_code == 405
    assert Incident.objects.filter(pk=incident.pk).exists()


def test_api_timestamps_locked_after_approval_and_corrected_by_a_reviewer(
    editor, reviewer, team
):
    incident = factories.IncidentFactory(team=team)
    factories.PostmortemFactory(incident=incident, status=PostmortemStatus.APPROVED)
    response = _client(editor).patch(
        f"/api/v1/incidents/{incident.pk}/",
        {"detected_at": "2026-05-01T10:02:00Z"},
        format="json",
    )
    assert response.status_code == 422
    assert "Locked" in field_errors(response)["detected_at"][0]

    url = f"/api/v1/incidents/{incident.pk}/correct-timestamp/"
    body = {
        "field": "detected_at",
        "value": "2026-05-01T10:02:00Z",
        "reason": "Alert log says 10:02",
    }
    assert _client(editor).post(url, body, format="json").status_code == 403
    response = _client(reviewer).post(url, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["detected_at"] == "2026-05-01T10:02:00Z"
    record = Incident.objects.get().history.first()
    assert (record.history_user, record.history_change_reason) == (
        reviewer,
        "Alert log says 10:02",
    )
    bad = _client(reviewer).post(url, {**body, "reason": ""}, format="json")
    assert bad.status_code == 400


def test_api_postmortems_respect_visibility(editor, team, other_team):
    published = factories.PostmortemFactory(
        incident=factories.IncidentFactory(team=other_team),
        status=PostmortemStatus.PUBLISHED,
    )
    private = factories.PostmortemFactory(
        incident=factories.IncidentFactory(team=other_team)
    )
    client = _client(editor)
    ids = [row["id"] for row in client.get("/api/v1/postmortems/").json()["results"]]
    assert ids == [published.pk]
    assert client.get(f"/api/v1/postmortems/{private.pk}/").status_code == 404
    incident = client.get(f"/api/v1/incidents/{private.incident.pk}/").json()
    assert incident["postmortem"] is None


def test_api_postmortem_create_and_update_with_if_match(editor, team):
    incident = factories.IncidentFactory(team=team)
    client = _client(editor)
    response = client.post(
        "/api/v1/postmortems/",
        {
            "incident": incident.pk,
            "template": "google-sre",
            "sections": {"summary": "Checkout failed."},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    pm = response.json()
    assert (pm["status"], pm["author"], pm["version"]) == ("draft", "editor", 1)

    url = f"/api/v1/postmortems/{pm['id']}/"
    assert client.get(url)["ETag"] == '"1"'
    update = {"sections": {"summary": "Checkout failed for 40 minutes."}}
    response = client.patch(url, update, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200
    assert response.json()["version"] == 2
    stale = client.patch(
        url, {"sections": {"summary": "Old"}}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert stale.status_code == 412
    assert client.get(url).json()["sections"]["summary"].endswith("40 minutes.")


def test_api_postmortem_rejects_unknown_sections_and_other_teams(
    editor, team, other_team
):
    client = _client(editor)
    response = client.post(
        "/api/v1/postmortems/",
        {
            "incident": factories.IncidentFactory(team=team).pk,
            "template": "google-sre",
            "sections": {"haiku": "x"},
        },
        format="json",
    )
    assert response.status_code == 422
    assert "haiku" in field_errors(response)["sections"][0]
    response = client.post(
        "/api/v1/postmortems/",
        {
            "incident": factories.IncidentFactory(team=other_team).pk,
            "template": "google-sre",
        },
        format="json",
    )
    # As on the page: only editors of the incident's team start its postmortem.
    assert response.status_code == 403
    assert not Postmortem.objects.filter(incident__team=other_team).exists()


def test_api_published_postmortem_is_read_only_for_editors(editor, team):
    pm = factories.PostmortemFactory(
        incident=factories.IncidentFactory(team=team),
        status=PostmortemStatus.PUBLISHED,
    )
    response = _client(editor).patch(
        f"/api/v1/postmortems/{pm.pk}/", {"five_whys": ["why"]}, format="json"
    )
    assert response.status_code == 403


def test_api_teams_and_services_are_read_only(editor, team):
    factories.ServiceFactory(slug="checkout", name="Checkout", team=team)
    client = _client(editor)
    assert client.get("/api/v1/teams/").json()["results"][0]["slug"] == "payments"
    services = client.get("/api/v1/services/", {"team__slug": "payments"}).json()
    assert services["results"][0] == {
        "id": services["results"][0]["id"],
        "slug": "checkout",
        "name": "Checkout",
        "team": "payments",
        "description": "",
    }
    assert client.post("/api/v1/teams/", {"slug": "x"}).status_code == 405


@pytest.mark.parametrize("count", [2, 20])
def test_api_incident_list_runs_a_fixed_number_of_queries(
    editor, team, count, django_assert_max_num_queries
):
    service = factories.ServiceFactory(slug="svc", name="Svc", team=team)
    for index in range(count):
        factories.PostmortemFactory(
            incident=factories.IncidentFactory(
                team=team,
                services=[service],
                started_at=factories.BASE_TIME - dt.timedelta(days=index),
            ),
            status=PostmortemStatus.PUBLISHED,
        )
    client = _client(editor)
    with django_assert_max_num_queries(6):
        incidents = client.get("/api/v1/incidents/").json()
    with django_assert_max_num_queries(6):
        postmortems = client.get("/api/v1/postmortems/").json()
    assert incidents["count"] == postmortems["count"] == count


def test_api_schema_documents_the_endpoints_and_their_errors(editor):
    client = _client(editor)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in (
        "/api/v1/incidents/",
        "/api/v1/incidents/{id}/correct-timestamp/",
        "/api/v1/postmortems/{id}/",
        "/api/v1/teams/",
        "/api/v1/services/",
    ):
        assert path in paths
    patch = paths["/api/v1/postmortems/{id}/"]["patch"]["responses"]
    assert {"400", "403", "404", "412"} <= set(patch)
    assert {"403", "404"} <= set(paths["/api/v1/incidents/{id}/"]["get"]["responses"])
