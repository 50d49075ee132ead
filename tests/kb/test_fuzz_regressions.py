"""What the API fuzzing (test_api_fuzz.py) found, pinned as plain tests."""

import json

import pytest

from tests.kb.catalogue import build_catalogue
from tests.problems import field_errors, problem

pytestmark = pytest.mark.django_db

TOO_BIG = "99999999999999999999"  # past a 64-bit integer


@pytest.fixture
def admin_client(client):
    client.force_login(build_catalogue().users["admin"])
    return client


def test_action_items_postmortem_filter_out_of_range_is_a_400(admin_client):
    response = admin_client.get(f"/api/v1/action-items/?postmortem={TOO_BIG}")
    assert response.status_code == 400
    assert "postmortem" in field_errors(response)
    # The page ignores the bad filter instead of crashing.
    assert admin_client.get(f"/actions/?postmortem={TOO_BIG}").status_code == 200


def test_unknown_api_url_is_a_json_404(admin_client, settings):
    settings.DEBUG = False
    response = admin_client.get("/api/v1/incidents/1.5e-3/")
    assert response.status_code == 404
    assert problem(response)["code"] == "not_found"
    # Pages keep the HTML 404.
    page = admin_client.get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


def test_api_schema_documents_list_404_and_nullable_merged_into(admin_client):
    schema = admin_client.get("/api/schema/?format=json").json()
    for path in ("/api/v1/incidents/", "/api/v1/postmortems/", "/api/v1/teams/"):
        assert "404" in schema["paths"][path]["get"]["responses"], path
    merged_into = schema["components"]["schemas"]["FailureClass"]["properties"][
        "merged_into"
    ]
    assert merged_into.get("nullable") is True
    # A merged class's target is null until it is merged: the API says so.
    first = admin_client.get("/api/v1/failure-classes/").json()["results"][0]
    assert first["merged_into"] is None


def test_findings_incident_filter_out_of_range_is_a_400(admin_client):
    response = admin_client.get(f"/api/v1/findings/?incident={TOO_BIG}")
    assert response.status_code == 400


def test_api_body_with_too_many_form_fields_is_a_json_400(admin_client, settings):
    """Django refuses a form body with more than DATA_UPLOAD_MAX_NUMBER_FIELDS
    fields (SuspiciousOperation) before DRF runs: the answer is still JSON."""
    settings.DEBUG = False
    fields = {f"f{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = admin_client.post("/api/v1/incidents/", fields)
    assert response.status_code == 400
    assert problem(response)["code"] == "bad_request"


NUL = "pay\x00ments"


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("PATCH", "incident", {"services": [NUL]}),
        ("PATCH", "incident", {"commander": NUL}),
        ("PATCH", "incident", {"team": NUL}),
        ("PATCH", "postmortem", {"template": NUL}),
        ("PATCH", "postmortem", {"reviewers": [NUL]}),
        ("POST", "/api/v1/action-items/", {"title": "x", "team": NUL}),
        ("POST", "/api/v1/action-items/", {"title": "x", "team": "a", "owner": NUL}),
        ("GET", "/api/v1/incidents/?team=pay%00ments", None),
        ("GET", "/api/v1/incidents/?service=pay%00ments", None),
        ("GET", "/api/v1/action-items/?owner=pay%00ments", None),
        ("GET", "/api/v1/action-items/?team=pay%00ments", None),
        ("GET", "/api/v1/findings/?service=pay%00ments", None),
        ("GET", "/api/v1/failure-classes/pay%00ments/", None),
        ("GET", "/incidents/?team=pay%00ments&q=a%00b", None),
        ("GET", "/postmortems/?service=pay%00ments&q=a%00b", None),
        ("GET", "/actions/?owner=pay%00ments&team=pay%00ments", None),
        ("GET", "/actions/dashboard/?team=pay%00ments", None),
        ("GET", "/insights/classes/pay%00ments/", None),
    ],
)
def test_nul_characters_are_refused_not_a_crash(admin_client, method, url, body):
    """PostgreSQL cannot store or compare text with NUL (0x00) characters; a lookup
    with one must be a 4xx, not a 500 (found by fuzzing on PostgreSQL)."""
    catalogue_objects = {
        "incident": "/api/v1/incidents/{}/",
        "postmortem": "/api/v1/postmortems/{}/",
    }
    if url in catalogue_objects:
        from postmortems.models import Incident, Postmortem

        model = Incident if url == "incident" else Postmortem
        url = catalogue_objects[url].format(
            model.objects.filter(status__in=["draft", "investigating"]).first().pk
        )
    admin_client.raise_request_exception = False
    if body is None:
        response = admin_client.get(url)
    else:
        response = admin_client.generic(
            method, url, json.dumps(body), content_type="application/json"
        )
    assert response.status_code < 500, response.content[:300]


@pytest.mark.parametrize("url", ["/api/v1/postmortems/?page=", "/api/v1/teams/?page="])
def test_empty_page_parameter_is_refused_not_page_one(admin_client, url):
    """The schema says a page is an integer; DRF read ``?page=`` as page 1."""
    response = admin_client.get(url)
    assert response.status_code == 404
    assert problem(response)["code"] == "not_found"


def _enums(node, where=""):
    """Every (place, schema) in the OpenAPI document that lists enum values."""
    if isinstance(node, dict):
        if "enum" in node:
            yield where, node
        for key, value in node.items():
            yield from _enums(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _enums(value, f"{where}/{index}")


JSON_TYPES = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
    "array": list,
    "object": dict,
}


def test_api_schema_enum_values_have_the_type_they_are_declared_with(client):
    """A query parameter documented as a boolean whose values are the strings
    "true" and "false" let no valid value exist: a client following the schema
    could not use the filter (the fuzzer found ?near_miss=false). Every enum in
    the schema must list values of its own declared type."""
    schema = client.get("/api/schema/?format=json").json()
    wrong = []
    for where, node in _enums(schema):
        declared = node.get("type")
        if declared not in JSON_TYPES:
            continue
        for value in node["enum"]:
            if value is None and node.get("nullable"):
                continue
            if isinstance(value, bool) and declared in ("integer", "number"):
                wrong.append((where, declared, value))
            elif not isinstance(value, JSON_TYPES[declared]):
                wrong.append((where, declared, value))
    assert not wrong, wrong


def test_incident_near_miss_filter_takes_true_and_false(admin_client):
    for value, expected in (("true", True), ("false", False)):
        response = admin_client.get(f"/api/v1/incidents/?near_miss={value}")
        assert response.status_code == 200
        assert {row["near_miss"] for row in response.json()["results"]} <= {expected}
