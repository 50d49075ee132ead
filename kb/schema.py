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
    "422": "Well formed but cannot be applied (an unknown reference, a rule).",
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
        if any(p["in"] == "query" for p in operation.get("parameters", [])):
            codes.append("400")
        if "{" in self.path or self._is_list_view():
            codes.append("404")
        if self.view.get_throttles():
            codes.append("429")
        return codes
