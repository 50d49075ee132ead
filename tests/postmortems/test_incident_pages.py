"""Declaring and editing incidents, the incident page, timestamp corrections."""

import datetime as dt

import pytest
from django.urls import reverse

from postmortems import extensions
from postmortems.models import Incident, PostmortemStatus, Profile, Role
from tests import factories
from tests.problems import field_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkout(team):
    return factories.ServiceFactory(slug="checkout", name="Checkout", team=team)


def _form(team, services=(), **overrides):
    data = {
        "title": "Checkout returns 502",
        "severity": "SEV1",
        "status": "investigating",
        "team": team.pk,
        "services": [s.pk for s in services],
        "started_at": "2026-05-01T10:00",
        "detected_at": "2026-05-01T10:05",
        "acknowledged_at": "",
        "mitigated_at": "",
        "resolved_at": "",
    }
    data.update(overrides)
    return data


def test_incident_create_page_shows_severity_definitions(editor_client):
    response = editor_client.get(reverse("postmortems:incident_create"))
    assert response.status_code == 200
    html = response.content.decode()
    for severity in ("SEV0", "SEV1", "SEV2", "SEV3"):
        assert f'value="{severity}"' in html
    assert "core flow (login, checkout) is down" in html
    assert "little or no user impact" in html.lower()


def test_incident_create_saves_and_records_who_declared_it(
    editor_client, editor, team, checkout
):
    response = editor_client.post(
        reverse("postmortems:incident_create"),
        _form(team, [checkout], commander=editor.pk),
    )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == incident.get_absolute_url()
    assert incident.started_at == dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.UTC)
    assert list(incident.services.all()) == [checkout]
    assert incident.commander == editor
    record = incident.history.get()
    assert record.history_user == editor
    assert record.history_change_reason == "Declared"


def test_incident_create_rejects_timestamps_out_of_order_with_clear_errors(
    editor_client, team
):
    response = editor_client.post(
        reverse("postmortems:incident_create"),
        _form(
            team,
            detected_at="2026-05-01T09:50",
            acknowledged_at="2026-05-01T10:10",
            mitigated_at="2026-05-01T10:05",
        ),
    )
    assert response.status_code == 400
    assert not Incident.objects.exists()
    errors = response.context["form"].errors
    assert errors["detected_at"] == [
        "Detected cannot be before started (10 min earlier). The order is "
        "started ≤ detected ≤ acknowledged ≤ mitigated ≤ resolved."
    ]
    assert (
        "Mitigated cannot be before acknowledged (5 min earlier)"
        in (errors["mitigated_at"][0])
    )
    assert "acknowledged_at" not in errors
    assert "Please fix the highlighted fields." in response.content.decode()


def test_incident_create_requires_resolved_time_for_a_resolved_incident(
    editor_client, team
):
    response = editor_client.post(
        reverse("postmortems:incident_create"), _form(team, status="resolved")
    )
    assert response.context["form"].errors["resolved_at"] == [
        "A resolved incident needs the time it was resolved."
    ]


def test_incident_create_reads_times_in_the_viewers_time_zone(
    editor_client, editor, team
):
    Profile.objects.filter(user=editor).update(timezone="Europe/Berlin")
    editor_client.post(
        reverse("postmortems:incident_create"),
        _form(team, started_at="2026-05-01T12:00", detected_at="2026-05-01T12:05"),
    )
    incident = Incident.objects.get()
    # 12:00 in Berlin (CEST, UTC+2) is 10:00 UTC.
    assert incident.started_at == dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.UTC)
    page = editor_client.get(incident.get_absolute_url()).content.decode()
    assert "In Europe/Berlin<" in page
    assert "Fri 1 May 2026, 12:00" in page


def test_incident_create_reports_a_time_that_does_not_exist_locally(
    editor_client, editor, team
):
    Profile.objects.filter(user=editor).update(timezone="Europe/Berlin")
    response = editor_client.post(
        reverse("postmortems:incident_create"),
        _form(team, started_at="2026-03-29T02:30", detected_at=""),
    )
    assert (
        "may be ambiguous or it may not exist"
        in (response.context["form"].errors["started_at"][0])
    )


def test_incident_create_only_offers_the_editors_own_teams(
    editor_client, team, other_team
):
    response = editor_client.post(
        reverse("postmortems:incident_create"), _form(other_team)
    )
    assert "team" in response.context["form"].errors
    assert not Incident.objects.exists()


def test_incident_create_is_forbidden_for_viewers(client, viewer):
    client.force_login(viewer)
    assert client.get(reverse("postmortems:incident_create")).status_code == 403


def test_incident_edit_changes_fields_and_keeps_unchanged_seconds(
    editor_client, team, checkout
):
    incident = factories.IncidentFactory(
        team=team, started_at=dt.datetime(2026, 5, 1, 10, 0, 42, tzinfo=dt.UTC)
    )
    url = reverse("postmortems:incident_edit", args=[incident.pk])
    page = editor_client.get(url)
    assert page.status_code == 200
    data = _form(
        team,
        [checkout],
        title="Card payments fail",
        severity="SEV0",
        started_at="2026-05-01T10:00",
        detected_at="2026-05-01T10:05",
        acknowledged_at="2026-05-01T10:09",
        mitigated_at="2026-05-01T10:40",
        resolved_at="2026-05-01T12:00",
        status="resolved",
    )
    response = editor_client.post(url, data)
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.title == "Card payments fail"
    assert incident.severity == "SEV0"
    # The picker shows minutes; an untouched minute keeps its recorded seconds.
    assert incident.started_at.second == 42


def test_incident_edit_of_another_teams_incident_is_404(editor_client, other_team):
    incident = factories.IncidentFactory(team=other_team)
    url = reverse("postmortems:incident_edit", args=[incident.pk])
    assert editor_client.get(url).status_code == 404


def test_incident_edit_is_403_for_a_viewer_of_the_team(client, viewer, team):
    incident = factories.IncidentFactory(team=team)
    client.force_login(viewer)
    url = reverse("postmortems:incident_edit", args=[incident.pk])
    assert client.get(url).status_code == 403


def test_incident_edit_locks_timestamps_once_the_postmortem_is_approved(
    editor_client, team
):
    incident = factories.IncidentFactory(team=team)
    factories.PostmortemFactory(incident=incident, status=PostmortemStatus.APPROVED)
    url = reverse("postmortems:incident_edit", args=[incident.pk])
    data = _form(team, started_at="2026-05-01T08:00", detected_at="2026-05-01T08:01")
    response = editor_client.post(url, data)
    # Refused with the lock named on the field, and nothing of the save stored.
    assert response.status_code == 400
    form = response.context["form"]
    assert "Locked" in form.errors["started_at"][0]
    # The read-only fields show the recorded times again, not the refused ones.
    assert form["started_at"].value() == "2026-05-01T10:00"
    incident.refresh_from_db()
    assert incident.started_at == factories.BASE_TIME
    assert incident.title != "Checkout returns 502"
    # The recorded times posted back as they are (the read-only fields): saved.
    response = editor_client.post(
        url,
        _form(
            team,
            acknowledged_at="2026-05-01T10:09",
            mitigated_at="2026-05-01T10:40",
            resolved_at="2026-05-01T12:00",
        ),
    )
    assert response.status_code == 302, response.content[:2000]
    incident.refresh_from_db()
    assert incident.title == "Checkout returns 502"
    assert incident.started_at == factories.BASE_TIME


@pytest.mark.parametrize("path", ["page", "api"])
def test_approved_while_open_the_author_still_resolves_it(client, editor, team, path):
    """GIVEN a postmortem approved while its incident was still open
    WHEN the author records the resolution (page or API)
    THEN it is saved: only the times already set at approval are locked."""
    incident = factories.IncidentFactory(
        team=team, status="monitoring", resolved_at=None
    )
    factories.PostmortemFactory(
        incident=incident, author=editor, status=PostmortemStatus.APPROVED
    )
    client.force_login(editor)
    if path == "page":
        response = client.post(
            reverse("postmortems:incident_edit", args=[incident.pk]),
            _form(
                team,
                status="resolved",
                acknowledged_at="2026-05-01T10:09",
                mitigated_at="2026-05-01T10:40",
                resolved_at="2026-05-01T13:00",
            ),
        )
        assert response.status_code == 302, response.content[:2000]
    else:
        response = client.patch(
            f"/api/v1/incidents/{incident.pk}/",
            {"status": "resolved", "resolved_at": "2026-05-01T13:00:00Z"},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert incident.resolved_at == factories.BASE_TIME.replace(hour=13)
    # Once recorded, it is locked like the others.
    response = client.patch(
        f"/api/v1/incidents/{incident.pk}/",
        {"resolved_at": "2026-05-01T14:00:00Z"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "resolved_at" in field_errors(response)


def test_incident_detail_shows_metrics_with_their_formula(editor_client, team):
    incident = factories.IncidentFactory(team=team)
    html = editor_client.get(incident.get_absolute_url()).content.decode()
    assert "TTD = detected − started = 5 min" in html
    assert "TTA = acknowledged − detected = 4 min" in html
    assert "TTM = mitigated − started = 40 min" in html
    assert "TTR = resolved − started = 2 h" in html


def test_incident_detail_in_berlin_across_the_dst_change(client, team):
    """GIVEN a viewer in Europe/Berlin and an incident from 01:30 CEST to 02:30 CET
    on 2025-10-26 THEN the page shows both local times and TTR = 2 h."""
    user = factories.UserFactory(username="berlin", role=Role.VIEWER, teams=[team])
    Profile.objects.filter(user=user).update(timezone="Europe/Berlin")
    incident = factories.IncidentFactory(
        team=team,
        started_at=dt.datetime(2025, 10, 25, 23, 30, tzinfo=dt.UTC),
        detected_at=dt.datetime(2025, 10, 25, 23, 40, tzinfo=dt.UTC),
        acknowledged_at=None,
        mitigated_at=None,
        resolved_at=dt.datetime(2025, 10, 26, 1, 30, tzinfo=dt.UTC),
    )
    client.force_login(user)
    html = client.get(incident.get_absolute_url()).content.decode()
    assert "Sun 26 Oct 2025, 01:30" in html
    assert "Sun 26 Oct 2025, 02:30" in html
    assert "TTR = resolved − started = 2 h" in html


def test_incident_detail_offers_to_write_the_postmortem_to_team_editors(
    editor_client, client, viewer, team
):
    incident = factories.IncidentFactory(team=team)
    html = editor_client.get(incident.get_absolute_url()).content.decode()
    url = reverse("postmortems:postmortem_create", args=[incident.pk])
    assert f'href="{url}"' in html
    client.force_login(viewer)
    assert "Write the postmortem" not in (
        client.get(incident.get_absolute_url()).content.decode()
    )


def test_incident_detail_links_a_readable_postmortem_but_hides_a_private_draft(
    editor_client, other_team
):
    published = factories.PostmortemFactory(
        incident=factories.IncidentFactory(team=other_team),
        status=PostmortemStatus.PUBLISHED,
    )
    draft = factories.PostmortemFactory(
        incident=factories.IncidentFactory(team=other_team)
    )
    html = editor_client.get(published.incident.get_absolute_url()).content.decode()
    assert published.get_absolute_url() in html
    html = editor_client.get(draft.incident.get_absolute_url()).content.decode()
    assert draft.get_absolute_url() not in html
    assert "A draft postmortem exists" in html


def test_incident_detail_shows_roles_and_services(editor_client, editor, team):
    service = factories.ServiceFactory(slug="ledger", name="Ledger", team=team)
    incident = factories.IncidentFactory(team=team, services=[service], scribe=editor)
    html = editor_client.get(incident.get_absolute_url()).content.decode()
    assert "Ledger" in html
    assert "Scribe" in html and editor.get_full_name() in html
    assert "Incident commander" in html and "not assigned" in html


def test_incident_detail_of_unknown_incident_is_404(editor_client):
    assert editor_client.get("/incidents/999999/").status_code == 404


# --- Timestamp corrections --------------------------------------------------------


def test_timestamp_correction_by_a_reviewer_is_recorded_with_who_and_why(
    client, reviewer, team
):
    incident = factories.IncidentFactory(team=team)
    client.force_login(reviewer)
    response = client.post(
        reverse("postmortems:incident_correct", args=[incident.pk]),
        {
            "field": "detected_at",
            "value": "2026-05-01T10:02",
            "reason": "Pager log shows the alert at 10:02",
        },
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.detected_at == dt.datetime(2026, 5, 1, 10, 2, tzinfo=dt.UTC)
    latest = incident.history.first()
    assert latest.history_user == reviewer
    assert latest.history_change_reason == "Pager log shows the alert at 10:02"
    html = client.get(incident.get_absolute_url()).content.decode()
    assert "1 May 10:05 → 1 May 10:02" in html
    assert "Pager log shows the alert at 10:02" in html
    assert "TTD = detected − started = 2 min" in html


def test_timestamp_correction_requires_a_reason(client, reviewer, team):
    incident = factories.IncidentFactory(team=team)
    client.force_login(reviewer)
    response = client.post(
        reverse("postmortems:incident_correct", args=[incident.pk]),
        {"field": "detected_at", "value": "2026-05-01T10:02", "reason": ""},
    )
    assert response.status_code == 422
    assert response.context["correction_form"].errors["reason"]
    incident.refresh_from_db()
    assert incident.detected_at == factories.BASE_TIME + dt.timedelta(minutes=5)


def test_timestamp_correction_keeps_the_order(client, reviewer, team):
    incident = factories.IncidentFactory(team=team)
    client.force_login(reviewer)
    response = client.post(
        reverse("postmortems:incident_correct", args=[incident.pk]),
        {"field": "resolved_at", "value": "2026-05-01T10:30", "reason": "typo"},
    )
    assert response.status_code == 422
    assert (
        "Resolved cannot be before mitigated"
        in (response.context["correction_form"].errors["value"][0])
    )


def test_timestamp_correction_is_for_reviewers_only(editor_client, team, other_team):
    own = factories.IncidentFactory(team=team)
    other = factories.IncidentFactory(team=other_team)
    data = {"field": "detected_at", "value": "2026-05-01T10:02", "reason": "x"}
    url = reverse("postmortems:incident_correct", args=[own.pk])
    assert editor_client.post(url, data).status_code == 403
    url = reverse("postmortems:incident_correct", args=[other.pk])
    assert editor_client.post(url, data).status_code == 404


def test_incident_history_lists_edits_of_timestamps(editor_client, team):
    incident = factories.IncidentFactory(team=team)
    editor_client.post(
        reverse("postmortems:incident_edit", args=[incident.pk]),
        _form(
            team,
            started_at="2026-05-01T09:55",
            detected_at="2026-05-01T10:05",
            acknowledged_at="2026-05-01T10:09",
            mitigated_at="2026-05-01T10:40",
            resolved_at="2026-05-01T12:00",
        ),
    )
    html = editor_client.get(incident.get_absolute_url()).content.decode()
    assert "1 May 10:00 → 1 May 09:55" in html
    assert "“Edited”" in html


def test_incident_page_includes_registered_panels_in_their_columns(
    editor_client, team, settings, tmp_path, monkeypatch
):
    """GIVEN an app registered an incident panel for each column (as findings and
    insights do in their ready())
    THEN the incident page shows each in its column, with the incident in their
    context."""
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "_panel.html").write_text(
        '<section id="probe">Probe panel for {{ incident.reference }}</section>'
    )
    (tmp_path / "probe" / "_aside.html").write_text(
        '<section id="aside">Beside {{ incident.title }}</section>'
    )
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [tmp_path, *engine["DIRS"]]}]
    monkeypatch.setattr(
        extensions,
        "incident_panels",
        [
            *extensions.incident_panels,
            extensions.Panel("probe/_panel.html"),
            extensions.Panel("probe/_aside.html", column="aside"),
        ],
    )
    incident = factories.IncidentFactory(team=team, title="Pool exhausted")
    html = editor_client.get(incident.get_absolute_url()).content.decode()
    main, aside = html.split("<aside>", 1)
    assert f"Probe panel for {incident.reference}" in main
    assert "Beside Pool exhausted" in aside
