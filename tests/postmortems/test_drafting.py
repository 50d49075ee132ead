"""The first draft of a postmortem, written by rules from the incident's record."""

import datetime as dt

import pytest

from actions.models import Category, Status
from findings.models import FindingMatch
from postmortems import drafting
from postmortems.metrics import incident_metrics
from postmortems.models import (
    HypothesisStatus,
    Postmortem,
    PostmortemStatus,
    PostmortemTemplate,
    TimelineKind,
    TimelineSource,
)
from tests import factories
from tests.postmortems.editor_form import formset
from tests.problems import field_errors

T0 = dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.UTC)
LIFECYCLE = {
    "started_at": T0,
    "detected_at": T0 + dt.timedelta(minutes=6),
    "acknowledged_at": T0 + dt.timedelta(minutes=9),
    "mitigated_at": T0 + dt.timedelta(minutes=42),
    "resolved_at": T0 + dt.timedelta(hours=2),
}
GOOGLE_SRE_KEYS = [
    "summary", "impact", "root_cause", "trigger", "resolution", "detection",
    "went_well", "went_wrong", "got_lucky", "supporting_info",
]  # fmt: skip


def finding(analyzer, verdict, root_cause, confidence=None, evidence=()):
    return drafting.FindingFact(
        analyzer=analyzer,
        title=f"{analyzer} title",
        root_cause=root_cause,
        confidence=confidence,
        verdict=verdict,
        verdict_by="Amara Reviewer" if verdict else "",
        evidence=evidence,
    )


def facts(**overrides) -> drafting.IncidentFacts:
    values = {
        "reference": "INC-42",
        "title": "Checkout errors",
        "severity_label": "SEV1 - major",
        "team": "Payments",
        "services": ["checkout", "payments-api"],
        "other_teams": ["Storage"],
        "lifecycle": LIFECYCLE,
        "metrics": incident_metrics(LIFECYCLE),
        "timeline": [
            drafting.TimelineFact(
                T0 + dt.timedelta(minutes=6), "alert", "HighErrorRate fired", "Alert"
            ),
            drafting.TimelineFact(
                T0 + dt.timedelta(minutes=2),
                "change",
                "Deployed pool config v12",
                "Alert",
            ),
            drafting.TimelineFact(
                T0 + dt.timedelta(minutes=40),
                "mitigation",
                "Rolled back pool config",
                "Written by a person",
                author="Jo Editor",
            ),
        ],
        "findings": [
            finding(
                "api-tracer",
                "confirmed",
                "Pool limit below peak concurrency.",
                0.6,
                evidence=[
                    drafting.EvidenceFact(
                        "metric", "Error ratio", "5xx 0.1% -> 7%", "https://g.example/1"
                    )
                ],
            ),
            finding("storage-probe", "confirmed", "Config push shrank the pool.", 0.9),
            finding("log-scanner", "partial", "Retry storm from clients.", 0.4),
            finding("noisy", "refuted", "DNS resolution failures.", 0.8),
            finding("unreviewed", "", "Cosmic rays.", 0.99),
        ],
    }
    values.update(overrides)
    return drafting.IncidentFacts(**values)


def test_draft_postmortem_writes_each_section_from_recorded_values():
    draft = drafting.draft_postmortem(facts(), GOOGLE_SRE_KEYS)

    assert draft.sections["summary"].startswith(
        "INC-42 (SEV1 - major): Checkout errors on checkout and payments-api, "
        "owned by Payments."
    )
    assert "detected 2026-05-01 10:06 UTC" in draft.sections["summary"]
    assert "TTM = mitigated − started = 42 min" in draft.sections["impact"]
    assert "Teams involved besides Payments: Storage." in draft.sections["impact"]
    assert (
        "- Error ratio: 5xx 0.1% -> 7% ([source](https://g.example/1)), from "
        "analyzer api-tracer" in draft.sections["impact"]
    )
    assert (
        "First signal: 2026-05-01 10:06 UTC, HighErrorRate fired"
        in (draft.sections["detection"])
    )
    assert (
        "- Time to detect: TTD = detected − started = 6 min"
        in (draft.sections["detection"])
    )
    assert "2026-05-01 10:02 UTC: Deployed pool config v12" in draft.sections["trigger"]
    assert (
        "10:40 UTC: Rolled back pool config (Jo Editor)" in draft.sections["resolution"]
    )
    # Sections no rule can fill from the record stay empty: no filler.
    assert {"went_well", "went_wrong", "got_lucky"}.isdisjoint(draft.sections)


def test_draft_root_cause_is_the_most_confident_confirmed_finding_marked_to_confirm():
    draft = drafting.draft_postmortem(facts(), GOOGLE_SRE_KEYS)

    root = draft.sections["root_cause"]
    assert root.startswith("Config push shrank the pool.")
    assert "from analyzer storage-probe, confidence 90%, confirmed by Amara" in root
    assert "confirm or delete" in root
    # The other confirmed finding and the partly right one become factors; the
    # refuted one and the one nobody reviewed do not.
    assert [(f.drafted_from, f.description) for f in draft.factors] == [
        (
            "api-tracer",
            "Pool limit below peak concurrency. "
            "(from analyzer api-tracer: confirm or delete)",
        ),
        (
            "log-scanner",
            "Retry storm from clients. (from analyzer log-scanner: confirm or delete)",
        ),
    ]
    assert [(h.text, h.drafted_from) for h in draft.hypotheses] == [
        ("DNS resolution failures.", "noisy")
    ]
    assert "Cosmic rays" not in str(draft)


def test_draft_without_reviewed_findings_leaves_the_root_cause_to_people():
    draft = drafting.draft_postmortem(
        facts(findings=[finding("unreviewed", "", "Cosmic rays.", 0.99)]),
        GOOGLE_SRE_KEYS,
    )
    assert "root_cause" not in draft.sections
    assert draft.factors == [] and draft.hypotheses == []


@pytest.mark.parametrize(
    ("keys", "target"),
    [
        (GOOGLE_SRE_KEYS, "supporting_info"),
        (["summary", "root_cause", "trigger", "prevention"], "prevention"),
        (["summary", "trigger", "root_cause", "impact"], "root_cause"),
    ],
)
def test_draft_prior_work_goes_where_the_template_keeps_follow_up(keys, target):
    prior = drafting.PriorWorkFact(
        incident_reference="INC-7",
        incident_title="Pool exhausted",
        item_title="Alert on pool saturation",
        category_label="Prevention",
        status_label="In progress",
        owner="Sam",
        due_date=dt.date(2026, 6, 1),
    )
    draft = drafting.draft_postmortem(facts(prior_work=[prior]), keys)
    assert (
        "- INC-7 (Pool exhausted): prevention item “Alert on pool saturation” is in "
        "progress, owner Sam, due 2026-06-01." in draft.sections[target]
    )


# The page: "Write the postmortem" opens the filled draft.


@pytest.fixture
def recorded_incident(team, other_team, reviewer):
    incident = factories.IncidentFactory(team=team, title="Checkout errors")
    factories.TimelineEntryFactory(
        incident=incident,
        kind=TimelineKind.ALERT,
        source=TimelineSource.ALERT,
        text="HighErrorRate fired for checkout",
        occurred_at=incident.detected_at,
    )
    factories.TimelineEntryFactory(
        incident=incident,
        kind=TimelineKind.MITIGATION,
        text="Rolled back the pool config",
        occurred_at=incident.mitigated_at,
    )
    when = incident.detected_at
    factories.FindingFactory(
        incident=incident,
        analyzer="storage-probe",
        root_cause="Config push shrank the connection pool.",
        root_cause_confidence=0.9,
        verdict="confirmed",
        verdict_by=reviewer,
        verdict_at=when,
        evidence=[{"kind": "metric", "title": "Pool in use", "excerpt": "40 -> 40/40"}],
    )
    factories.FindingFactory(
        incident=incident,
        analyzer="log-scanner",
        root_cause="Clients retried without backoff.",
        verdict="partial",
        verdict_by=reviewer,
        verdict_at=when,
    )
    refuted = factories.FindingFactory(
        incident=incident,
        analyzer="noisy",
        root_cause="DNS failures.",
        verdict="refuted",
        verdict_by=reviewer,
        verdict_at=when,
    )
    past = factories.IncidentFactory(team=team, title="Pool exhausted last spring")
    factories.PostmortemFactory(incident=past, status=PostmortemStatus.PUBLISHED)
    item = factories.ActionItemFactory(
        team=team, title="Alert on pool saturation", category=Category.PREVENTION
    )
    done = factories.ActionItemFactory(
        team=team,
        title="Already fixed thing",
        status=Status.DONE,
        completed_at=when,
        verification_note="Drill passed.",
    )
    wont = factories.ActionItemFactory(
        team=team,
        title="Dropped idea",
        status=Status.WONT_DO,
        status_reason="Superseded.",
    )
    # Another team's incident whose postmortem is still a private draft: the
    # draft must not copy its title or items (the text outlives the access).
    secret = factories.IncidentFactory(team=other_team, title="SECRET outage")
    factories.PostmortemFactory(incident=secret, status=PostmortemStatus.DRAFT)
    hidden = factories.ActionItemFactory(team=other_team, title="SECRET item")
    for past_incident, action in (
        (past, item),
        (past, done),
        (past, wont),
        (secret, hidden),
    ):
        FindingMatch.objects.create(
            incident=incident,
            finding=refuted,
            past_incident=past_incident,
            action_item=action,
            reason="same service",
        )
    return incident


pytestmark = pytest.mark.django_db


def _start(client, incident, **data):
    template = PostmortemTemplate.objects.get(slug="google-sre")
    return client.post(
        f"/incidents/{incident.pk}/postmortem/new/",
        {"template": template.pk, **data},
    )


def test_write_the_postmortem_opens_a_draft_filled_from_the_record(
    editor_client, recorded_incident
):
    response = _start(editor_client, recorded_incident, draft="on")
    assert response.status_code == 302
    postmortem = Postmortem.objects.get(incident=recorded_incident)

    assert "Config push shrank the connection pool." in postmortem.section("root_cause")
    assert "Pool in use: 40 -> 40/40" in postmortem.section("impact")
    assert "Rolled back the pool config" in postmortem.section("resolution")
    assert "“Alert on pool saturation” is open" in postmortem.section("supporting_info")
    # Only open items of past incidents everyone may read are prior work.
    for absent in ("Already fixed thing", "Dropped idea", "SECRET"):
        assert absent not in str(postmortem.sections)
    assert postmortem.drafted_keys == {
        key for key, text in postmortem.sections.items() if text
    }
    assert [
        (f.drafted_from, f.kind) for f in postmortem.contributing_factors.all()
    ] == [("log-scanner", "technical")]
    ruled_out = postmortem.hypotheses.get()
    assert (ruled_out.status, ruled_out.drafted_from) == (
        HypothesisStatus.RULED_OUT,
        "noisy",
    )
    assert (
        postmortem.history.first().history_change_reason
        == "Drafted from the incident's record"
    )

    page = editor_client.get(postmortem.get_absolute_url()).content.decode()
    assert page.count(">Drafted</span>") == len(postmortem.drafted_keys)
    assert "From analyzer log-scanner" in page
    assert "From analyzer noisy" in page
    assert "Accept as written" in page


def test_write_the_postmortem_without_the_record_starts_empty(
    editor_client, recorded_incident
):
    _start(editor_client, recorded_incident)  # the box unticked
    postmortem = Postmortem.objects.get(incident=recorded_incident)
    assert not any(postmortem.sections.values())
    assert postmortem.drafted_keys == set()
    assert not postmortem.contributing_factors.exists()


def test_editing_a_drafted_part_makes_it_a_persons_words(
    editor_client, recorded_incident
):
    _start(editor_client, recorded_incident, draft="on")
    postmortem = Postmortem.objects.get(incident=recorded_incident)
    factor = postmortem.contributing_factors.get()
    hypothesis = postmortem.hypotheses.get()
    data = {
        "version": postmortem.version,
        **{
            f"section_{key}": text
            for key, text in postmortem.sections.items()
            if key in postmortem.template.section_keys
        },
        "section_root_cause": "The pool size was set by a config push nobody load "
        "tested.",
        **formset(
            "factors",
            # Unchanged: still drafted.
            [{"id": factor.pk, "kind": factor.kind, "description": factor.description}],
            initial=1,
        ),
        **formset(
            "hypotheses",
            [
                {
                    "id": hypothesis.pk,
                    "track": hypothesis.track,
                    "status": hypothesis.status,
                    "text": "DNS was fine: resolution latency flat.",
                    "test": hypothesis.test,
                }
            ],
            initial=1,
        ),
    }
    response = editor_client.post(f"/postmortems/{postmortem.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    postmortem.refresh_from_db()

    assert "root_cause" not in postmortem.drafted_keys
    assert "impact" in postmortem.drafted_keys
    factor.refresh_from_db()
    hypothesis.refresh_from_db()
    assert factor.drafted_from == "log-scanner"
    assert hypothesis.drafted_from == ""


def test_accepting_a_drafted_part_clears_its_mark_and_nothing_else(
    editor_client, recorded_incident
):
    _start(editor_client, recorded_incident, draft="on")
    postmortem = Postmortem.objects.get(incident=recorded_incident)
    factor = postmortem.contributing_factors.get()
    url = f"/postmortems/{postmortem.pk}/drafted/accept/"

    editor_client.post(url, {"section": "impact"})
    editor_client.post(url, {"factor": factor.pk})
    postmortem.refresh_from_db()
    factor.refresh_from_db()
    assert "impact" not in postmortem.drafted_keys
    assert "root_cause" in postmortem.drafted_keys
    assert factor.drafted_from == ""

    # Accepting what is not a draft is refused and changes nothing.
    version = postmortem.version
    response = editor_client.post(url, {"section": "went_well"}, follow=True)
    assert "That section is not a draft." in response.content.decode()
    postmortem.refresh_from_db()
    assert postmortem.version == version


def test_only_editors_of_the_postmortem_accept_drafted_parts(
    client, editor_client, recorded_incident, viewer
):
    _start(editor_client, recorded_incident, draft="on")
    postmortem = Postmortem.objects.get(incident=recorded_incident)
    client.force_login(viewer)
    response = client.post(
        f"/postmortems/{postmortem.pk}/drafted/accept/", {"section": "impact"}
    )
    assert response.status_code == 403
    postmortem.refresh_from_db()
    assert "impact" in postmortem.drafted_keys


# Every way a postmortem starts offers the same choice: the page's box and the
# API's ``draft`` field, both off unless asked for.
def _start_on_page(client, editor, incident, draft):
    client.force_login(editor)
    data = {"draft": "on"} if draft else {}
    response = _start(client, incident, **data)
    assert response.status_code == 302
    return response


def _start_over_api(client, editor, incident, draft):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(editor)
    body = {"incident": incident.pk, "template": "google-sre"}
    if draft is not None:
        body["draft"] = draft
    response = api.post("/api/v1/postmortems/", body, format="json")
    assert response.status_code == 201, response.json()
    return response


@pytest.mark.parametrize(
    ("path", "draft", "drafted"),
    [
        ("page", True, True),
        ("page", False, False),
        ("api", True, True),
        ("api", False, False),
        ("api", None, False),  # left out: an empty postmortem, as before
    ],
)
def test_every_way_to_start_a_postmortem_offers_the_first_draft(
    client, editor, recorded_incident, path, draft, drafted
):
    start = _start_on_page if path == "page" else _start_over_api
    response = start(client, editor, recorded_incident, draft)
    postmortem = Postmortem.objects.get(incident=recorded_incident)

    assert bool(postmortem.drafted_keys) is drafted
    root_cause = postmortem.section("root_cause")
    assert ("Config push shrank the connection pool." in root_cause) is drafted
    assert postmortem.contributing_factors.exists() is drafted
    if path == "api":
        assert response.json()["drafted"] == sorted(postmortem.drafted_keys)


def _api(user):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        # A rule (422) about the whole body (pointer ""); a wrong type (400).
        (
            {"draft": True, "sections": {"summary": "Checkout failed."}},
            (422, ""),
            "a draft only fills an empty one",
        ),
        ({"draft": "perhaps"}, (400, "draft"), "Must be a valid boolean."),
    ],
)
def test_api_start_with_a_draft_it_cannot_write_is_refused_and_writes_nothing(
    editor, recorded_incident, body, field, message
):
    response = _api(editor).post(
        "/api/v1/postmortems/",
        {"incident": recorded_incident.pk, "template": "google-sre", **body},
        format="json",
    )
    status, where = field
    assert response.status_code == status
    assert message in " ".join(field_errors(response)[where])
    assert not Postmortem.objects.filter(incident=recorded_incident).exists()


def test_api_draft_is_chosen_only_when_the_postmortem_starts(editor, recorded_incident):
    api = _api(editor)
    created = api.post(
        "/api/v1/postmortems/",
        {"incident": recorded_incident.pk, "template": "google-sre"},
        format="json",
    ).json()
    url = f"/api/v1/postmortems/{created['id']}/"
    response = api.patch(url, {"draft": True}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 400
    assert "when the postmortem starts" in field_errors(response)["draft"][0]
    postmortem = Postmortem.objects.get(pk=created["id"])
    assert (postmortem.version, postmortem.drafted_keys) == (1, set())
