"""The API's one error format: RFC 9457 problem details (application/problem+json).

Every error under /api/ goes through ``problem_response``: DRF's exceptions through
``problem_exception_handler`` (REST_FRAMEWORK["EXCEPTION_HANDLER"]), Django's own
400/404/500 under /api/ through kb.views, and the 503 while the database is away
through kb.middleware. A body looks like::

    {
      "type": "urn:hindsight:problem:missing-scope",
      "title": "Forbidden",
      "status": 403,
      "detail": "This API key lacks the \"read\" scope (it has: alerts:write).",
      "instance": "/api/v1/findings/",
      "code": "missing_scope",
      "errors": [{"pointer": "/title", "detail": "...", "code": "required"}]
    }

``code`` is stable (clients switch on it); ``type`` is the same code as a URN.
``errors`` lists field problems (a JSON pointer into the body, or ``parameter``
for a query parameter); it is present only on validation errors.

A request that does not match the published schema is a 400; one that matches it
but cannot be applied (an unknown team, timestamps out of order, another rule) is a
422, so a client can tell "fix the request" from "fix the data".
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from http import HTTPStatus

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from rest_framework import exceptions
from rest_framework.views import set_rollback

from findings.auth import principal
from findings.models import ApiKey
from postmortems.audit import security_event_record
from postmortems.models import SecurityEventKind

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
DEFAULT_CHALLENGE = 'Signature realm="hindsight"'
TYPE_PREFIX = "urn:hindsight:problem:"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

# Error codes that mean "well formed, but the data cannot be applied": a reference
# to nothing (DRF's does_not_exist), a duplicate, or a rule of a service (raised
# with code "rule"). A request whose every problem is of these kinds is answered
# 422; any other problem (a wrong type, a missing field...) makes it a 400.
DATA_CODES = frozenset({"does_not_exist", "unique", "rule"})


class ApiProblem(exceptions.APIException):
    """An error with a status, a stable code, a message and optional field errors.

    ``errors`` is a list of ``{"pointer" | "parameter", "detail", "code"}``; extra
    keyword arguments become extension members of the body.
    """

    def __init__(
        self,
        status_code: int,
        code: str,
        detail: str,
        *,
        errors: list[dict] | None = None,
        headers: dict[str, str] | None = None,
        **extra,
    ):
        self.status_code = status_code
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra
        super().__init__(detail=detail, code=code)


class QueryParametersInvalid(exceptions.ValidationError):
    """A filter's query parameters are invalid (kb.filters raises it)."""


def problem_body(
    *,
    status: int,
    code: str,
    detail: str,
    instance: str = "",
    errors: list[dict] | None = None,
    **extra,
) -> dict:
    body = {
        "type": TYPE_PREFIX + code.replace("_", "-"),
        "title": _title(status),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return body


def problem_response(
    *,
    status: int,
    code: str,
    detail: str,
    request: HttpRequest | None = None,
    errors: list[dict] | None = None,
    headers: dict[str, str] | None = None,
    **extra,
) -> HttpResponse:
    """An application/problem+json response; the one way the API answers an error."""
    body = problem_body(
        status=status,
        code=code,
        detail=detail,
        instance=request.path if request is not None else "",
        errors=errors,
        **extra,
    )
    response = HttpResponse(
        json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False),
        status=status,
        content_type=CONTENT_TYPE,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def field_errors(detail, *, location: str = "pointer") -> list[dict]:
    """DRF's nested error detail as a flat list of field errors.

    ``{"services": {"0": ["Unknown."]}}`` becomes
    ``[{"pointer": "/services/0", "detail": "Unknown.", "code": "..."}]``;
    non-field errors point at the whole body (``""``). With ``location`` set to
    ``"parameter"`` each error names the query parameter instead.
    """
    errors = []
    for path, message in _leaves(detail, ()):
        if path and path[0] in ("non_field_errors", "__all__"):
            path = path[1:]
        code = getattr(message, "code", None) or "invalid"
        if location == "parameter":
            where = {"parameter": ".".join(path)}
        else:
            where = {"pointer": "".join("/" + _escape(part) for part in path)}
        errors.append({**where, "detail": str(message), "code": code})
    return errors


def _leaves(detail, path: tuple) -> Iterator[tuple[tuple, object]]:
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from _leaves(value, (*path, str(key)))
    elif isinstance(detail, list | tuple):
        if all(not isinstance(item, dict | list | tuple) for item in detail):
            for item in detail:
                yield path, item
        else:
            for index, item in enumerate(detail):
                # DRF gives an empty dict for list items without errors.
                yield from _leaves(item, (*path, str(index)))
    else:
        yield path, detail


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _validation_problem(exc: exceptions.ValidationError) -> dict:
    is_query = isinstance(exc, QueryParametersInvalid)
    errors = field_errors(exc.detail, location="parameter" if is_query else "pointer")
    about_data = bool(errors) and all(error["code"] in DATA_CODES for error in errors)
    status = 422 if about_data else 400
    if is_query:
        names = sorted({error["parameter"] for error in errors if error["parameter"]})
        detail = "Invalid query parameter(s): " + ", ".join(names) + "."
        code = "invalid_parameters" if status == 400 else "unprocessable"
    elif status == 400:
        detail = _summary(errors, "The request body does not match the schema")
        code = "invalid"
    else:
        detail = _summary(errors, "The request is well formed but cannot be applied")
        code = "unprocessable"
    return {"status": status, "code": code, "detail": detail, "errors": errors}


def _summary(errors: list[dict], lead: str) -> str:
    if len(errors) == 1:
        where = errors[0].get("pointer") or "the body"
        return f"{lead}: {where}: {errors[0]['detail']}"
    fields = sorted({error.get("pointer") or "(body)" for error in errors})
    return f"{lead}: {len(errors)} problems in " + ", ".join(fields[:10]) + "."


def _code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def problem_exception_handler(exc, context):
    """REST_FRAMEWORK's exception handler: any API exception as problem details.

    Anything that is not an API exception (a bug) is left to Django, which logs it
    and answers a 500, as problem details too under /api/ (kb.views.server_error).
    Refused writes are written to the security log.
    """
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    if not isinstance(exc, exceptions.APIException):
        return None
    request = context.get("request")
    status = exc.status_code
    headers = dict(getattr(exc, "headers", None) or {})
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if status == 401 and "WWW-Authenticate" not in headers:
        # A 401 always names what it wants; an endpoint that checks something
        # other than a session or an API key (a webhook's signature) gets this.
        headers["WWW-Authenticate"] = DEFAULT_CHALLENGE
    if getattr(exc, "wait", None):
        headers["Retry-After"] = f"{exc.wait:.0f}"
    if isinstance(exc, exceptions.ValidationError):
        problem = _validation_problem(exc)
    elif isinstance(exc, ApiProblem):
        problem = {
            "status": status,
            "code": _code(exc),
            "detail": str(exc.detail),
            "errors": exc.errors,
            **exc.extra,
        }
    else:
        problem = {"status": status, "code": _code(exc), "detail": str(exc.detail)}
    if problem["status"] == 403 and request is not None:
        _record_refusal(exc, request, problem["detail"])
    set_rollback()
    return problem_response(
        request=request._request if request is not None else None,
        headers=headers,
        **problem,
    )


def _record_refusal(exc, request, reason: str) -> None:
    """A refused write goes to the security log, naming the person or the key."""
    if request.method in SAFE_METHODS:
        return
    api_key = request.auth if isinstance(request.auth, ApiKey) else None
    api_key = api_key or getattr(exc, "api_key", None)
    user = request.user
    security_event_record(
        kind=SecurityEventKind.PERMISSION_DENIED,
        request=request._request,
        user=user if user.is_authenticated else None,
        username=principal(api_key) if api_key else "",
        reason=reason,
    )
