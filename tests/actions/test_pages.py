"""The action item pages: list with filters, detail with history, create/edit,
status changes with their rules, My action items, reviews, and query counts."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from actions import services
from actions.models import ActionItem, Decision, Status
from postmortems.models import PostmortemStatus, Role, Severity
from tests import factories

pytestmark = pytest.mark.django_db


def _items(team, n, **kwargs):
    owner = kwargs.pop("owner", None) or factories.UserFactory(teams=[team])
    return [
        factories.ActionItemFactory(team=team, owner=owner, **kwargs) for _ in range(n)
    ]


def test_item_list_filters_by_team_status_and_overdue(editor_client, team, other_team):
    today = timezone.localdate()
    late = _items(team, 2, due_date=today - dt.timedelta(days=3))
    _items(team, 3, due_date=today + dt.timedelta(days=3))
    _items(other_team, 2, due_date=today - dt.timedelta(days=3))
    response = editor_client.get("/actions/", {"team": "payments", "overdue": "true"})
    assert response.status_code == 200
    shown = {item.pk for item in response.context["items"]}
    assert shown == {item.pk for item in late}
    assert "overdue" in response.content.decode()


def test_item_list_filters_by_owner_category_priority_and_due_range(
    editor_client, team
):
    owner = factories.UserFactory(username="olga", teams=[team])
    today = timezone.localdate()
    wanted = factories.ActionItemFactory(
        team=team,
        owner=owner,
        category="prevention",
        priority="P0",
        due_date=today + dt.timedelta(days=10),
    )
    factories.ActionItemFactory(team=team, owner=owner, category="detection")
    factories.ActionItemFactory(team=team, category="prevention", priority="P0")
    response = editor_client.get(
        "/actions/",
        {
            "owner": "olga",
            "category": "prevention",
            "priority": "P0",
            "due_after": today.isoformat(),
            "due_before": (today + dt.timedelta(days=20)).isoformat(),
        },
    )
    assert [i.pk for i in response.context["items"]] == [wanted.pk]


def test_item_list_filters_by_postmortem(editor_client, team):
    postmortem = factories.PostmortemFactory(incident__team=team)
    mine = factories.ActionItemFactory(team=team, postmortem=postmortem)
    factories.ActionItemFactory(team=team)
    response = editor_client.get("/actions/", {"postmortem": postmortem.pk})
    assert [i.pk for i in response.context["items"]] == [mine.pk]


def test_item_list_runs_a_fixed_number_of_queries(
    editor_client, team, django_assert_max_num_queries
):
    _items(team, 3)
    with django_assert_max_num_queries(12) as few:
        editor_client.get("/actions/", {"team": "payments"})
    postmortem = factories.PostmortemFactory(incident__team=team)
    for _ in range(4):
        _items(team, 10, postmortem=postmortem)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = editor_client.get("/actions/", {"team": "payments"})
    assert len(response.context["items"]) == 43


def test_item_list_has_a_useful_empty_state(editor_client):
    response = editor_client.get("/actions/", {"team": "payments"})
    assert "No action items match these filters" in response.content.decode()


def test_my_items_lists_only_mine_ordered_by_due_date(client, team):
    me = factories.UserFactory(username="me", teams=[team])
    today = timezone.localdate()
    later = factories.ActionItemFactory(
        team=team, owner=me, due_date=today + dt.timedelta(days=20)
    )
    sooner = factories.ActionItemFactory(
        team=team, owner=me, due_date=today + dt.timedelta(days=2)
    )
    factories.ActionItemFactory(team=team, due_date=today)
    client.force_login(me)
    response = client.get("/actions/mine/")
    assert [i.pk for i in response.context["open_items"]] == [sooner.pk, later.pk]


def test_item_detail_shows_history_with_who_and_tracker_link(editor_client, editor):
    item = factories.ActionItemFactory(
        team=editor.profile.teams.first(),
        tracker_provider="jira",
        tracker_key="OPS-42",
        tracker_url="https://jira.example.com/browse/OPS-42",
    )
    response = editor_client.post(
        reverse("actions:item_edit", args=[item.pk]),
        {
            "title": "Alert on pool saturation",
            "category": "detection",
            "priority": "P0",
            "team": item.team.pk,
            "owner": item.owner.pk,
            "due_date": item.due_date.isoformat(),
            "status": "in_progress",
            "tracker_provider": "jira",
            "tracker_key": "OPS-42",
            "tracker_url": "https://jira.example.com/browse/OPS-42",
        },
    )
    assert response.status_code == 302
    page = editor_client.get(item.get_absolute_url()).content.decode()
    assert 'href="https://jira.example.com/browse/OPS-42"' in page
    assert "Jira OPS-42" in page
    history = page[page.index('id="history"') :]
    assert editor.get_full_name() in history
    assert "Priority" in history and "P1" in history and "P0" in history


def test_item_status_blocked_without_reason_shows_the_error(editor_client, editor):
    item = factories.ActionItemFactory(team=editor.profile.teams.first())
    response = editor_client.post(
        reverse("actions:item_status", args=[item.pk]),
        {"status": "blocked", "status_reason": " "},
    )
    assert response.status_code == 400
    assert "Say why this item is blocked" in response.content.decode()
    item.refresh_from_db()
    assert item.status == Status.OPEN


def test_item_status_done_needs_a_verification_note_and_sets_completed_at(
    editor_client, editor
):
    item = factories.ActionItemFactory(team=editor.profile.teams.first())
    url = reverse("actions:item_status", args=[item.pk])
    refused = editor_client.post(url, {"status": "done"})
    assert "how we know it worked" in refused.content.decode()
    done = editor_client.post(
        url, {"status": "done", "verification_note": "Alert fired in the drill."}
    )
    assert done.status_code == 302
    item.refresh_from_db()
    assert item.status == Status.DONE
    assert item.completed_at is not None


def test_item_create_defaults_the_due_date_from_the_priority(editor_client, team):
    response = editor_client.post(
        reverse("actions:item_create"),
        {
            "title": "Write the failover runbook",
            "category": "documentation",
            "priority": "P0",
            "team": team.pk,
            "status": "open",
        },
    )
    assert response.status_code == 302
    item = ActionItem.objects.get(title="Write the failover runbook")
    assert item.due_date == timezone.localdate() + dt.timedelta(days=7)


def test_item_create_wont_do_without_reason_is_a_form_error(editor_client, team):
    response = editor_client.post(
        reverse("actions:item_create"),
        {
            "title": "x",
            "category": "process",
            "priority": "P2",
            "team": team.pk,
            "status": "wont_do",
        },
    )
    assert response.status_code == 400
    assert "Say why this item won" in response.content.decode()
    assert not ActionItem.objects.exists()


def test_item_edit_by_viewer_is_forbidden(client, viewer, team):
    item = factories.ActionItemFactory(team=team)
    client.force_login(viewer)
    assert client.get(item.get_absolute_url()).status_code == 200
    assert client.get(reverse("actions:item_edit", args=[item.pk])).status_code == 403


def test_item_of_another_teams_draft_is_a_404(client, team, other_team):
    outsider = factories.UserFactory(role=Role.EDITOR, teams=[other_team])
    draft = factories.PostmortemFactory(
        incident__team=team, status=PostmortemStatus.DRAFT
    )
    item = factories.ActionItemFactory(team=team, postmortem=draft)
    client.force_login(outsider)
    assert client.get(item.get_absolute_url()).status_code == 404
    listed = client.get("/actions/").context["items"]
    assert item.pk not in {i.pk for i in listed}


def test_item_decision_redate_applies_and_shows_in_review_history(client, team):
    lead = factories.UserFactory(username="lead", role=Role.REVIEWER, teams=[team])
    today = timezone.localdate()
    item = factories.ActionItemFactory(team=team, due_date=today - dt.timedelta(5))
    client.force_login(lead)
    new_date = today + dt.timedelta(days=14)
    response = client.post(
        reverse("actions:item_decision", args=[item.pk]),
        {
            "decision": Decision.REDATE,
            "note": "Vendor fix lands next sprint.",
            "new_due_date": new_date.isoformat(),
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.due_date == new_date
    page = client.get(item.get_absolute_url()).content.decode()
    reviews = page[page.index('id="reviews"') :]
    assert "Re-date" in reviews and "Vendor fix lands next sprint." in reviews


def test_item_decision_by_editor_is_forbidden(editor_client, team):
    item = factories.ActionItemFactory(team=team)
    response = editor_client.post(
        reverse("actions:item_decision", args=[item.pk]),
        {"decision": Decision.ACCEPT_RISK, "note": "fine"},
    )
    assert response.status_code == 403


def test_review_pages_list_and_show_decisions(client, team):
    lead = factories.UserFactory(username="lead", role=Role.REVIEWER, teams=[team])
    client.force_login(lead)
    response = client.post(
        reverse("actions:review_create"),
        {"date": "2026-11-02", "attendees": [lead.pk], "notes": "Quarterly review"},
    )
    assert response.status_code == 302
    listing = client.get(reverse("actions:review_list")).content.decode()
    assert "2 Nov 2026" in listing


def test_dashboard_renders_with_links_to_filtered_lists(editor_client, team):
    today = timezone.localdate()
    incident = factories.IncidentFactory(team=team, severity=Severity.SEV0)
    postmortem = factories.PostmortemFactory(incident=incident)
    _items(team, 2, due_date=today - dt.timedelta(days=1), postmortem=postmortem)
    response = editor_client.get("/actions/dashboard/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="/actions/?overdue=true" data-stat="overdue">2<' in page
    assert "/actions/?state=open&amp;severity=SEV0&amp;severity=SEV1" in page
    assert 'id="dashboard-data"' in page
    assert "<script>" not in page  # no inline script (CSP)


def test_dashboard_team_view_counts_only_that_team(editor_client, team, other_team):
    today = timezone.localdate()
    _items(team, 2, due_date=today - dt.timedelta(days=1))
    _items(other_team, 5, due_date=today - dt.timedelta(days=1))
    board = editor_client.get("/actions/dashboard/", {"team": "identity"}).context[
        "board"
    ]
    assert board.totals["overdue"]["count"] == 5
    assert board.totals["overdue"]["query"] == "team=identity&overdue=true"


def test_dashboard_runs_a_fixed_number_of_queries(
    editor_client, team, other_team, django_assert_max_num_queries
):
    today = timezone.localdate()
    _items(team, 2, due_date=today - dt.timedelta(days=1))
    with django_assert_max_num_queries(20) as few:
        editor_client.get("/actions/dashboard/")
    for index in range(30):
        owner = factories.UserFactory(teams=[other_team])
        incident = factories.IncidentFactory(team=team, severity=Severity.SEV1)
        pm = factories.PostmortemFactory(
            incident=incident, status=PostmortemStatus.IN_REVIEW
        )
        due = today - dt.timedelta(days=index)
        _items(other_team, 2, owner=owner, postmortem=pm, due_date=due)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = editor_client.get("/actions/dashboard/")
    board = response.context["board"]
    assert board.totals["total"]["count"] == 62
    assert len(board.waiting_review) == 30
    assert len(board.overdue_by_owner) == 30


def _board_links(board):
    """Every (count, query) pair the dashboard shows as a link."""
    yield from ((v["count"], v["query"]) for v in board.totals.values())
    for row in board.by_team:
        yield row["open"], row["open_query"]
        yield row["overdue"], row["overdue_query"]
        yield row["done"], row["done_query"]
        yield row["total"], row["total_query"]
    yield from ((o["count"], o["query"]) for o in board.overdue_by_owner)
    yield from ((b["count"], b["query"]) for b in board.age_buckets)
    for quarter in board.on_time_by_quarter:
        yield quarter["total"], quarter["total_query"]
        yield quarter["on_time"], quarter["on_time_query"]
    for category in board.by_category:
        yield category["open"], category["open_query"]
        yield category["done"], category["done_query"]
        yield category["total"], category["total_query"]
    yield board.high_sev_open["count"], board.high_sev_open["query"]


@pytest.mark.parametrize("team_slug", [None, "payments"])
def test_dashboard_every_number_matches_the_list_it_links_to(
    editor_client, editor, team, other_team, team_slug
):
    """GIVEN items of two teams, open and closed, late and on time, old and new
    WHEN each number on the dashboard is followed to its filtered list
    THEN the list holds exactly that many items."""
    today = timezone.localdate()
    now = timezone.now()
    severities = [Severity.SEV0, Severity.SEV1, Severity.SEV2, Severity.SEV3]
    statuses = list(Status.values)
    for index in range(40):
        item_team = team if index % 3 else other_team
        postmortem = None
        if index % 4:
            postmortem = factories.PostmortemFactory(
                incident__team=item_team,
                incident__severity=severities[index % 4],
                status=PostmortemStatus.PUBLISHED,
            )
        status = statuses[index % len(statuses)]
        due = today + dt.timedelta(days=20 - 9 * index)
        ActionItem.objects.create(
            title=f"item {index}",
            team=item_team,
            owner=editor if index % 5 == 0 else None,
            category=["detection", "prevention", "process"][index % 3],
            status=status,
            status_reason="why",
            verification_note="ok",
            postmortem=postmortem,
            due_date=due,
            created_at=now - dt.timedelta(days=7 * index),
            completed_at=now - dt.timedelta(days=9 * index - 3 * (index % 2))
            if status == Status.DONE
            else None,
        )
    params = {"team": team_slug} if team_slug else {}
    board = editor_client.get("/actions/dashboard/", params).context["board"]
    checked = 0
    for count, query in _board_links(board):
        listed = editor_client.get(f"/actions/?{query}").context["page"].paginator
        assert listed.count == count, query
        checked += 1
    assert checked > 40
    assert board.totals["overdue"]["count"] > 0


def test_admin_pages_for_action_models_load(client, admin_user, team):
    item = factories.ActionItemFactory(team=team)
    client.force_login(admin_user)
    for url in (
        "/admin/actions/actionitem/",
        f"/admin/actions/actionitem/{item.pk}/history/",
        "/admin/actions/coveragepolicy/",
        "/admin/actions/coveragepolicy/add/",
        "/admin/actions/duepolicy/",
        "/admin/actions/leadershipreview/add/",
        "/admin/actions/reminderlog/",
    ):
        assert client.get(url).status_code == 200, url


def test_item_decision_in_an_existing_review_is_listed_on_the_review(client, team):
    lead = factories.UserFactory(username="lead", role=Role.REVIEWER, teams=[team])
    review = services.leadership_review_create(
        date=timezone.localdate(), recorded_by=lead, attendees=[lead]
    )
    item = factories.ActionItemFactory(team=team, priority="P2")
    client.force_login(lead)
    form = client.get(item.get_absolute_url()).content.decode()
    assert f'<option value="{review.pk}">' in form
    response = client.post(
        reverse("actions:item_decision", args=[item.pk]),
        {"review": review.pk, "decision": Decision.ESCALATE, "note": "Customer risk"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.priority == "P1"
    page = client.get(review.get_absolute_url()).content.decode()
    assert item.title in page and "Escalate" in page


@pytest.mark.parametrize("url", ["/actions/mine/", "/actions/export.csv"])
def test_my_items_and_export_run_a_fixed_number_of_queries(
    editor_client, editor, team, url, django_assert_max_num_queries
):
    factories.ActionItemFactory(team=team, owner=editor)

    def fetch():
        response = editor_client.get(url)
        body = getattr(response, "streaming_content", None)
        return b"".join(body) if body is not None else response.content

    with django_assert_max_num_queries(12) as few:
        fetch()
    postmortem = factories.PostmortemFactory(incident__team=team)
    for _ in range(15):
        factories.ActionItemFactory(team=team, owner=editor, postmortem=postmortem)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert fetch().count(b"Add alerting on pool saturation") == 16


@pytest.mark.parametrize("value", ["abc", "1.5", "-1", "9999999"])
def test_new_item_for_a_postmortem_that_is_not_one_is_a_404(editor_client, value):
    response = editor_client.get(reverse("actions:item_create"), {"postmortem": value})
    assert response.status_code == 404
