"""The timeline editor: htmx add, edit and delete, day headings, permissions."""

import datetime as dt

import pytest
from django.urls import reverse

from postmortems.models import Profile, TimelineEntry, TimelineKind
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def incident(team):
    return factories.IncidentFactory(team=team)


def _entry_data(prefix="new", **overrides):
    data = {
        "occurred_at": "2026-05-01T10:07",
        "kind": "diagnosis",
        "text": "Pool saturation on `payments-db`",
        "author": "",
    }
    data.update(overrides)
    return {f"{prefix}-{key}": value for key, value in data.items()}


def test_timeline_add_via_htmx_returns_the_refreshed_timeline(
    editor_client, editor, incident
):
    url = reverse("postmortems:timeline_entry_create", args=[incident.pk])
    response = editor_client.post(url, _entry_data(author=editor.pk), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="timeline"')
    assert "<code>payments-db</code>" in html  # Markdown rendered
    entry = TimelineEntry.objects.get()
    assert entry.occurred_at == dt.datetime(2026, 5, 1, 10, 7, tzinfo=dt.UTC)
    assert entry.author == editor
    assert entry.kind == TimelineKind.DIAGNOSIS
    # The add form comes back empty and ready for the next entry.
    assert 'name="new-text"' in html and "autofocus" in html
    assert "Pool saturation" not in html.split('id="timeline-add"')[1]


def test_timeline_add_invalid_shows_errors_in_place(editor_client, incident):
    url = reverse("postmortems:timeline_entry_create", args=[incident.pk])
    response = editor_client.post(url, _entry_data(text="   ", occurred_at=""), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "This field is required." in html
    assert not TimelineEntry.objects.exists()


def test_timeline_add_without_javascript_redirects_to_the_incident(
    editor_client, incident
):
    url = reverse("postmortems:timeline_entry_create", args=[incident.pk])
    response = editor_client.post(url, _entry_data())
    assert response.status_code == 302
    assert response["Location"] == incident.get_absolute_url()
    assert TimelineEntry.objects.count() == 1


def test_timeline_entries_sort_by_time_whatever_the_order_they_were_added(
    editor_client, incident
):
    url = reverse("postmortems:timeline_entry_create", args=[incident.pk])
    for time, text in (("10:30", "Rolled back"), ("10:01", "Alert fired")):
        editor_client.post(
            url, _entry_data(occurred_at=f"2026-05-01T{time}", text=text), **HTMX
        )
    html = editor_client.get(incident.get_absolute_url()).content.decode()
    assert html.index("Alert fired") < html.index("Rolled back")


def test_timeline_edit_form_then_save_via_htmx(editor_client, incident):
    entry = factories.TimelineEntryFactory(incident=incident, text="Alert fired")
    edit_url = reverse("postmortems:timeline_entry_edit", args=[incident.pk, entry.pk])
    form = editor_client.get(edit_url, **HTMX)
    assert form.status_code == 200
    assert 'name="edit-text"' in form.content.decode()
    assert "Alert fired" in form.content.decode()
    response = editor_client.post(
        edit_url,
        _entry_data(
            prefix="edit",
            occurred_at="2026-05-01T10:03",
            kind="alert",
            text="HighErrorRate fired",
        ),
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="timeline-entries"')
    assert "HighErrorRate fired" in html and 'name="edit-text"' not in html
    entry.refresh_from_db()
    assert entry.text == "HighErrorRate fired"
    assert entry.occurred_at == dt.datetime(2026, 5, 1, 10, 3, tzinfo=dt.UTC)


def test_timeline_edit_invalid_keeps_the_form_open_with_errors(editor_client, incident):
    entry = factories.TimelineEntryFactory(incident=incident, text="Alert fired")
    edit_url = reverse("postmortems:timeline_entry_edit", args=[incident.pk, entry.pk])
    response = editor_client.post(edit_url, _entry_data(prefix="edit", text=""), **HTMX)
    html = response.content.decode()
    assert 'name="edit-text"' in html
    assert "This field is required." in html
    entry.refresh_from_db()
    assert entry.text == "Alert fired"


def test_timeline_edit_without_javascript_opens_the_entry_on_the_page(
    editor_client, incident
):
    entry = factories.TimelineEntryFactory(incident=incident)
    edit_url = reverse("postmortems:timeline_entry_edit", args=[incident.pk, entry.pk])
    response = editor_client.get(edit_url, follow=True)
    assert 'name="edit-text"' in response.content.decode()


def test_timeline_delete_via_htmx(editor_client, incident):
    keep = factories.TimelineEntryFactory(incident=incident, text="Keep me")
    gone = factories.TimelineEntryFactory(incident=incident, text="Typo entry")
    url = reverse("postmortems:timeline_entry_delete", args=[incident.pk, gone.pk])
    response = editor_client.post(url, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Keep me" in html and "Typo entry" not in html
    assert list(TimelineEntry.objects.all()) == [keep]


def test_timeline_empty_state_invites_the_first_entry(editor_client, incident):
    html = editor_client.get(incident.get_absolute_url()).content.decode()
    assert "No timeline entries yet." in html
    assert "Start with the first alert" in html


def test_timeline_shows_day_headings_when_the_incident_spans_days(editor_client, team):
    incident = factories.IncidentFactory(
        team=team,
        started_at=dt.datetime(2026, 5, 1, 23, 40, tzinfo=dt.UTC),
    )
    factories.TimelineEntryFactory(
        incident=incident, occurred_at=dt.datetime(2026, 5, 1, 23, 45, tzinfo=dt.UTC)
    )
    factories.TimelineEntryFactory(
        incident=incident, occurred_at=dt.datetime(2026, 5, 2, 0, 20, tzinfo=dt.UTC)
    )
    html = editor_client.get(incident.get_absolute_url()).content.decode()
    assert '<li class="day">Friday 1 May 2026</li>' in html
    assert '<li class="day">Saturday 2 May 2026</li>' in html


def test_timeline_days_follow_the_viewers_time_zone(editor_client, editor, team):
    """GIVEN entries at 23:45 and 00:20 UTC (two UTC days) WHEN the viewer is in
    Europe/Berlin THEN both are on 2 May locally: no day headings, one date."""
    Profile.objects.filter(user=editor).update(timezone="Europe/Berlin")
    incident = factories.IncidentFactory(
        team=team,
        started_at=dt.datetime(2026, 5, 1, 23, 40, tzinfo=dt.UTC),
        resolved_at=dt.datetime(2026, 5, 2, 1, 0, tzinfo=dt.UTC),
    )
    for at in (
        dt.datetime(2026, 5, 1, 23, 45, tzinfo=dt.UTC),
        dt.datetime(2026, 5, 2, 0, 20, tzinfo=dt.UTC),
    ):
        factories.TimelineEntryFactory(incident=incident, occurred_at=at)
    html = editor_client.get(incident.get_absolute_url()).content.decode()
    assert 'class="day"' not in html
    assert "Times in Europe/Berlin · Sat 2 May 2026" in html
    assert ">01:45</time>" in html and ">02:20</time>" in html


def test_timeline_viewer_sees_entries_but_cannot_change_them(client, viewer, team):
    incident = factories.IncidentFactory(team=team)
    entry = factories.TimelineEntryFactory(incident=incident)
    client.force_login(viewer)
    html = client.get(incident.get_absolute_url()).content.decode()
    assert "HighErrorRate fired" in html
    assert "Add to timeline" not in html and ">Edit<" not in html
    create = reverse("postmortems:timeline_entry_create", args=[incident.pk])
    edit = reverse("postmortems:timeline_entry_edit", args=[incident.pk, entry.pk])
    delete = reverse("postmortems:timeline_entry_delete", args=[incident.pk, entry.pk])
    assert client.post(create, _entry_data(), **HTMX).status_code == 403
    assert client.post(edit, _entry_data("edit"), **HTMX).status_code == 403
    assert client.post(delete, **HTMX).status_code == 403
    assert TimelineEntry.objects.get().text == "HighErrorRate fired for checkout"


def test_timeline_writes_on_another_teams_incident_are_404(editor_client, other_team):
    incident = factories.IncidentFactory(team=other_team)
    entry = factories.TimelineEntryFactory(incident=incident)
    create = reverse("postmortems:timeline_entry_create", args=[incident.pk])
    edit = reverse("postmortems:timeline_entry_edit", args=[incident.pk, entry.pk])
    delete = reverse("postmortems:timeline_entry_delete", args=[incident.pk, entry.pk])
    assert editor_client.post(create, _entry_data(), **HTMX).status_code == 404
    assert editor_client.get(edit, **HTMX).status_code == 404
    assert editor_client.post(delete, **HTMX).status_code == 404
    assert TimelineEntry.objects.count() == 1


def test_timeline_entry_of_another_incident_is_404(editor_client, team, incident):
    elsewhere = factories.TimelineEntryFactory(
        incident=factories.IncidentFactory(team=team)
    )
    url = reverse("postmortems:timeline_entry_delete", args=[incident.pk, elsewhere.pk])
    assert editor_client.post(url, **HTMX).status_code == 404
    assert TimelineEntry.objects.filter(pk=elsewhere.pk).exists()
