"""Incident and postmortem lists: filters, search, pagination, visibility, N+1."""

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse

from postmortems.models import IncidentStatus, PostmortemStatus, Profile, Severity
from postmortems.search import search
from postmortems.selectors import postmortem_list
from tests import factories

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def _titles(response, key):
    return [
        (obj.title if key == "incidents" else obj.incident.title)
        for obj in response.context[key]
    ]


@pytest.fixture
def corpus(team, other_team):
    """Three published postmortems with distinct words, one draft of another team."""
    checkout = factories.ServiceFactory(slug="checkout", name="Checkout", team=team)
    dns = factories.ServiceFactory(slug="dns", name="DNS", team=other_team)
    cert = factories.PostmortemFactory(
        incident=factories.IncidentFactory(
            title="TLS certificate expired on the edge",
            severity=Severity.SEV1,
            team=other_team,
            services=[dns],
            started_at=factories.BASE_TIME - 30 * DAY,
        ),
        status=PostmortemStatus.PUBLISHED,
        sections={
            "summary": "Browsers rejected our certificate for 50 minutes.",
            "root_cause": "Renewal ran, but the proxy kept the old certificate "
            "in memory.\nRollback was not possible.",
        },
    )
    pool = factories.PostmortemFactory(
        incident=factories.IncidentFactory(
            title="Checkout errors during the campaign",
            severity=Severity.SEV2,
            team=team,
            services=[checkout],
            status=IncidentStatus.RESOLVED,
            started_at=factories.BASE_TIME - 10 * DAY,
        ),
        status=PostmortemStatus.PUBLISHED,
        sections={
            "summary": "Checkout returned errors for 40 minutes.",
            "root_cause": "A connection pool limit was lower than peak concurrency.",
        },
    )
    draft = factories.PostmortemFactory(
        incident=factories.IncidentFactory(
            title="Resolver outage",
            severity=Severity.SEV2,
            team=other_team,
            services=[dns],
            started_at=factories.BASE_TIME - 5 * DAY,
        ),
        status=PostmortemStatus.DRAFT,
        sections={"summary": "Secret zeppelin plans leaked into the resolver."},
    )
    return {"cert": cert, "pool": pool, "draft": draft}


def test_incident_list_filters_by_severity_team_service_and_status(
    editor_client, corpus
):
    url = reverse("postmortems:incident_list")
    response = editor_client.get(url, {"severity": "SEV1"})
    assert _titles(response, "incidents") == ["TLS certificate expired on the edge"]
    response = editor_client.get(url, {"team": "payments"})
    assert _titles(response, "incidents") == ["Checkout errors during the campaign"]
    response = editor_client.get(url, {"service": "dns"})
    assert _titles(response, "incidents") == [
        "Resolver outage",
        "TLS certificate expired on the edge",
    ]
    response = editor_client.get(url, {"status": "resolved"})
    assert _titles(response, "incidents") == ["Checkout errors during the campaign"]


def test_incident_list_filters_by_date_range(editor_client, corpus):
    url = reverse("postmortems:incident_list")
    start = (factories.BASE_TIME - 12 * DAY).date().isoformat()
    end = (factories.BASE_TIME - 6 * DAY).date().isoformat()
    response = editor_client.get(url, {"date_from": start, "date_to": end})
    assert _titles(response, "incidents") == ["Checkout errors during the campaign"]


def test_incident_list_date_range_uses_the_viewers_day(editor_client, editor, team):
    """GIVEN an incident at 23:30 UTC on 1 May WHEN the viewer is in Berlin
    THEN it belongs to 2 May."""
    Profile.objects.filter(user=editor).update(timezone="Europe/Berlin")
    factories.IncidentFactory(
        team=team,
        title="Late night",
        started_at=dt.datetime(2026, 5, 1, 23, 30, tzinfo=dt.UTC),
    )
    url = reverse("postmortems:incident_list")
    response = editor_client.get(url, {"date_from": "2026-05-02"})
    assert _titles(response, "incidents") == ["Late night"]
    response = editor_client.get(url, {"date_to": "2026-05-01"})
    assert _titles(response, "incidents") == []


def test_incident_list_searches_titles_and_published_postmortems(editor_client, corpus):
    url = reverse("postmortems:incident_list")
    response = editor_client.get(url, {"q": "certificate"})
    assert _titles(response, "incidents") == ["TLS certificate expired on the edge"]
    response = editor_client.get(url, {"q": "concurrency"})
    assert _titles(response, "incidents") == ["Checkout errors during the campaign"]


def test_incident_list_search_never_reads_a_private_draft(editor_client, corpus):
    response = editor_client.get(
        reverse("postmortems:incident_list"), {"q": "zeppelin"}
    )
    assert _titles(response, "incidents") == []
    assert "No incidents match these filters." in response.content.decode()


@pytest.mark.parametrize("where", ["page", "api"])
def test_incident_search_finds_a_draft_by_its_text_for_those_who_may_read_it(
    client, corpus, other_team, editor, where
):
    """GIVEN another team's draft whose text holds a word its title does not
    WHEN its own team, and then someone of another team, search incidents for it
    THEN its team finds the incident (as the postmortem list would), the outsider
    does not."""
    colleague = factories.UserFactory(username="colleague", teams=[other_team])
    expected = {colleague: ["Resolver outage"], editor: []}
    for user, titles in expected.items():
        client.force_login(user)
        if where == "page":
            response = client.get(
                reverse("postmortems:incident_list"), {"q": "zeppelin"}
            )
            found = _titles(response, "incidents")
        else:
            response = client.get("/api/v1/incidents/", {"q": "zeppelin"})
            found = [row["title"] for row in response.json()["results"]]
        assert found == titles, user


def test_incident_list_names_no_postmortem_the_user_cannot_read(editor_client, corpus):
    html = editor_client.get(reverse("postmortems:incident_list")).content.decode()
    assert corpus["cert"].get_absolute_url() in html
    assert corpus["draft"].get_absolute_url() not in html


def test_incident_list_reports_an_invalid_filter_and_ignores_it(editor_client, corpus):
    response = editor_client.get(
        reverse("postmortems:incident_list"), {"severity": "SEV9"}
    )
    assert response.status_code == 200
    assert len(response.context["incidents"]) == 3
    assert "Select a valid choice" in response.content.decode()


def test_incident_list_empty_state_invites_declaring(editor_client):
    html = editor_client.get(reverse("postmortems:incident_list")).content.decode()
    assert "No incidents yet." in html
    assert reverse("postmortems:incident_create") in html


def test_incident_list_paginates_and_keeps_filters(editor_client, team):
    for index in range(30):
        factories.IncidentFactory(
            team=team,
            severity=Severity.SEV3,
            started_at=factories.BASE_TIME - index * DAY,
        )
    url = reverse("postmortems:incident_list")
    first = editor_client.get(url, {"severity": "SEV3"})
    assert len(first.context["incidents"]) == 25
    assert "?severity=SEV3&amp;page=2" in first.content.decode()
    second = editor_client.get(url, {"severity": "SEV3", "page": 2})
    assert len(second.context["incidents"]) == 5


def test_postmortem_list_hides_drafts_of_other_teams(editor_client, corpus):
    response = editor_client.get(reverse("postmortems:postmortem_list"))
    titles = _titles(response, "postmortems")
    assert "Resolver outage" not in titles
    assert len(titles) == 2


def test_postmortem_list_shows_own_team_drafts(client, team):
    draft = factories.PostmortemFactory(incident=factories.IncidentFactory(team=team))
    member = factories.UserFactory(username="member", teams=[team])
    client.force_login(member)
    response = client.get(reverse("postmortems:postmortem_list"))
    assert list(response.context["postmortems"]) == [draft]


def test_postmortem_list_filters_and_searches(editor_client, corpus):
    url = reverse("postmortems:postmortem_list")
    response = editor_client.get(url, {"q": "certificate", "severity": "SEV1"})
    assert _titles(response, "postmortems") == ["TLS certificate expired on the edge"]
    response = editor_client.get(url, {"q": "certificate", "severity": "SEV2"})
    assert _titles(response, "postmortems") == []
    response = editor_client.get(url, {"status": "published", "team": "payments"})
    assert _titles(response, "postmortems") == ["Checkout errors during the campaign"]
    response = editor_client.get(url, {"q": "zeppelin"})
    assert _titles(response, "postmortems") == []


def test_search_requires_every_word(editor, corpus):
    queryset = postmortem_list(user=editor)
    assert [pm.pk for pm in search(queryset, "checkout pool", user=editor)] == [
        corpus["pool"].pk
    ]
    assert list(search(queryset, "checkout certificate", user=editor)) == []
    assert search(queryset, "  ", user=editor).count() == queryset.count()


def test_search_finds_a_word_after_a_line_break(editor, corpus):
    found = search(postmortem_list(user=editor), "rollback", user=editor)
    assert [pm.pk for pm in found] == [corpus["cert"].pk]


def _seed_list(team, count):
    service = factories.ServiceFactory(slug="svc", name="Svc", team=team)
    author = factories.UserFactory(username="author", teams=[team])
    for _ in range(count):
        incident = factories.IncidentFactory(team=team, services=[service])
        factories.PostmortemFactory(
            incident=incident, author=author, status=PostmortemStatus.PUBLISHED
        )


@pytest.mark.parametrize("count", [2, 25])
def test_incident_list_runs_a_fixed_number_of_queries(
    editor_client, team, count, django_assert_max_num_queries
):
    _seed_list(team, count)
    with django_assert_max_num_queries(9):
        response = editor_client.get(
            reverse("postmortems:incident_list"), {"severity": "SEV2", "q": "errors"}
        )
    assert len(response.context["incidents"]) == count


@pytest.mark.parametrize("count", [2, 25])
def test_postmortem_list_runs_a_fixed_number_of_queries(
    editor_client, team, count, django_assert_max_num_queries
):
    _seed_list(team, count)
    with django_assert_max_num_queries(11):
        response = editor_client.get(
            reverse("postmortems:postmortem_list"), {"service": "svc"}
        )
    assert len(response.context["postmortems"]) == count


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL full-text search: runs when KB_DATABASE_URL is PostgreSQL "
    "(the CI's second pass)",
)
def test_search_on_postgresql_stems_ranks_and_ignores_json_keys(editor, corpus):
    queryset = postmortem_list(user=editor)
    # Stemming: "certificates" finds "certificate".
    found = list(search(queryset, "certificates", user=editor))
    assert [pm.pk for pm in found] == [corpus["cert"].pk]
    # Section keys of the JSON document are not words of the text.
    assert list(search(queryset, "root_cause", user=editor)) == []
    # websearch syntax: "or" and a quoted phrase.
    either = search(queryset, "certificate or concurrency", user=editor)
    assert {pm.pk for pm in either} == {corpus["cert"].pk, corpus["pool"].pk}
    assert list(search(queryset, '"pool certificate"', user=editor)) == []
    # A title hit ranks above a body-only hit.
    body_only = factories.PostmortemFactory(
        incident=factories.IncidentFactory(title="Traffic spike"),
        status=PostmortemStatus.PUBLISHED,
        sections={"summary": "A marketing campaign doubled traffic."},
    )
    ranked = list(search(postmortem_list(user=editor), "campaign", user=editor))
    assert [pm.pk for pm in ranked] == [corpus["pool"].pk, body_only.pk]
    assert ranked[0].search_rank > ranked[1].search_rank


def _row(html: str, incident) -> str:
    start = html.index(f">{incident.reference}<")
    return html[start : html.index("</tr>", start)]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("own editor", {"draft": "Draft", "other": "draft (another team)"}),
        ("own viewer", {"draft": "Draft", "other": "draft (another team)"}),
        ("other editor", {"draft": "draft (another team)", "other": "Draft"}),
        ("admin", {"draft": "Draft", "other": "Draft"}),
    ],
)
def test_incident_list_says_what_postmortem_each_incident_has(
    client, team, other_team, who, expected
):
    """GIVEN an incident with a draft of each team and one with no postmortem
    THEN the list names a draft it cannot open as another team's, never as
    "none yet", and "none yet" only where there is none."""
    from postmortems.models import Role

    users = {
        "own editor": factories.UserFactory(role=Role.EDITOR, teams=[team]),
        "own viewer": factories.UserFactory(role=Role.VIEWER, teams=[team]),
        "other editor": factories.UserFactory(role=Role.EDITOR, teams=[other_team]),
        "admin": factories.UserFactory(role=Role.ADMIN),
    }
    drafts = {
        "draft": factories.PostmortemFactory(incident__team=team),
        "other": factories.PostmortemFactory(incident__team=other_team),
    }
    bare = factories.IncidentFactory(team=team)
    client.force_login(users[who])
    html = client.get(reverse("postmortems:incident_list")).content.decode()
    for key, postmortem in drafts.items():
        row = _row(html, postmortem.incident)
        assert expected[key] in row
        assert "none yet" not in row
        link = postmortem.get_absolute_url() in row
        assert link == (expected[key] == "Draft")
    assert "none yet" in _row(html, bare)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("own editor", {"draft": True, "other": False}),
        ("other editor", {"draft": False, "other": True}),
        ("admin", {"draft": True, "other": True}),
    ],
)
def test_incident_api_says_a_private_draft_exists_without_naming_it(
    client, team, other_team, who, expected
):
    """GIVEN an incident with a draft of each team and one with none WHEN the API
    lists or shows them THEN a draft the caller cannot read is ``postmortem: null``
    with ``has_postmortem: true`` (not "none yet"), as on the incident list page."""
    from postmortems.models import Role

    users = {
        "own editor": factories.UserFactory(role=Role.EDITOR, teams=[team]),
        "other editor": factories.UserFactory(role=Role.EDITOR, teams=[other_team]),
        "admin": factories.UserFactory(role=Role.ADMIN),
    }
    drafts = {
        "draft": factories.PostmortemFactory(incident__team=team),
        "other": factories.PostmortemFactory(incident__team=other_team),
    }
    bare = factories.IncidentFactory(team=team)
    client.force_login(users[who])
    listed = {
        row["id"]: row
        for row in client.get("/api/v1/incidents/?page_size=100").json()["results"]
    }
    for key, postmortem in drafts.items():
        incident = postmortem.incident
        shown = client.get(f"/api/v1/incidents/{incident.pk}/").json()
        for row in (listed[incident.pk], shown):
            assert row["has_postmortem"] is True
            readable = expected[key]
            assert row["postmortem"] == (postmortem.pk if readable else None)
    assert listed[bare.pk]["has_postmortem"] is False
    assert listed[bare.pk]["postmortem"] is None
