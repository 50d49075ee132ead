"""Near misses: every way an incident is created or edited can record one, and
every page, filter, export and the API show it."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from postmortems.models import Incident
from tests import factories
from tests.problems import field_errors

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _form(team, **overrides):
    data = {
        "title": "Staging certificate expired",
        "severity": "SEV3",
        "status": "investigating",
        "team": team.pk,
        "services": [],
        "started_at": "2026-05-01T10:00",
        "detected_at": "2026-05-01T10:05",
        "acknowledged_at": "",
        "mitigated_at": "",
        "resolved_at": "",
    }
    data.update(overrides)
    return data


def _body(**overrides):
    body = {
        "title": "Staging certificate expired",
        "severity": "SEV3",
        "team": "payments",
        "started_at": "2026-05-01T10:00:00Z",
    }
    body.update(overrides)
    return body


def _declare_by_form(client, editor, team):
    client.post(reverse("postmortems:incident_create"), _form(team, near_miss="on"))
    return Incident.objects.get(title="Staging certificate expired")


def _edit_by_form(client, editor, team):
    incident = factories.IncidentFactory(team=team)
    response = client.post(
        reverse("postmortems:incident_edit", args=[incident.pk]),
        _form(team, near_miss="on"),
    )
    assert response.status_code == 302
    return Incident.objects.get(pk=incident.pk)


def _declare_by_api(client, editor, team):
    response = _api(editor).post(
        "/api/v1/incidents/", _body(near_miss=True), format="json"
    )
    assert response.status_code == 201, response.json()
    return Incident.objects.get(pk=response.json()["id"])


def _patch_by_api(client, editor, team):
    incident = factories.IncidentFactory(team=team)
    response = _api(editor).patch(
        f"/api/v1/incidents/{incident.pk}/", {"near_miss": True}, format="json"
    )
    assert response.status_code == 200, response.json()
    return Incident.objects.get(pk=incident.pk)


def _import_export(client, editor, team, tmp_path):
    """Export a near miss's postmortem, delete it, import the file back."""
    incident = factories.IncidentFactory(team=team, near_miss=True, title="Exported")
    postmortem = factories.PostmortemFactory(
        incident=incident,
        author=editor,
        sections={
            "summary": "The staging certificate expired.",
            "impact": "None: only staging was affected.",
            "root_cause": "Renewal was manual.",
            "trigger": "The certificate reached its expiry date.",
        },
    )
    text = client.get(
        reverse("postmortems:postmortem_export_markdown", args=[postmortem.pk])
    ).content.decode()
    assert "near_miss: true" in text
    incident.delete()
    (tmp_path / "exported.md").write_text(text)
    out, err = StringIO(), StringIO()
    call_command(
        "import_postmortems",
        str(tmp_path),
        "--team",
        "payments",
        "--author",
        "editor",
        stdout=out,
        stderr=err,
    )
    assert "1 postmortem(s) imported" in out.getvalue(), err.getvalue()
    return Incident.objects.get(title="Exported")


PATHS = {
    "import of an export": _import_export,
    "form create": _declare_by_form,
    "form edit": _edit_by_form,
    "api create": _declare_by_api,
    "api patch": _patch_by_api,
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_every_write_path_records_a_near_miss_and_every_view_shows_it(
    editor_client, editor, team, path, tmp_path
):
    """GIVEN an incident recorded as a near miss through one write path
    THEN its history says who did it, and the incident page, the list filter
    (page and API) and the API detail all show it as a near miss."""
    factories.IncidentFactory(team=team, title="Checkout down for real")
    make = PATHS[path]
    if path == "import of an export":
        incident = make(editor_client, editor, team, tmp_path)
    else:
        incident = make(editor_client, editor, team)
    assert incident.near_miss is True
    assert incident.history.first().history_user == editor

    page = editor_client.get(incident.get_absolute_url()).content.decode()
    assert "badge-near-miss" in page and "None: a near miss" in page

    listed = editor_client.get(
        reverse("postmortems:incident_list"), {"near_miss": "true"}
    ).content.decode()
    assert incident.title in listed and "Checkout down for real" not in listed
    others = editor_client.get(
        reverse("postmortems:incident_list"), {"near_miss": "false"}
    ).content.decode()
    assert "Checkout down for real" in others and incident.title not in others

    api = _api(editor)
    rows = api.get("/api/v1/incidents/", {"near_miss": "true"}).json()["results"]
    assert [row["id"] for row in rows] == [incident.pk]
    assert api.get(f"/api/v1/incidents/{incident.pk}/").json()["near_miss"] is True


def test_the_form_offers_the_near_miss_choice(editor_client):
    page = editor_client.get(reverse("postmortems:incident_create")).content.decode()
    assert 'name="near_miss"' in page and "no customer impact" in page.lower()


@pytest.mark.parametrize("value", ["maybe", 7, None])
def test_api_refuses_a_near_miss_that_is_not_a_boolean_and_saves_nothing(
    editor, team, value
):
    response = _api(editor).post(
        "/api/v1/incidents/", _body(near_miss=value), format="json"
    )
    assert response.status_code == 400
    assert "near_miss" in field_errors(response)
    assert not Incident.objects.exists()


def test_a_bad_near_miss_filter_is_a_clear_400(editor):
    response = _api(editor).get("/api/v1/incidents/", {"near_miss": "perhaps"})
    assert response.status_code == 400
    assert "near_miss" in field_errors(response)


def test_demo_marks_only_the_incident_without_customer_impact():
    call_command("load_demo")
    near = list(Incident.objects.filter(near_miss=True).values_list("title", flat=True))
    assert near == [
        "Expired serving certificate on the policy admission webhook blocked pod "
        "creation"
    ]


def test_near_misses_are_counted_apart_on_the_report(editor_client, editor, team):
    from insights.models import FailureClass
    from insights.services import postmortem_class_confirm

    cert = FailureClass.objects.get(slug="certificate-expiry")
    for near_miss in (False, True, True):
        incident = factories.IncidentFactory(team=team, near_miss=near_miss)
        postmortem = factories.PostmortemFactory(incident=incident, author=editor)
        postmortem_class_confirm(postmortem=postmortem, failure_class=cert, user=editor)
    for url in (reverse("insights:report"), reverse("insights:report_markdown")):
        html = editor_client.get(url).content.decode()
        assert "of which 2 near misses" in html
    html = editor_client.get(cert.get_absolute_url()).content.decode()
    assert "of which 2 near misses" in html


def test_an_imported_file_with_a_bad_near_miss_is_refused_whole(tmp_path, editor):
    (tmp_path / "bad.md").write_text(
        "---\ntitle: Staging cert\ndate: 2026-05-01\nnear_miss: perhaps\n---\n"
        "# Staging cert\n\n## Root cause\n\nA certificate expired.\n"
    )
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_postmortems",
            str(tmp_path),
            "--team",
            "payments",
            "--author",
            "editor",
            stdout=out,
            stderr=err,
        )
    assert "near_miss" in err.getvalue() + out.getvalue()
    assert not Incident.objects.exists()
