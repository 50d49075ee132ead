"""The OpenAPI schema's error responses: every operation documents the problem
details (kb.problems) it can answer, in one place.

Views describe their own special errors (a 412 for a stale If-Match, a 413 for a
large body) with a description only; ``ProblemAutoSchema`` gives every error
response the ``application/problem+json`` body and adds the errors every operation
of its kind can answer (401 and 403 everywhere, 404 for an object or a page,
400 and 415 for a body, 429 where a rate limit applies).
"""

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from kb.problems import CONTENT_TYPE


class ProblemFieldErrorSerializer(serializers.Serializer):
    pointer = serializers.CharField(
        required=False,
        help_text='A JSON pointer into the request body ("/title", "/3/service"); '
        '"" is the whole body.',
    )
    parameter = serializers.CharField(
        required=False, help_text="The query parameter, for a filter's errors."
    )
    detail = serializers.CharField()
    code = serializers.CharField(help_text="e.g. required, max_length, invalid.")


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField(help_text="urn:hindsight:problem:<code>")
    title = serializers.CharField(help_text="The HTTP status phrase.")
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text="What went wrong, for a person.")
    instance = serializers.CharField(required=False, help_text="The request's path.")
    code = serializers.CharField(
        help_text="Stable: not_authenticated, missing_scope, not_found, invalid, "
        "unprocessable..."
    )
    errors = ProblemFieldErrorSerializer(
        many=True, required=False, help_text="Field problems of a 400 or 422."
    )


DEFAULT_DESCRIPTIONS = {
    "400": "The request does not match this schema; `errors` says where.",
    "401": "No credentials, or unknown, revoked or expired ones.",
    "403": "Known credentials without the right: the role, the key's scope, or "
    "an API key on an endpoint for people. `detail` names what is missing.",
    "404": "No such object (or not one you may see), or no such page.",
    "406": "The Accept header asks for a format other than JSON.",
    "415": "The body is not JSON.",
    "422": "Well formed but cannot be applied: an unknown reference (in the body "
    "or a filter) or a rule; `errors` says where.",
    "429": "Too many requests with this key; see Retry-After.",
}
BODY_METHODS = ("POST", "PUT", "PATCH")


class ProblemAutoSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(
            path, path_regex, path_prefix, method, registry
        )
        if operation is None:
            return None
        body = operation.get("requestBody")
        if body is not None and self.method in ("POST", "PUT"):
            # These endpoints read a body; an empty one is a 400.
            body["required"] = True
        problem = self.resolve_serializer(ProblemSerializer, "response").ref
        responses = operation["responses"]
        for code in self._error_codes(operation):
            responses.setdefault(code, {"description": DEFAULT_DESCRIPTIONS[code]})
        for code, response in responses.items():
            if int(code) < 400:
                continue
            response["content"] = {CONTENT_TYPE: {"schema": problem}}
            if code == "401":
                response.setdefault("headers", {})["WWW-Authenticate"] = {
                    "schema": {"type": "string"},
                    "required": True,
                    "description": "The credentials this endpoint takes.",
                }
            if code == "429":
                response.setdefault("headers", {})["Retry-After"] = {
                    "schema": {"type": "string"},
                    "description": "Seconds until the limit resets.",
                }
        operation["responses"] = dict(
            sorted(responses.items(), key=lambda item: item[0])
        )
        return operation

    def _error_codes(self, operation: dict) -> list[str]:
        codes = ["401", "403", "406"]
        has_body = self.method in BODY_METHODS
        if has_body:
            codes += ["400", "415", "422"]
        query = {
            p["name"] for p in operation.get("parameters", []) if p["in"] == "query"
        }
        if query:
            codes.append("400")
        if query - {"page", "ordering"}:
            # A filter naming nothing that exists (?team=no-such-team).
            codes.append("422")
        if "{" in self.path or self._is_list_view():
            codes.append("404")
        if self.view.get_throttles():
            codes.append("429")
        return codes


# Any JSON value the API can store (kb.safejson): JSON Schema cannot bound nesting,
# but it can bound integers. OpenAPI 3.0 validates as JSON Schema draft 4, where a
# float such as 1e300 is a number and not an integer, so "a number that is not an
# integer" is exactly the floats.
STORABLE_JSON = {
    "description": "Any JSON value Hindsight can store: no NUL characters or lone "
    "surrogates in text or keys, integers within a signed 64-bit range, finite "
    "numbers, at most 64 levels of nesting.",
    "anyOf": [
        {"type": "string"},
        {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},
        {"type": "number", "not": {"type": "integer"}},
        {"type": "boolean"},
        {"type": "array", "items": {"$ref": "#/components/schemas/StorableJson"}},
        {
            "type": "object",
            "additionalProperties": {"$ref": "#/components/schemas/StorableJson"},
        },
    ],
    "nullable": True,
}
STORABLE_REF = {"$ref": "#/components/schemas/StorableJson"}


def storable_json_postprocess(result, generator, request, public):
    """Free-form JSON (unknown fields, JSON fields) is any *storable* JSON value.

    drf-spectacular describes free-form values as ``{}`` (anything) and objects as
    open to any extra property; the API refuses what it cannot store (a 400 naming
    the field), so the schema says what it accepts.
    """
    schemas = result.get("components", {}).get("schemas", {})
    for schema in schemas.values():
        _bound_free_form(schema)
    schemas["StorableJson"] = STORABLE_JSON
    return result


def _bound_free_form(schema: dict) -> None:
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "object" or "properties" in schema:
        extra = schema.get("additionalProperties", True)
        if extra is True or extra == {}:
            schema["additionalProperties"] = STORABLE_REF
        elif isinstance(extra, dict):
            _bound_free_form(extra)
    for key, value in list(schema.get("properties", {}).items()):
        if _is_free_form(value):
            schema["properties"][key] = {**value, "allOf": [STORABLE_REF]}
        else:
            _bound_free_form(value)
    if isinstance(schema.get("items"), dict):
        if _is_free_form(schema["items"]):
            schema["items"] = {**schema["items"], "allOf": [STORABLE_REF]}
        else:
            _bound_free_form(schema["items"])
    for combinator in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(combinator, []):
            _bound_free_form(part)


SHAPE_KEYWORDS = ("type", "$ref", "allOf", "anyOf", "oneOf", "enum", "properties")


def _is_free_form(schema: dict) -> bool:
    """``{}`` or ``{"description": ...}``: drf-spectacular's "any JSON"."""
    return isinstance(schema, dict) and not any(k in schema for k in SHAPE_KEYWORDS)
