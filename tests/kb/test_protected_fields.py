"""Fields a role may not set are never changed by a crafted form or API body.

Authors, teams a person does not belong to, workflow status, versions, created and
completed times, creators and history come from the server. Each write endpoint
gets a body that also carries those fields; what is stored is what the server
decides, whatever the body said.
"""

import datetime as dt
import json

import pytest
from django.utils import timezone

from actions.models import ActionItem, LeadershipReview, ReviewDecision
from findings.models import Finding
from insights.models import InsightRun
from postmortems.models import (
    Comment,
    Incident,
    Postmortem,
    PostmortemStatus,
    TimelineEntry,
)
from tests.kb.catalogue import OTHER, OWN, build_catalogue
from tests.problems import field_errors

pytestmark = pytest.mark.django_db

LONG_AGO = "2001-02-03T04:05:06Z"
OLD = dt.datetime(2001, 2, 3, 4, 5, 6, tzinfo=dt.UTC)


@pytest.fixture
def cat():
    return build_catalogue()


def _client(client, cat, role="editor"):
    client.force_login(cat.users[role])
    return client


def _json(client, method, url, body):
    return client.generic(
        method, url, json.dumps(body), content_type="application/json"
    )


def _recent(value) -> bool:
    return value is not None and abs(timezone.now() - value) < dt.timedelta(minutes=5)


# --- API: postmortems -------------------------------------------------------------

CRAFTED_POSTMORTEM = {
    "author": "other-editor",
    "status": PostmortemStatus.PUBLISHED,
    "version": 99,
    "published_at": LONG_AGO,
    "created_at": LONG_AGO,
    "updated_at": LONG_AGO,
    "team": "identity",
    "severity": "SEV0",
    "title": "Renamed through the postmortem",
    "reference": "INC-1",
    "history": [{"history_user": "other-editor"}],
}


def _postmortem_state(postmortem: Postmortem) -> dict:
    postmortem.refresh_from_db()
    incident = Incident.objects.get(pk=postmortem.incident_id)
    return {
        "author": postmortem.author_id,
        "status": postmortem.status,
        "published_at": postmortem.published_at,
        "created_at": postmortem.created_at,
        "incident": postmortem.incident_id,
        "team": incident.team_id,
        "severity": incident.severity,
        "title": incident.title,
        "history_users": set(
            postmortem.history.exclude(history_user=None).values_list(
                "history_user", flat=True
            )
        ),
    }


@pytest.mark.parametrize("field", sorted(CRAFTED_POSTMORTEM) + ["incident"])
def test_api_postmortem_patch_ignores_protected_field(client, cat, field):
    draft = cat.cases[OWN].draft
    value = (
        cat.cases[OTHER].incident.pk
        if field == "incident"
        else CRAFTED_POSTMORTEM[field]
    )
    before = _postmortem_state(draft)
    version = draft.version
    response = _json(
        _client(client, cat),
        "PATCH",
        f"/api/v1/postmortems/{draft.pk}/",
        {field: value, "sections": {"summary": "Rewritten summary."}},
    )
    # Refused (400 malformed, 422 a rule) or accepted without touching the field.
    assert response.status_code in (200, 400, 422), response.content
    after = _postmortem_state(draft)
    users = after.pop("history_users")
    before.pop("history_users")
    assert after == before
    assert users <= {cat.users["editor"].pk}, "history names only the real editor"
    # The version moves by one save at most, never to the value sent.
    assert draft.version in (version, version + 1)


def test_api_postmortem_put_ignores_protected_fields(client, cat):
    draft = cat.cases[OWN].draft
    before = _postmortem_state(draft)
    body = {
        **CRAFTED_POSTMORTEM,
        "incident": draft.incident_id,
        "template": draft.template.slug,
        "reviewers": ["reviewer"],
        "sections": {"summary": "Rewritten."},
        "five_whys": ["Why one"],
        "impact_regions": [],
    }
    response = _json(
        _client(client, cat), "PUT", f"/api/v1/postmortems/{draft.pk}/", body
    )
    assert response.status_code == 200, response.content
    after = _postmortem_state(draft)
    after.pop("history_users")
    before.pop("history_users")
    assert after == before
    assert draft.version == 2
    assert draft.sections["summary"] == "Rewritten."


def test_api_postmortem_create_takes_author_and_status_from_the_server(client, cat):
    incident = cat.cases[OWN].incident
    body = {
        **CRAFTED_POSTMORTEM,
        "incident": incident.pk,
        "template": cat.cases[OWN].draft.template.slug,
    }
    response = _json(_client(client, cat), "POST", "/api/v1/postmortems/", body)
    assert response.status_code == 201, response.content
    created = Postmortem.objects.get(incident=incident)
    assert created.author == cat.users["editor"]
    assert created.status == PostmortemStatus.DRAFT
    assert created.version == 1
    assert created.published_at is None
    assert _recent(created.created_at)
    assert created.incident.team == cat.cases[OWN].team


# --- API: incidents ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("created_at", LONG_AGO),
        ("updated_at", LONG_AGO),
        ("reference", "INC-9999"),
        ("external_source", "alertmanager"),
        ("external_key", "forged-group"),
        ("team", "identity"),
        ("postmortem", 1),
        ("metrics", []),
    ],
)
def test_api_incident_patch_ignores_protected_field(client, cat, field, value):
    incident = cat.cases[OWN].incident
    keys = ("created_at", "team_id", "external_source", "external_key", "title")
    before = {key: getattr(incident, key) for key in keys}
    response = _json(
        _client(client, cat),
        "PATCH",
        f"/api/v1/incidents/{incident.pk}/",
        {field: value},
    )
    assert response.status_code in (200, 400, 422), response.content
    incident.refresh_from_db()
    assert {key: getattr(incident, key) for key in keys} == before


def test_api_incident_create_for_another_team_is_refused(client, cat):
    count = Incident.objects.count()
    response = _json(
        _client(client, cat),
        "POST",
        "/api/v1/incidents/",
        {
            "title": "Forged",
            "severity": "SEV2",
            "team": "identity",
            "started_at": "2026-05-01T10:00:00Z",
            "created_at": LONG_AGO,
        },
    )
    assert response.status_code == 422
    assert "team" in field_errors(response)
    assert Incident.objects.count() == count


def test_api_incident_create_ignores_created_at(client, cat):
    response = _json(
        _client(client, cat),
        "POST",
        "/api/v1/incidents/",
        {
            "title": "Checkout 502s",
            "severity": "SEV2",
            "team": "payments",
            "started_at": "2026-05-01T10:00:00Z",
            "created_at": LONG_AGO,
            "external_key": "forged",
        },
    )
    assert response.status_code == 201, response.content
    incident = Incident.objects.get(pk=response.json()["id"])
    assert _recent(incident.created_at)
    assert incident.external_key == ""


# --- API: action items ------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("created_by", "other-editor"),
        ("created_at", LONG_AGO),
        ("updated_at", LONG_AGO),
        ("completed_at", LONG_AGO),
        ("is_overdue", True),
        ("team", "identity"),
    ],
)
def test_api_action_item_patch_ignores_protected_field(client, cat, field, value):
    item = cat.cases[OWN].item
    keys = ("created_by_id", "created_at", "completed_at", "team_id")
    before = {key: getattr(item, key) for key in keys}
    response = _json(
        _client(client, cat),
        "PATCH",
        f"/api/v1/action-items/{item.pk}/",
        {field: value},
    )
    assert response.status_code in (200, 400, 403, 422), response.content
    item.refresh_from_db()
    assert {key: getattr(item, key) for key in keys} == before


def test_api_action_item_done_sets_its_own_completed_time(client, cat):
    item = cat.cases[OWN].item
    response = _json(
        _client(client, cat),
        "PATCH",
        f"/api/v1/action-items/{item.pk}/",
        {
            "status": "done",
            "verification_note": "The alert fired in the drill.",
            "completed_at": LONG_AGO,
        },
    )
    assert response.status_code == 200, response.content
    item.refresh_from_db()
    assert _recent(item.completed_at)


def test_api_action_item_create_takes_creator_and_times_from_the_server(client, cat):
    response = _json(
        _client(client, cat),
        "POST",
        "/api/v1/action-items/",
        {
            "title": "Alert on pool saturation",
            "category": "detection",
            "team": "payments",
            "created_by": "other-editor",
            "created_at": LONG_AGO,
            "completed_at": LONG_AGO,
        },
    )
    assert response.status_code == 201, response.content
    item = ActionItem.objects.get(pk=response.json()["id"])
    assert item.created_by == cat.users["editor"]
    assert _recent(item.created_at)
    assert item.completed_at is None


def test_api_insight_run_start_ignores_requester_and_status(client, cat):
    InsightRun.objects.all().delete()
    response = _json(
        _client(client, cat),
        "POST",
        "/api/v1/insight-runs/start/",
        {"requested_by": "other-editor", "status": "succeeded", "kind": "single"},
    )
    assert response.status_code == 202
    run = InsightRun.objects.get(pk=response.json()["id"])
    assert run.requested_by == cat.users["editor"]
    assert run.status == "pending"
    assert run.kind == "full"


def test_api_finding_team_and_verdict_come_from_the_key_not_the_body(client, cat):
    body = {
        "analyzer": "api-tracer",
        "fingerprint": "forged-1",
        "incident_id": cat.cases[OWN].incident.pk,
        "title": "p99 above SLO",
        "team": "identity",
        "verdict": "confirmed",
        "verdict_by": "admin",
        "opened_incident": True,
    }
    response = client.post(
        "/api/v1/findings/",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Api-Key {cat.keys['key-findings']}"},
    )
    assert response.status_code in (200, 201), response.content
    finding = Finding.objects.get(dedupe_key="api-tracer:forged-1")
    assert finding.team == cat.cases[OWN].team
    assert finding.verdict == ""
    assert finding.verdict_by is None
    assert finding.opened_incident is False


# --- Pages (crafted form posts) ----------------------------------------------------


def test_page_postmortem_edit_ignores_author_status_and_times(client, cat):
    draft = cat.cases[OWN].draft
    before = _postmortem_state(draft)
    response = _client(client, cat).post(
        f"/postmortems/{draft.pk}/edit/",
        {
            "version": draft.version,
            "section_summary": "Rewritten in the editor.",
            "reviewers": [cat.users["reviewer"].pk],
            "author": cat.users["other_editor"].pk,
            "status": PostmortemStatus.PUBLISHED,
            "published_at": LONG_AGO,
            "created_at": LONG_AGO,
            "incident": cat.cases[OTHER].incident.pk,
            "team": cat.cases[OTHER].team.pk,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    after = _postmortem_state(draft)
    after.pop("history_users")
    before.pop("history_users")
    assert after == before
    assert draft.sections["summary"] == "Rewritten in the editor."


def test_page_postmortem_edit_with_a_forged_version_is_a_conflict(client, cat):
    draft = cat.cases[OWN].draft
    response = _client(client, cat).post(
        f"/postmortems/{draft.pk}/edit/",
        {"version": draft.version + 50, "section_summary": "Mine."},
    )
    assert response.status_code == 409
    draft.refresh_from_db()
    assert draft.version == 1
    assert draft.sections["summary"] != "Mine."


def test_page_postmortem_create_takes_the_author_from_the_session(client, cat):
    incident = cat.cases[OWN].incident
    response = _client(client, cat).post(
        f"/incidents/{incident.pk}/postmortem/new/",
        {
            "template": cat.cases[OWN].draft.template.pk,
            "reviewers": [cat.users["reviewer"].pk],
            "author": cat.users["other_editor"].pk,
            "status": PostmortemStatus.APPROVED,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    created = Postmortem.objects.get(incident=incident)
    assert created.author == cat.users["editor"]
    assert created.status == PostmortemStatus.DRAFT


def test_page_postmortem_submit_cannot_jump_to_approved(client, cat):
    draft = cat.cases[OWN].draft
    _client(client, cat).post(
        f"/postmortems/{draft.pk}/submit/",
        {"status": PostmortemStatus.PUBLISHED, "acknowledge_blame": "on"},
    )
    draft.refresh_from_db()
    assert draft.status == PostmortemStatus.IN_REVIEW
    assert draft.published_at is None


def _incident_form(incident, **extra):
    fmt = "%Y-%m-%dT%H:%M"
    data = {
        "title": "Checkout 502s",
        "severity": "SEV2",
        "status": "investigating",
        "team": incident.team_id,
        "started_at": timezone.localtime(incident.started_at).strftime(fmt),
    }
    data.update(extra)
    return data


def test_page_incident_edit_cannot_move_it_to_another_team(client, cat):
    incident = cat.cases[OWN].incident
    response = _client(client, cat).post(
        f"/incidents/{incident.pk}/edit/",
        _incident_form(
            incident,
            team=cat.cases[OTHER].team.pk,
            created_at=LONG_AGO,
            external_key="forged",
        ),
    )
    assert response.status_code == 400  # the form, with the team refused
    incident.refresh_from_db()
    assert incident.team == cat.cases[OWN].team
    assert incident.external_key == ""


def test_page_incident_create_ignores_created_at_and_external_key(client, cat):
    incident = cat.cases[OWN].incident
    response = _client(client, cat).post(
        "/incidents/new/",
        _incident_form(
            incident,
            title="Declared in the browser",
            created_at=LONG_AGO,
            external_source="alertmanager",
            external_key="forged",
        ),
    )
    assert response.status_code == 302, response.content[:2000]
    created = Incident.objects.get(title="Declared in the browser")
    assert _recent(created.created_at)
    assert (created.external_source, created.external_key) == ("", "")


def test_page_timeline_entry_source_and_dedupe_key_are_the_servers(client, cat):
    incident = cat.cases[OWN].incident
    response = _client(client, cat).post(
        f"/incidents/{incident.pk}/timeline/new/",
        {
            "new-occurred_at": "2026-05-01T10:20",
            "new-kind": "mitigation",
            "new-text": "Rolled back deploy 4812.",
            "new-source": "alert",
            "new-dedupe_key": "forged",
            "new-created_at": LONG_AGO,
        },
    )
    assert response.status_code == 302
    entry = TimelineEntry.objects.get(text="Rolled back deploy 4812.")
    assert entry.source == "manual"
    assert entry.dedupe_key == ""
    assert _recent(entry.created_at)


def test_page_comment_author_is_the_session_user(client, cat):
    draft = cat.cases[OWN].draft
    _client(client, cat).post(
        f"/postmortems/{draft.pk}/comments/",
        {
            "body": "Could we add the pool graph?",
            "author": cat.users["other_editor"].pk,
            "created_at": LONG_AGO,
        },
    )
    comment = Comment.objects.get(body="Could we add the pool graph?")
    assert comment.author == cat.users["editor"]
    assert _recent(comment.created_at)


def test_page_action_item_edit_ignores_creator_and_times(client, cat):
    item = cat.cases[OWN].item
    before = (item.created_by_id, item.created_at, item.completed_at)
    response = _client(client, cat).post(
        f"/actions/{item.pk}/edit/",
        {
            "title": "Renamed",
            "category": "detection",
            "priority": "P1",
            "team": item.team_id,
            "status": "open",
            "created_by": cat.users["other_editor"].pk,
            "created_at": LONG_AGO,
            "completed_at": LONG_AGO,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    item.refresh_from_db()
    assert item.title == "Renamed"
    assert (item.created_by_id, item.created_at, item.completed_at) == before


def test_page_action_item_edit_cannot_move_it_to_another_team(client, cat):
    item = cat.cases[OWN].item
    _client(client, cat).post(
        f"/actions/{item.pk}/edit/",
        {
            "title": "Moved",
            "category": "detection",
            "priority": "P1",
            "team": cat.cases[OTHER].team.pk,
            "status": "open",
        },
    )
    item.refresh_from_db()
    assert item.team == cat.cases[OWN].team


def test_page_action_item_status_done_sets_its_own_completed_time(client, cat):
    item = cat.cases[OWN].item
    _client(client, cat).post(
        f"/actions/{item.pk}/status/",
        {
            "status": "done",
            "verification_note": "The drill paged us.",
            "completed_at": LONG_AGO,
        },
    )
    item.refresh_from_db()
    assert item.status == "done"
    assert _recent(item.completed_at)


def test_page_review_and_decision_are_recorded_by_the_session_user(client, cat):
    reviewer_client = _client(client, cat, "reviewer")
    reviewer_client.post(
        "/actions/reviews/new/",
        {
            "date": timezone.localdate().isoformat(),
            "attendees": [cat.users["reviewer"].pk],
            "notes": "Quarterly review",
            "recorded_by": cat.users["admin"].pk,
            "created_at": LONG_AGO,
        },
    )
    review = LeadershipReview.objects.get(notes="Quarterly review")
    assert review.recorded_by == cat.users["reviewer"]
    assert _recent(review.created_at)

    item = cat.cases[OWN].item
    reviewer_client.post(
        f"/actions/{item.pk}/decision/",
        {
            "review": review.pk,
            "decision": "accept_risk",
            "note": "Accepted until Q3.",
            "recorded_by": cat.users["admin"].pk,
            "previous_status": "done",
            "created_at": LONG_AGO,
        },
    )
    decision = ReviewDecision.objects.get(note="Accepted until Q3.")
    assert decision.recorded_by == cat.users["reviewer"]
    assert decision.previous_status == "open"
    assert _recent(decision.created_at)
