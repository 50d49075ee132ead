"""POST /api/v1/findings/: native findings, batches, idempotency and every error."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from findings import auth, validation
from findings.models import Finding
from findings.serializers import FindingInputSerializer
from postmortems.models import Incident, TimelineEntry
from tests import factories
from tests.problems import field_errors, problem

pytestmark = pytest.mark.django_db

URL = "/api/v1/findings/"


def finding(n: int = 1, **fields) -> dict:
    data = {
        "analyzer": "api-tracer",
        "analyzer_version": "2.1.0",
        "fingerprint": f"checkout-5xx-{n}",
        "incident_key": "checkout-errors-2026-05-01",
        "service": "checkout-web",
        "severity": "high",
        "title": f"Checkout 5xx ratio above 5% ({n})",
        "summary": "Errors started two minutes after deploy 4812.",
        "root_cause": {
            "text": "Deploy 4812 lowered the payments-api pool to 10 connections.",
            "failure_class": "capacity-exhaustion",
            "confidence": 0.8,
        },
        "evidence": [
            {
                "kind": "deploy",
                "url": "https://ci.example/deploys/4812",
                "excerpt": "pool_size: 50 -> 10",
                "data": {"deploy": 4812},
            }
        ],
        "started_at": "2026-05-01T10:15:00Z",
        "suggested_actions": [
            {"kind": "revert_change", "title": "Revert deploy 4812", "target": "4812"}
        ],
    }
    data.update(fields)
    return data


def post(client, payload, key, **headers):
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return client.post(
        URL,
        data=body,
        content_type=headers.pop("content_type", "application/json"),
        headers={"Authorization": f"Api-Key {key}", **headers},
    )


@pytest.fixture
def checkout(team):
    return factories.ServiceFactory(slug="checkout-web", name="Checkout Web", team=team)


def test_findings_post_one_opens_an_incident_and_returns_the_id(
    client, findings_key, checkout, team
):
    response = post(client, finding(), findings_key)

    assert response.status_code == 201, response.json()
    body = response.json()
    row = Finding.objects.get(pk=body["id"])
    assert body["created"] is True
    assert body["dedupe_key"] == "api-tracer:checkout-5xx-1"
    assert row.incident_id == body["incident_id"] == body["incidents_opened"][0]
    incident = Incident.objects.get(pk=body["incident_id"])
    assert incident.team == team
    assert incident.external_source == "api"
    assert incident.external_key == "checkout-errors-2026-05-01"
    assert row.service == checkout
    assert row.root_cause_confidence == 0.8
    assert row.evidence[0]["url"] == "https://ci.example/deploys/4812"
    assert row.raw == finding()


def test_findings_post_same_dedupe_key_updates_and_returns_the_same_id(
    client, findings_key, checkout
):
    first = post(client, finding(), findings_key).json()

    again = post(client, finding(title="Checkout 5xx above 8%"), findings_key)

    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["created"] is False
    assert Finding.objects.count() == 1
    assert Finding.objects.get().title == "Checkout 5xx above 8%"


def test_findings_post_batch_writes_every_finding_in_one_go(
    client, findings_key, checkout
):
    payload = {"findings": [finding(n) for n in range(50)]}

    response = post(client, payload, findings_key)

    assert response.status_code == 201
    body = response.json()
    assert body["created"] == 50 and body["updated"] == 0
    assert [item["index"] for item in body["findings"]] == list(range(50))
    assert Finding.objects.count() == 50
    # All fifty share one incident, opened once.
    assert Incident.objects.count() == 1


def test_findings_post_bare_list_is_a_batch(client, findings_key, checkout):
    response = post(client, [finding(1), finding(2)], findings_key)

    assert response.status_code == 201
    assert response.json()["created"] == 2


def test_findings_batch_with_one_invalid_item_writes_nothing(
    client, findings_key, checkout
):
    items = [finding(n) for n in range(5)]
    items[3]["severity"] = "apocalyptic"
    items[3]["evidence"][0]["url"] = "javascript:alert(1)"

    response = post(client, {"findings": items}, findings_key)

    assert response.status_code == 400
    body = problem(response)
    assert body["code"] == "invalid"
    assert body["detail"] == "1 of 5 findings are invalid; nothing was written."
    assert field_errors(response) == {
        "findings/3/severity": ["Must be one of critical, high, medium, low, info."],
        "findings/3/evidence/0/url": [
            "Must be an http or https URL (at most 2000 chars)."
        ],
    }
    assert Finding.objects.count() == 0
    assert Incident.objects.count() == 0


def test_findings_batch_with_unknown_references_reports_each_field(
    client, findings_key, checkout
):
    items = [
        finding(1, service="no-such-service"),
        finding(2, incident_key=None, incident_id=999999),
        finding(3, parent_id=424242),
        finding(4),
    ]

    response = post(client, items, findings_key)

    # Well formed, but naming what does not exist: 422, each field pointed at.
    assert response.status_code == 422
    assert problem(response)["code"] == "unprocessable"
    assert field_errors(response) == {
        "0/service": ["No service has the slug 'no-such-service'."],
        "1/incident_id": ["No incident has id 999999."],
        "2/parent_id": ["Your team has no finding with id 424242."],
    }
    assert Finding.objects.count() == 0


def test_findings_post_missing_fields_are_named(client, findings_key):
    response = post(client, {"analyzer": "x", "severity": 3}, findings_key)

    assert response.status_code == 400
    errors = field_errors(response)
    assert errors["fingerprint"] == ["This field is required."]
    assert errors["title"] == ["This field is required."]
    assert errors["severity"] == ["Must be one of critical, high, medium, low, info."]
    assert errors["incident_key"][0].startswith("Give the incident")


def test_findings_unknown_key_is_refused_when_the_team_disallows_auto_incidents(
    client, findings_key, checkout, team
):
    team.allow_auto_incidents = False
    team.save()

    response = post(client, finding(), findings_key)

    assert response.status_code == 422
    assert field_errors(response)["incident_key"] == [
        "No api incident has this key, and team Payments does not let findings "
        "open incidents (Team.allow_auto_incidents)."
    ]
    assert Incident.objects.count() == 0


def test_findings_for_an_existing_incident_by_id(client, findings_key, checkout, team):
    incident = factories.IncidentFactory(team=team)

    response = post(
        client, finding(incident_key=None, incident_id=incident.pk), findings_key
    )

    assert response.status_code == 201
    assert response.json()["incidents_opened"] == []
    assert Finding.objects.get().incident == incident


def test_findings_for_another_teams_incident_are_403(
    client, findings_key, checkout, other_team
):
    incident = factories.IncidentFactory(team=other_team)

    response = post(
        client, finding(incident_key=None, incident_id=incident.pk), findings_key
    )

    assert response.status_code == 403
    assert problem(response)["code"] == "foreign_team"
    assert "this API key is for Payments" in response.json()["detail"]
    assert Finding.objects.count() == 0


def test_findings_chain_by_dedupe_key_in_one_batch_and_across_requests(
    client, findings_key, checkout, django_capture_on_commit_callbacks
):
    parent = finding(1)
    child = finding(
        2,
        analyzer="storage-probe",
        parent_dedupe_key="api-tracer:checkout-5xx-1",
    )
    # The grandchild arrives first: it waits for its parent.
    grandchild = finding(
        3, analyzer="disk-probe", parent_dedupe_key="storage-probe:checkout-5xx-2"
    )
    post(client, grandchild, findings_key)
    assert Finding.objects.get(analyzer="disk-probe").parent is None

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, [child, parent], findings_key)

    assert response.status_code == 201
    root = Finding.objects.get(analyzer="api-tracer")
    middle = Finding.objects.get(analyzer="storage-probe")
    leaf = Finding.objects.get(analyzer="disk-probe")
    assert middle.parent == root
    assert leaf.parent == middle
    assert root.parent is None


def test_findings_parent_by_id(client, findings_key, checkout):
    parent_id = post(client, finding(1), findings_key).json()["id"]

    response = post(client, finding(2, parent_id=parent_id), findings_key)

    child = Finding.objects.get(pk=response.json()["id"])
    assert child.parent_id == parent_id
    assert child.parent_key == "api-tracer:checkout-5xx-1"


def test_findings_cannot_be_their_own_parent(client, findings_key, checkout):
    response = post(
        client, finding(1, parent_dedupe_key="api-tracer:checkout-5xx-1"), findings_key
    )

    assert response.status_code == 400
    assert field_errors(response) == {
        "parent_dedupe_key": ["A finding cannot be its own parent."]
    }


def test_findings_resend_keeps_first_seen_and_the_reviewers_verdict(
    client, findings_key, checkout, reviewer
):
    first = post(client, finding(), findings_key).json()
    row = Finding.objects.get(pk=first["id"])
    row.verdict = "confirmed"
    row.verdict_by = reviewer
    row.first_seen_at = timezone.now() - dt.timedelta(hours=1)
    row.save()

    post(client, finding(summary="updated"), findings_key)

    row.refresh_from_db()
    assert row.summary == "updated"
    assert row.verdict == "confirmed"
    assert row.first_seen_at < row.last_seen_at


def test_findings_unknown_extra_fields_are_kept_in_raw(client, findings_key, checkout):
    payload = finding(runbook="https://runbooks.example/x", labels={"team": "pay"})

    response = post(client, payload, findings_key)

    assert response.status_code == 201
    assert Finding.objects.get().raw["labels"] == {"team": "pay"}


def test_findings_nul_characters_are_refused_naming_the_field(
    client, findings_key, checkout
):
    """PostgreSQL cannot store a NUL; replacing it would change what was sent."""
    response = post(client, finding(summary="bad\u0000byte"), findings_key)

    assert response.status_code == 400
    assert field_errors(response) == {
        "summary": [
            "the text contains a NUL character (position 4), which cannot be stored."
        ]
    }
    assert not Finding.objects.exists()


# -- Idempotency-Key -------------------------------------------------------------


def test_findings_idempotency_key_replays_the_first_response(
    client, findings_key, checkout
):
    first = post(client, finding(), findings_key, **{"Idempotency-Key": "abc-1"})

    again = post(client, finding(), findings_key, **{"Idempotency-Key": "abc-1"})

    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Finding.objects.count() == 1


def test_findings_idempotency_key_reused_with_another_body_is_422(
    client, findings_key, checkout
):
    post(client, finding(1), findings_key, **{"Idempotency-Key": "abc-2"})

    response = post(client, finding(2), findings_key, **{"Idempotency-Key": "abc-2"})

    assert response.status_code == 422
    assert problem(response)["code"] == "idempotency_key_reused"
    assert Finding.objects.count() == 1


def test_findings_idempotency_key_is_free_again_after_a_failed_request(
    client, findings_key, checkout
):
    bad = post(
        client, finding(severity="nope"), findings_key, **{"Idempotency-Key": "k3"}
    )
    assert bad.status_code == 400

    good = post(client, finding(), findings_key, **{"Idempotency-Key": "k3"})

    assert good.status_code == 201


def test_findings_idempotency_keys_are_per_api_key(
    client, findings_key, make_api_key, team, checkout
):
    _, other_secret = make_api_key(team, scopes=["findings:write"], name="second")
    post(client, finding(1), findings_key, **{"Idempotency-Key": "shared"})

    response = post(client, finding(2), other_secret, **{"Idempotency-Key": "shared"})

    assert response.status_code == 201


# -- Transport errors ------------------------------------------------------------


def test_findings_bad_json_is_400_with_the_position(client, findings_key):
    response = post(client, '{"analyzer": "x",', findings_key)

    assert response.status_code == 400
    assert problem(response)["code"] == "bad_json"
    assert "line 1" in response.json()["detail"]


def test_findings_nan_is_not_json(client, findings_key):
    response = post(client, '{"analyzer": NaN}', findings_key)

    assert response.status_code == 400
    assert problem(response)["code"] == "bad_json"


def test_findings_wrong_json_type_is_400(client, findings_key):
    response = post(client, '"just a string"', findings_key)

    assert response.status_code == 400
    assert problem(response)["code"] == "wrong_type"
    assert "not a JSON string" in response.json()["detail"]


def test_findings_empty_body_is_400(client, findings_key):
    response = post(client, "", findings_key)

    assert response.status_code == 400
    assert problem(response)["code"] == "bad_json"


def test_findings_form_body_is_415(client, findings_key):
    response = post(
        client,
        "analyzer=x",
        findings_key,
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 415
    assert problem(response)["code"] == "unsupported_media_type"


def test_findings_oversized_body_is_413(client, findings_key, settings):
    settings.KB_API_MAX_BODY_BYTES = 2000
    payload = finding(summary="x" * 3000)

    response = post(client, payload, findings_key)

    assert response.status_code == 413
    assert problem(response)["code"] == "payload_too_large"
    assert Finding.objects.count() == 0


def test_findings_declared_length_over_the_limit_is_413_before_reading(
    client, findings_key, settings
):
    settings.KB_API_MAX_BODY_BYTES = 2000

    response = client.post(
        URL,
        data="{}",
        content_type="application/json",
        headers={"Authorization": f"Api-Key {findings_key}"},
        CONTENT_LENGTH="50000000",
    )

    assert response.status_code == 413
    assert response.json()["detail"].startswith("The body is 50000000 bytes")


def test_findings_body_over_djangos_upload_limit_but_within_ours_is_accepted(
    client, findings_key, checkout, settings
):
    """GIVEN Django's DATA_UPLOAD_MAX_MEMORY_SIZE below the body size
    WHEN a batch within KB_API_MAX_BODY_BYTES arrives
    THEN our limit applies (Django's would have answered a bare 400)."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    payload = [finding(n) for n in range(10)]

    response = post(client, payload, findings_key)

    assert response.status_code == 201


def test_findings_batch_over_1000_is_413(client, findings_key):
    payload = [finding(n) for n in range(validation.MAX_BATCH + 1)]

    response = post(client, payload, findings_key)

    assert response.status_code == 413
    assert problem(response)["code"] == "batch_too_large"


def test_findings_duplicate_keys_in_one_batch_make_one_row(
    client, findings_key, checkout
):
    response = post(
        client, [finding(1, title="first"), finding(1, title="second")], findings_key
    )

    assert response.status_code == 201
    ids = {item["id"] for item in response.json()["findings"]}
    assert len(ids) == 1
    assert Finding.objects.get().title == "second"


# -- Keys, scopes, rate limits ---------------------------------------------------


def test_findings_without_a_key_is_401(client):
    response = client.post(URL, data="{}", content_type="application/json")

    assert response.status_code == 401
    assert problem(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Api-Key")


def test_findings_with_an_unknown_key_is_401(client):
    response = post(client, finding(), "abcdefgh.not-a-real-secret")

    assert response.status_code == 401
    body = problem(response)
    assert (body["code"], body["detail"]) == (
        "invalid_key",
        "This API key is not valid.",
    )


def test_findings_with_a_revoked_key_is_401(client, team, make_api_key):
    from findings.services import api_key_revoke

    api_key, secret = make_api_key(team)
    api_key_revoke(api_key=api_key)

    response = post(client, finding(), secret)

    assert response.status_code == 401
    assert problem(response)["code"] == "revoked_key"


def test_findings_with_an_expired_key_is_401(client, team, make_api_key):
    _, secret = make_api_key(team, expiry_date=timezone.now() - dt.timedelta(minutes=1))

    response = post(client, finding(), secret)

    assert response.status_code == 401
    assert problem(response)["code"] == "expired_key"


def test_findings_with_a_key_lacking_the_scope_is_403(client, team, make_api_key):
    _, secret = make_api_key(team, scopes=["alerts:write"])

    response = post(client, finding(), secret)

    assert response.status_code == 403
    assert problem(response)["code"] == "missing_scope"
    assert 'lacks the "findings:write" scope' in response.json()["detail"]


def test_findings_accepts_bearer_keys(client, findings_key, checkout):
    response = client.post(
        URL,
        data=json.dumps(finding()),
        content_type="application/json",
        headers={"Authorization": f"Bearer {findings_key}"},
    )

    assert response.status_code == 201


def test_findings_a_signed_in_person_cannot_post_findings(client, editor, checkout):
    client.force_login(editor)

    response = client.post(
        URL, data=json.dumps(finding()), content_type="application/json"
    )

    assert response.status_code == 403
    assert Finding.objects.count() == 0


def test_findings_are_rate_limited_per_key_with_retry_after(
    client, findings_key, make_api_key, team, checkout, settings, monkeypatch
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"findings": "3/min", "integrations": "3/min"},
    }
    # 20 s into a one-minute window: the limit lifts 40 s later.
    monkeypatch.setattr(auth.time, "time", lambda: 60 * 29_000_000 + 20.0)
    codes = [post(client, finding(n), findings_key).status_code for n in range(4)]
    _, other = make_api_key(team, name="other")

    limited = post(client, finding(9), findings_key)
    other_key = post(client, finding(10), other)

    assert codes == [201, 201, 201, 429]
    assert limited.status_code == 429
    assert problem(limited)["code"] == "throttled"
    assert limited["Retry-After"] == "40"
    assert other_key.status_code == 201


def test_findings_rate_limit_lifts_when_the_window_ends(
    client, findings_key, checkout, settings, monkeypatch
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"findings": "2/min", "integrations": "2/min"},
    }
    start = 60 * 29_000_000.0
    monkeypatch.setattr(auth.time, "time", lambda: start + 59.5)
    late = [post(client, finding(n), findings_key).status_code for n in range(3)]
    monkeypatch.setattr(auth.time, "time", lambda: start + 60.5)
    next_window = [post(client, finding(n), findings_key).status_code for n in (3, 4)]

    assert late == [201, 201, 429]
    assert next_window == [201, 201]


def test_findings_api_keys_are_ignored_by_views_not_made_for_machines(
    client, findings_key
):
    response = client.get(
        "/incidents/", headers={"Authorization": f"Api-Key {findings_key}"}
    )

    assert response.status_code == 302  # to the login page: a key is no session


# -- Read API ---------------------------------------------------------------------


def test_findings_read_key_sees_its_team_only_and_404_for_others(
    client, findings_key, make_api_key, team, other_team, checkout
):
    mine = post(client, finding(), findings_key).json()["id"]
    theirs = factories.FindingFactory(
        incident=factories.IncidentFactory(team=other_team)
    )
    _, reader = make_api_key(team, scopes=["read"], name="reader")
    auth = {"Authorization": f"Api-Key {reader}"}

    listing = client.get(URL, headers=auth)
    hidden = client.get(f"{URL}{theirs.pk}/", headers=auth)
    shown = client.get(f"{URL}{mine}/", headers=auth)

    assert listing.status_code == 200
    assert [row["id"] for row in listing.json()["results"]] == [mine]
    assert hidden.status_code == 404
    assert shown.json()["raw"]["fingerprint"] == "checkout-5xx-1"
    assert shown.json()["root_cause"]["confidence"] == 0.8


def test_findings_list_without_read_scope_is_403(client, findings_key):
    response = client.get(URL, headers={"Authorization": f"Api-Key {findings_key}"})

    assert response.status_code == 403


def test_findings_list_for_people_guards_n_plus_one(
    client, editor, django_assert_max_num_queries
):
    incident = factories.IncidentFactory()
    factories.FindingFactory.create_batch(20, incident=incident)
    client.force_login(editor)

    with django_assert_max_num_queries(8):
        response = client.get(URL)

    assert response.status_code == 200
    assert response.json()["count"] == 20


# -- Follow-up on commit -----------------------------------------------------------


def test_findings_follow_up_is_enqueued_on_commit_only(
    client, findings_key, checkout, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(client, finding(), findings_key)

    assert response.status_code == 201
    assert len(callbacks) == 1
    # The request wrote no timeline entry itself: that is the task's job.
    assert TimelineEntry.objects.count() == 0
    callbacks[0]()
    assert TimelineEntry.objects.filter(dedupe_key__endswith=":opened").count() == 1


def test_findings_serializer_documents_the_validated_fields():
    assert set(FindingInputSerializer().fields) == set(validation.FIELDS)


@pytest.mark.parametrize(
    ("batch", "expected"),
    [
        # Only a rule between fields is broken: the shape is right, so 422.
        ([{"ended_at": "2026-05-01T10:00:00Z"}], (422, "unprocessable")),
        (
            [{"ended_at": "2026-05-01T10:00:00Z"}, {}],
            (422, "unprocessable"),
        ),
        # A shape error beside it: the whole answer is a 400 naming both.
        (
            [{"ended_at": "2026-05-01T10:00:00Z"}, {"root_cause": {"text": "  "}}],
            (400, "invalid"),
        ),
        ([{"root_cause": {"text": ""}}], (400, "invalid")),
    ],
    ids=["rule", "rule-in-batch", "rule-and-shape", "blank-root-cause"],
)
def test_findings_rule_errors_are_422_shape_errors_400(
    client, team, findings_key, batch, expected
):
    """GIVEN findings that match the schema but end before they start THEN 422
    (the fuzzer found them answered 400 as if malformed); a blank root cause,
    which the schema's pattern forbids, stays a 400. Either way nothing is
    written and every error points at its item and field."""
    factories.ServiceFactory(slug="checkout-web", team=team)
    items = [finding(n, **fields) for n, fields in enumerate(batch)]
    response = post(client, {"findings": items}, findings_key)
    assert (response.status_code, problem(response)["code"]) == expected
    pointers = {error["pointer"] for error in problem(response)["errors"]}
    if expected[0] == 422:
        assert pointers == {
            f"/findings/{n}/ended_at" for n, fields in enumerate(batch) if fields
        }
    assert not Finding.objects.exists()


def test_findings_schema_says_a_root_cause_needs_text(client):
    schema = client.get("/api/schema/?format=json").json()
    text = schema["components"]["schemas"]["RootCauseInput"]["properties"]["text"]
    assert text["pattern"] == r"\S"
