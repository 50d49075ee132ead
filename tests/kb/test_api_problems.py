"""One error contract for the whole API: RFC 9457 problem details.

Sweeps every API route of the authorisation matrix x every method x every role
(people and an API key of each scope) x own/other team: every error answers
``application/problem+json`` with the status in the body, a 401 carries a
WWW-Authenticate challenge, and a refused API key is told what is missing. The
same for bad credentials, Django's own errors under /api/ (404, 400, 500, 503) and
the OpenAPI schema's description of them.
"""

import json

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from findings.services import api_key_create
from tests.kb.authz_matrix import ROUTES
from tests.kb.catalogue import NONE, ROLES, TEAM_CASES, build_catalogue
from tests.kb.matrix_client import PAGERDUTY_SECRET, Rollback, send

pytestmark = pytest.mark.django_db

API_ROUTES = [
    route
    for route in ROUTES
    if route.api and route.name not in ("api-schema", "api-docs")
]
PROBLEM = "application/problem+json"
# Policies of endpoints that take no session or API key (a webhook signed with a
# shared secret authenticates the body, not the caller).
KEYLESS_POLICIES = ("public", "tracker-signed")
CREDENTIALED_ROUTES = [
    route
    for route in API_ROUTES
    if any(policy not in KEYLESS_POLICIES for policy, _ in route.methods.values())
]


@pytest.fixture(autouse=True)
def _pagerduty_secret(settings):
    settings.KB_PAGERDUTY_WEBHOOK_SECRETS = [PAGERDUTY_SECRET]


def problem_of(response) -> dict:
    """The response's problem details, checked against RFC 9457's members."""
    assert response["Content-Type"] == PROBLEM, response["Content-Type"]
    body = json.loads(response.content)
    assert body["status"] == response.status_code
    assert body["type"] == "urn:hindsight:problem:" + body["code"].replace("_", "-")
    assert body["title"] and body["detail"] and body["code"]
    return body


def _problems_in(catalogue, route, method, role, case) -> str | None:
    response = send(catalogue, route, method, role, case)
    got = response.status_code
    where = f"{method} {role}/{case}"
    if got < 400:
        return None
    try:
        body = problem_of(response)
    except (AssertionError, KeyError, ValueError) as exc:
        content = response.content[:120]
        return f"{where}: {got} is not problem details ({exc!r}): {content!r}"
    if got == 401 and not response.get("WWW-Authenticate"):
        return f"{where}: 401 without WWW-Authenticate"
    if role == "anonymous" and got == 403:
        return f"{where}: anonymous got 403 ({body['code']}), not 401"
    if role in catalogue.keys and got == 403:
        # A refused key is told what is missing: a scope, or a signed-in person.
        if body["code"] not in ("missing_scope", "api_key_not_accepted"):
            return f"{where}: refused key got code {body['code']!r}"
        if body["code"] == "api_key_not_accepted" and "signed-in" not in body["detail"]:
            return f"{where}: refused key not told why: {body['detail']!r}"
        if body["code"] == "missing_scope" and '"' not in body["detail"]:
            return f"{where}: missing scope not named: {body['detail']!r}"
    return None


@pytest.mark.parametrize("route", API_ROUTES, ids=lambda r: r.name)
def test_api_errors_are_problem_details_for_every_role(route):
    catalogue = build_catalogue()
    problems = []
    for method in route.methods:
        for role in ROLES:
            for case in TEAM_CASES if route.team_scoped else (NONE,):
                try:
                    with transaction.atomic():
                        problems.append(
                            _problems_in(catalogue, route, method, role, case)
                        )
                        raise Rollback
                except Rollback:
                    pass
    problems = [problem for problem in problems if problem]
    assert not problems, "\n".join(problems)


def _bad_credentials(catalogue) -> dict[str, str]:
    revoked, secret = api_key_create(
        name="revoked", team=catalogue.cases["own"].team, scopes=["read"]
    )
    revoked.revoke()
    revoked.save()
    return {
        "unknown key": "Api-Key abcdefgh.not-a-key",
        "malformed key": "Api-Key nodot",
        "empty bearer": "Bearer ",
        "revoked key": f"Api-Key {secret}",
    }


@pytest.mark.parametrize("route", CREDENTIALED_ROUTES, ids=lambda r: r.name)
def test_api_bad_credentials_are_a_401_with_a_challenge(route):
    """GIVEN an unknown, malformed, empty or revoked key WHEN it is sent to any API
    endpoint THEN the answer is a 401 problem with WWW-Authenticate, never a 403
    "no credentials" as if nothing had been sent."""
    catalogue = build_catalogue()
    problems = []
    for label, header in _bad_credentials(catalogue).items():
        for method in route.methods:
            client = Client(HTTP_AUTHORIZATION=header)
            response = send(catalogue, route, method, "anonymous", "own", client=client)
            if response.status_code != 401:
                problems.append(f"{method} {label}: {response.status_code}")
                continue
            problem_of(response)
            if not response.get("WWW-Authenticate"):
                problems.append(f"{method} {label}: no WWW-Authenticate")
    assert not problems, "\n".join(problems)


def test_api_key_on_a_people_endpoint_names_what_is_missing():
    catalogue = build_catalogue()
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {catalogue.keys['key-read']}")
    response = client.get("/api/v1/incidents/")
    assert response.status_code == 403
    body = problem_of(response)
    assert body["code"] == "api_key_not_accepted"
    assert "/api/v1/incidents/:" in body["detail"]
    assert "signed-in people" in body["detail"]
    assert "this key has: read" in body["detail"]


def test_api_key_without_the_scope_is_told_which_scope():
    catalogue = build_catalogue()
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {catalogue.keys['key-alerts']}")
    response = client.get("/api/v1/findings/")
    assert response.status_code == 403
    body = problem_of(response)
    assert body["code"] == "missing_scope"
    assert '"read"' in body["detail"]


def test_finding_for_another_teams_service_is_a_403_naming_it(client):
    """GIVEN a key of Payments WHEN it posts a finding about Identity's service
    THEN 403 foreign_team naming the service and its team; nothing is written."""
    from findings.models import Finding

    catalogue = build_catalogue()
    other_service = catalogue.cases["other"].service
    before = Finding.objects.count()
    response = client.post(
        "/api/v1/findings/",
        {
            "analyzer": "probe",
            "fingerprint": "fp-foreign-service",
            "title": "Latency",
            "incident_key": "checkout-latency",
            "service": other_service.slug,
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {catalogue.keys['key-findings']}",
    )
    assert response.status_code == 403
    body = problem_of(response)
    assert body["code"] == "foreign_team"
    assert other_service.slug in body["detail"]
    assert "Identity" in body["detail"]
    assert Finding.objects.count() == before


def test_api_validation_errors_point_at_each_field(admin_client):
    response = admin_client.post(
        "/api/v1/incidents/",
        {"title": "x" * 500, "severity": "SEV9"},
        content_type="application/json",
    )
    assert response.status_code == 400
    body = problem_of(response)
    assert body["code"] == "invalid"
    pointers = {error["pointer"] for error in body["errors"]}
    assert {"/title", "/severity", "/team"} <= pointers
    for error in body["errors"]:
        assert error["detail"] and error["code"]


def test_api_filter_errors_name_the_query_parameter(admin_client):
    response = admin_client.get("/api/v1/action-items/?postmortem=99999999999999999999")
    assert response.status_code == 400
    body = problem_of(response)
    assert body["code"] == "invalid_parameters"
    assert [error["parameter"] for error in body["errors"]] == ["postmortem"]


def test_api_batch_errors_point_into_the_batch():
    catalogue = build_catalogue()
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {catalogue.keys['key-findings']}")
    good = {"analyzer": "probe", "fingerprint": "fp-1", "incident_key": "k"}
    response = client.post(
        "/api/v1/findings/",
        {"findings": [{**good, "title": "Latency"}, good]},
        content_type="application/json",
    )
    assert response.status_code == 400
    body = problem_of(response)
    assert {error["pointer"] for error in body["errors"]} == {"/findings/1/title"}


@pytest.fixture
def admin_client(client, db):
    client.force_login(build_catalogue().users["admin"])
    return client


@pytest.mark.parametrize(
    "path", ["/api/v1/no-such-thing/", "/api/v1/incidents/1.5e-3/", "/api/v2/"]
)
def test_unknown_api_url_is_a_problem_404(admin_client, settings, path):
    settings.DEBUG = False
    response = admin_client.get(path)
    assert response.status_code == 404
    assert problem_of(response)["code"] == "not_found"


def test_api_bug_is_a_problem_500(admin_client, settings, monkeypatch):
    """GIVEN a view that crashes WHEN it is called under /api/ THEN a 500 problem
    (pages keep the HTML 500)."""
    from postmortems import api

    settings.DEBUG = False
    admin_client.raise_request_exception = False

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(api.TeamViewSet, "list", crash)
    response = admin_client.get("/api/v1/teams/")
    assert response.status_code == 500
    body = problem_of(response)
    assert body["code"] == "server_error"
    assert "boom" not in body["detail"]


def test_api_unreadable_form_body_is_a_problem_400(admin_client, settings):
    settings.DEBUG = False
    fields = {f"f{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = admin_client.post("/api/v1/incidents/", fields)
    assert response.status_code == 400
    assert problem_of(response)["code"] == "bad_request"


def test_api_schema_documents_problem_details_for_every_error():
    """Every operation's every error response is problem+json, and every operation
    documents 401 (with its WWW-Authenticate header) and 403."""
    schema = Client().get(reverse("api-schema") + "?format=json").json()
    assert "Problem" in schema["components"]["schemas"]
    missing = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for code in ("401", "403"):
                if code not in responses:
                    missing.append(f"{method} {path}: no {code}")
            if "WWW-Authenticate" not in responses.get("401", {}).get("headers", {}):
                missing.append(f"{method} {path}: 401 without WWW-Authenticate")
            for code, response in responses.items():
                if int(code) >= 400 and list(response.get("content", {})) != [PROBLEM]:
                    missing.append(f"{method} {path} {code}: not {PROBLEM}")
    assert not missing, "\n".join(missing)


def test_api_schema_says_a_findings_service_may_be_null():
    schema = Client().get(reverse("api-schema") + "?format=json").json()
    for name in ("Finding", "FindingDetail"):
        service = schema["components"]["schemas"][name]["properties"]["service"]
        assert service.get("nullable") is True, name
