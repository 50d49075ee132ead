"""/api/v1/action-items/: filters, ordering, pagination, permissions, schema."""

import datetime as dt

import pytest
from django.utils import timezone

from actions.models import ActionItem
from postmortems.models import PostmortemStatus, Role
from tests import factories
from tests.problems import field_errors

pytestmark = pytest.mark.django_db
URL = "/api/v1/action-items/"


def _titles(response):
    return sorted(row["title"] for row in response.json()["results"])


def test_api_filters_status_team_owner_category_priority(
    editor_client, team, other_team
):
    owner = factories.UserFactory(username="nia", teams=[team])
    factories.ActionItemFactory(
        title="match", team=team, owner=owner, category="prevention", priority="P0"
    )
    factories.ActionItemFactory(title="wrong category", team=team, owner=owner)
    factories.ActionItemFactory(
        title="other team", team=other_team, owner=owner, category="prevention"
    )
    response = editor_client.get(
        URL,
        {
            "status": "open",
            "team": "payments",
            "owner": "nia",
            "category": "prevention",
            "priority": "P0",
        },
    )
    assert response.status_code == 200
    assert _titles(response) == ["match"]


def test_api_filters_overdue_and_due_range(editor_client, team):
    today = timezone.localdate()
    factories.ActionItemFactory(
        title="late", team=team, due_date=today - dt.timedelta(1)
    )
    factories.ActionItemFactory(
        title="soon", team=team, due_date=today + dt.timedelta(5)
    )
    factories.ActionItemFactory(
        title="far", team=team, due_date=today + dt.timedelta(50)
    )
    assert _titles(editor_client.get(URL, {"overdue": "true"})) == ["late"]
    in_range = editor_client.get(
        URL,
        {
            "due_after": today.isoformat(),
            "due_before": (today + dt.timedelta(10)).isoformat(),
        },
    )
    assert _titles(in_range) == ["soon"]


def test_api_orders_and_paginates(editor_client, team):
    today = timezone.localdate()
    for days in (3, 1, 2):
        factories.ActionItemFactory(
            title=f"d{days}", team=team, due_date=today + dt.timedelta(days)
        )
    body = editor_client.get(URL, {"ordering": "-due_date"}).json()
    assert [r["title"] for r in body["results"]] == ["d3", "d2", "d1"]
    assert body["count"] == 3 and "next" in body


def test_api_requires_login(client):
    assert client.get(URL).status_code in (401, 403)


def test_api_viewer_reads_but_cannot_write(client, viewer, team):
    item = factories.ActionItemFactory(team=team)
    client.force_login(viewer)
    assert client.get(f"{URL}{item.pk}/").status_code == 200
    created = client.post(
        URL,
        {"title": "x", "category": "process", "team": "payments"},
        content_type="application/json",
    )
    assert created.status_code == 403
    patched = client.patch(
        f"{URL}{item.pk}/", {"title": "y"}, content_type="application/json"
    )
    assert patched.status_code == 403


def test_api_editor_creates_with_default_due_date_and_history(editor_client, editor):
    response = editor_client.post(
        URL,
        {
            "title": "Add SLO alert",
            "category": "detection",
            "priority": "P0",
            "team": "payments",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    item = ActionItem.objects.get(pk=response.json()["id"])
    assert item.due_date == timezone.localdate() + dt.timedelta(days=7)
    assert item.history.get().history_user == editor


def test_api_editor_of_another_team_cannot_write(client, team, other_team):
    outsider = factories.UserFactory(role=Role.EDITOR, teams=[other_team])
    item = factories.ActionItemFactory(team=team)
    client.force_login(outsider)
    patched = client.patch(
        f"{URL}{item.pk}/", {"title": "y"}, content_type="application/json"
    )
    assert patched.status_code == 403
    created = client.post(
        URL,
        {"title": "x", "category": "process", "team": "payments"},
        content_type="application/json",
    )
    # A team they may not choose: refused like the page's form, naming the field.
    assert created.status_code == 422
    assert "team" in field_errors(created)
    assert not ActionItem.objects.filter(title="x").exists()


def test_api_blocked_without_reason_is_a_400(editor_client, team):
    item = factories.ActionItemFactory(team=team)
    response = editor_client.patch(
        f"{URL}{item.pk}/", {"status": "blocked"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert "status_reason" in field_errors(response)
    ok = editor_client.patch(
        f"{URL}{item.pk}/",
        {"status": "done", "verification_note": "Drill passed."},
        content_type="application/json",
    )
    assert ok.status_code == 200
    assert ok.json()["completed_at"] is not None


def test_api_hides_items_of_another_teams_draft(client, team, other_team):
    outsider = factories.UserFactory(role=Role.EDITOR, teams=[other_team])
    draft = factories.PostmortemFactory(
        incident__team=team, status=PostmortemStatus.DRAFT
    )
    item = factories.ActionItemFactory(team=team, postmortem=draft)
    client.force_login(outsider)
    assert client.get(f"{URL}{item.pk}/").status_code == 404
    assert client.get(URL).json()["count"] == 0


def test_api_list_runs_a_fixed_number_of_queries(
    editor_client, team, django_assert_max_num_queries
):
    factories.ActionItemFactory(team=team)
    with django_assert_max_num_queries(12) as few:
        editor_client.get(URL)
    postmortem = factories.PostmortemFactory(incident__team=team)
    for _ in range(20):
        factories.ActionItemFactory(team=team, postmortem=postmortem)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert editor_client.get(URL).json()["count"] == 21


def test_api_schema_documents_filters_and_errors(admin_user, client):
    client.force_login(admin_user)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/action-items/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {
        "status",
        "team",
        "owner",
        "category",
        "priority",
        "overdue",
        "due_after",
        "due_before",
        "ordering",
        "page",
    } <= names
    assert {"401", "403"} <= set(operation["responses"])
    create = schema["paths"]["/api/v1/action-items/"]["post"]["responses"]
    assert {"201", "400", "403"} <= set(create)
