"""Read the API's problem details (kb.problems) in tests."""

import json

PROBLEM = "application/problem+json"


def problem(response) -> dict:
    """The body of an error response, checked to be RFC 9457 problem details."""
    assert response["Content-Type"] == PROBLEM, response["Content-Type"]
    body = json.loads(response.content)
    assert body["status"] == response.status_code
    assert body["type"] == "urn:hindsight:problem:" + body["code"].replace("_", "-")
    return body


def field_errors(response) -> dict[str, list[str]]:
    """``{"team": [...], "services/0": [...], "0/title": [...]}``: each field's
    messages, keyed by its pointer without the leading slash (or the query
    parameter's name)."""
    errors: dict[str, list[str]] = {}
    for error in problem(response).get("errors", []):
        where = error["parameter"] if "parameter" in error else error["pointer"][1:]
        errors.setdefault(where, []).append(error["detail"])
    return errors
