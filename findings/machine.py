"""What every machine endpoint shares (the findings API and the integrations'
webhooks): reading the body, mapping the ingest services' errors to problem
details, throttling per key, and the error responses the schema declares.

Every error is problem details (``kb.problems``). Bodies are read here, not by
DRF's parsers: the PagerDuty signature covers the raw bytes, the Idempotency-Key
compares them, and the size limit is ours (``KB_API_MAX_BODY_BYTES``) rather than
Django's DATA_UPLOAD_MAX_MEMORY_SIZE, whose RequestDataTooBig would surface as a
bare 400.
"""

import hashlib
import re

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions

from findings import services, validation
from findings.auth import ApiKeyRateThrottle
from findings.records import PayloadInvalid
from kb import safejson
from kb.parsers import JSONParser
from kb.problems import ApiProblem as ApiError

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
JSON_TYPES = ("application/json", "text/plain", "")


def domain_problem(exc: Exception, *, item_pointer: str = "/{index}") -> Exception:
    """The ingest services' errors as API problems; anything else unchanged.

    ``item_pointer`` is where item ``index`` of a batch sits in the body.
    """
    if isinstance(exc, validation.BatchInvalid):
        # Raised by the services: the items are well formed but name an unknown
        # incident, service or parent.
        return ApiError(
            422, "unprocessable", str(exc), errors=item_errors(exc, item_pointer)
        )
    if isinstance(exc, PayloadInvalid):
        return ApiError(400, "invalid", exc.detail, errors=_pointer_errors(exc.errors))
    if isinstance(exc, services.ForeignTeam):
        return ApiError(403, "foreign_team", str(exc))
    if isinstance(exc, services.AutoIncidentsDisabled):
        return ApiError(422, "auto_incidents_disabled", str(exc))
    if isinstance(exc, services.IdempotencyKeyReused):
        return ApiError(422, "idempotency_key_reused", str(exc))
    return exc


def item_errors(exc: validation.BatchInvalid, item_pointer: str) -> list[dict]:
    """Per-item, per-field errors, each pointing into the body."""
    return [
        error
        for item in exc.items
        for error in _pointer_errors(
            item["errors"], prefix=item_pointer.format(index=item["index"])
        )
    ]


def _pointer_errors(errors: dict, *, prefix: str = "") -> list[dict]:
    """``{"alerts.0.labels": [...]}``, ``{"alerts[0].labels": [...]}`` or nested
    dicts as problem-details errors, each with a JSON pointer."""
    return [
        {
            "pointer": prefix
            + "".join(
                f"/{part}" for key in path for part in re.split(r"[.\[\]]", key) if part
            ),
            "detail": message,
            "code": "invalid",
        }
        for path, message in _flatten(errors, ())
    ]


def _flatten(value, path: tuple):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(inner, (*path, str(key)))
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        for message in value:
            yield path, message
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _flatten(inner, (*path, str(index)))
    else:
        yield path, str(value)


def read_body(request) -> bytes:
    """The raw body, within our size limit; 413 and 415 as JSON errors."""
    limit = getattr(settings, "KB_API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)
    django_request = request._request
    try:
        length = int(django_request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ApiError(400, "bad_request", "Content-Length is not a number.") from None
    if length > limit:
        raise ApiError(
            413,
            "payload_too_large",
            f"The body is {length} bytes; the limit is {limit} bytes. Send smaller "
            "batches.",
        )
    content_type = request.content_type.split(";")[0].strip().lower()
    if content_type not in JSON_TYPES and not content_type.endswith("+json"):
        raise exceptions.UnsupportedMediaType(
            content_type,
            detail=f'Send JSON (Content-Type: application/json), not "{content_type}".',
        )
    if hasattr(django_request, "_body"):
        body = django_request._body
    else:
        # Read past Django's own DATA_UPLOAD_MAX_MEMORY_SIZE check: ours applies.
        body = django_request.read(limit + 1)
        django_request._body = body
    if len(body) > limit:
        raise ApiError(
            413, "payload_too_large", f"The body exceeds the limit of {limit} bytes."
        )
    return body


def parse_json(body: bytes) -> object:
    """The body's JSON (``kb.safejson``); 400 naming the problem and its field."""
    if not body.strip():
        raise ApiError(400, "bad_json", "The body is empty; send a JSON document.")
    try:
        return safejson.loads(body)
    except safejson.JsonRefused as exc:
        field = "" if exc.field == "(root)" else exc.field
        errors = _pointer_errors({field: [exc.message]}) if exc.field else None
        raise ApiError(400, "bad_json", exc.sentence(), errors=errors) from None


def read_json(request) -> tuple[bytes, object]:
    body = read_body(request)
    return body, parse_json(body)


def request_hash(request, body: bytes) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


ERRORS = {
    400: OpenApiResponse(
        description="Not JSON, or not the documented shape; `errors` points at "
        "each field."
    ),
    401: OpenApiResponse(
        description="Missing, unknown, revoked or expired API key.",
    ),
    403: OpenApiResponse(
        description="The key lacks the scope, or the data is another team's.",
    ),
    413: OpenApiResponse(
        description="Body over KB_API_MAX_BODY_BYTES, or >1,000 items.",
    ),
    415: OpenApiResponse(description="Not JSON."),
    429: OpenApiResponse(description="Rate limit for this key; see Retry-After."),
}


def errors(*codes: int, **more: OpenApiResponse) -> dict:
    return {**{code: ERRORS[code] for code in codes}, **more}


class MachineApi:
    accepts_api_keys = True
    throttle_classes = [ApiKeyRateThrottle]
    # Bodies are JSON only (read_json); the schema says so.
    parser_classes = [JSONParser]

    # Where item i of a batch sits in the body (set by create once it is read).
    item_pointer = "/{index}"

    def handle_exception(self, exc):
        # The project's handler (kb.problems) formats every error; the ingest
        # services' own errors are mapped to a status and code here.
        return super().handle_exception(
            domain_problem(exc, item_pointer=self.item_pointer)
        )
