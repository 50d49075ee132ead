"""The machine API: findings, and the Alertmanager, PagerDuty and Robusta webhooks.

Every error is JSON ``{"error": <code>, "detail": <message>, ...}``. Bodies are read
here, not by DRF's parsers: the PagerDuty signature covers the raw bytes, the
Idempotency-Key compares them, and the size limit is ours
(``KB_API_MAX_BODY_BYTES``) rather than Django's DATA_UPLOAD_MAX_MEMORY_SIZE, whose
RequestDataTooBig would surface as a bare 400.
"""

import hashlib
import logging
import re

import django_filters
from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.response import Response

from kb import safejson
from kb.authentication import SessionAuthentication
from kb.parsers import JSONParser
from kb.problems import ApiProblem as ApiError
from postmortems.audit import security_event_record
from postmortems.findings import selectors, services, validation
from postmortems.findings.auth import (
    ApiKeyAuthentication,
    ApiKeyRateThrottle,
    CanReadFindings,
    HasAlertsWriteScope,
    HasFindingsWriteScope,
    principal,
)
from postmortems.findings.integrations import alertmanager, pagerduty, robusta
from postmortems.findings.records import PayloadInvalid
from postmortems.findings.serializers import (
    AlertmanagerWebhookSerializer,
    FindingBatchInputSerializer,
    FindingDetailSerializer,
    FindingIngestBatchResponseSerializer,
    FindingIngestSingleResponseSerializer,
    FindingInputSerializer,
    FindingSerializer,
    IntegrationResponseSerializer,
    PagerDutyWebhookSerializer,
    RobustaFindingSerializer,
)
from postmortems.models import ApiKey, Finding, SecurityEventKind

logger = logging.getLogger(__name__)

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
            422, "unprocessable", str(exc), errors=_item_errors(exc, item_pointer)
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


def _item_errors(exc: validation.BatchInvalid, item_pointer: str) -> list[dict]:
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


def _request_hash(request, body: bytes) -> str:
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


def _errors(*codes: int, **more: OpenApiResponse) -> dict:
    return {**{code: ERRORS[code] for code in codes}, **more}


class FindingFilter(django_filters.FilterSet):
    # Bounded: an id past the database's integer range is a 400, not a crash.
    incident = django_filters.NumberFilter(
        field_name="incident_id", min_value=1, max_value=2**63 - 1, decimal_places=0
    )
    service = django_filters.CharFilter(field_name="service__slug")

    class Meta:
        model = Finding
        fields = ["incident", "analyzer", "analyzer_version", "source", "service"]


class _MachineApi:
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


@extend_schema_view(
    list=extend_schema(
        summary="List findings",
        description="People see every finding; an API key (scope read) sees its "
        "team's.",
        responses={
            200: FindingSerializer(many=True),
            **_errors(400, 401, 403, 429),
            404: OpenApiResponse(description="No such page of results."),
        },
    ),
    retrieve=extend_schema(
        summary="One finding, with its raw payload",
        responses={
            200: FindingDetailSerializer,
            **_errors(401, 403, 429),
            404: OpenApiResponse(
                description="No such finding (or another team's).",
            ),
        },
    ),
)
class FindingViewSet(
    _MachineApi,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    throttle_scope = "findings"
    serializer_class = FindingSerializer
    filterset_class = FindingFilter
    queryset = Finding.objects.none()  # for the schema; see get_queryset
    ordering_fields = ["first_seen_at", "id"]

    def get_queryset(self):
        auth = self.request.auth
        return selectors.finding_list(
            api_key=auth if isinstance(auth, ApiKey) else None
        )

    def get_serializer_class(self):
        if self.action == "retrieve":
            return FindingDetailSerializer
        return FindingSerializer

    def get_permissions(self):
        if self.action == "create":
            return [HasFindingsWriteScope()]
        return [CanReadFindings()]

    @extend_schema(
        summary="Send one finding or a batch of up to 1,000",
        description=(
            "Idempotent: the same dedupe key (analyzer + fingerprint) updates the "
            "finding and returns its id. A batch is atomic: if any item is invalid, "
            "the response lists per-item, per-field errors and nothing is written. "
            "An `Idempotency-Key` header replays the first response for the same "
            "body and refuses (422) a different body. Needs scope findings:write."
        ),
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="Any unique string (at most 255 chars), kept for 24 h.",
            )
        ],
        request=PolymorphicProxySerializer(
            component_name="FindingOrBatch",
            serializers=[FindingInputSerializer, FindingBatchInputSerializer],
            resource_type_field_name=None,
        ),
        responses={
            201: PolymorphicProxySerializer(
                component_name="FindingIngestResponse",
                serializers=[
                    FindingIngestSingleResponseSerializer,
                    FindingIngestBatchResponseSerializer,
                ],
                resource_type_field_name=None,
            ),
            200: OpenApiResponse(
                FindingIngestSingleResponseSerializer,
                description="Nothing new: every finding already existed and was "
                "updated (batches answer with the batch shape).",
            ),
            **_errors(400, 401, 403, 413, 415, 429),
            422: OpenApiResponse(
                description="An item names an unknown incident, service or parent, "
                "or the Idempotency-Key was used with a different body.",
            ),
        },
        examples=[
            OpenApiExample(
                "A chained finding",
                request_only=True,
                value={
                    "analyzer": "storage-probe",
                    "analyzer_version": "1.4.0",
                    "fingerprint": "orders-db-replica-lag-2026-05-01",
                    "incident_key": '{}:{alertname="HighErrorRate"}',
                    "incident_source": "alertmanager",
                    "service": "orders-db",
                    "severity": "high",
                    "title": "Replica lag above 30 s on orders-db-2",
                    "summary": "Reads served stale data while the replica caught up.",
                    "root_cause": {
                        "text": "Disk on orders-db-2 was full; WAL replay stalled.",
                        "failure_class": "capacity-exhaustion",
                        "confidence": 0.8,
                    },
                    "evidence": [
                        {
                            "kind": "metric",
                            "url": "https://grafana.example/d/db?var=orders-db-2",
                            "excerpt": "disk_used_ratio 0.999",
                        }
                    ],
                    "parent_dedupe_key": "api-tracer:checkout-5xx-2026-05-01",
                    "suggested_actions": [
                        {
                            "kind": "file_bug",
                            "title": "Alert on replica disk above 85%",
                            "target": "DATA",
                        }
                    ],
                },
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        body, data = read_json(request)
        try:
            items, is_batch = validation.unpack(data)
        except validation.BatchTooLarge as exc:
            raise ApiError(413, "batch_too_large", str(exc)) from None
        except ValueError as exc:
            raise ApiError(400, "wrong_type", str(exc)) from None
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and len(key) > 255:
            raise ApiError(
                400, "bad_request", "Idempotency-Key is longer than 255 characters."
            )

        if not is_batch:
            self.item_pointer = ""
        elif isinstance(data, dict):
            self.item_pointer = "/findings/{index}"

        def operation() -> tuple[int, dict]:
            try:
                records = validation.validate_findings(items)
            except validation.BatchInvalid as exc:
                # Not the documented shape: a 400 (the services' are 422s).
                raise ApiError(
                    400,
                    "invalid",
                    str(exc),
                    errors=_item_errors(exc, self.item_pointer),
                ) from None
            result = services.findings_ingest(api_key=request.auth, records=records)
            code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
            if not is_batch:
                item = result.findings[0]
                return code, {
                    "id": item.id,
                    "dedupe_key": item.dedupe_key,
                    "incident_id": item.incident_id,
                    "created": item.created,
                    "incidents_opened": result.incidents_opened,
                }
            return code, {
                "created": result.created,
                "updated": result.updated,
                "incidents_opened": result.incidents_opened,
                "findings": [
                    {
                        "index": f.index,
                        "id": f.id,
                        "dedupe_key": f.dedupe_key,
                        "incident_id": f.incident_id,
                        "created": f.created,
                    }
                    for f in result.findings
                ],
            }

        code, payload, replayed = services.idempotent_call(
            api_key=request.auth,
            key=key,
            request_hash=_request_hash(request, body),
            operation=operation,
        )
        response = Response(payload, status=code)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class _IntegrationViewSet(_MachineApi, viewsets.ViewSet):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasAlertsWriteScope]
    throttle_scope = "integrations"

    @staticmethod
    def _answer(incident, result, *, detail: str = "") -> Response:
        body = {
            "status": "ok",
            "incident_id": incident.pk,
            "incident_opened": bool(result.incidents_opened),
            "findings": result.finding_ids,
        }
        if detail:
            body["detail"] = detail
        return Response(body, status=status.HTTP_200_OK)


INTEGRATION_ERRORS = {
    **_errors(400, 401, 403, 413, 415, 429),
    422: OpenApiResponse(
        description="Unknown key and the team does not allow automatic incidents.",
    ),
}


class AlertmanagerWebhookViewSet(_IntegrationViewSet):
    @extend_schema(
        summary="Alertmanager webhook (version 4)",
        description=(
            "Point a webhook_config at this URL with http_config.authorization "
            "(type Bearer, credentials: an API key with scope alerts:write). A "
            "firing group opens or updates the incident keyed by groupKey; each "
            "alert becomes a finding keyed by its fingerprint (and startsAt); the "
            "timeline records first firing and resolution; a resolved group sets "
            "the incident's resolved time if it is unset."
        ),
        request=AlertmanagerWebhookSerializer,
        responses={200: IntegrationResponseSerializer, **INTEGRATION_ERRORS},
    )
    def create(self, request):
        _, data = read_json(request)
        group = alertmanager.parse_webhook(data, received_at=timezone.now())
        incident, result = services.alertmanager_ingest(
            api_key=request.auth, group=group
        )
        detail = (
            f"{group.truncated_alerts} alerts were left out by max_alerts."
            if group.truncated_alerts
            else ""
        )
        return self._answer(incident, result, detail=detail)


class PagerDutyWebhookViewSet(_IntegrationViewSet):
    @extend_schema(
        summary="PagerDuty v3 webhook",
        description=(
            "Add a v3 webhook subscription with this URL and a custom header "
            "`Authorization: Api-Key <key>` (scope alerts:write). Every delivery is "
            "checked against X-PagerDuty-Signature (HMAC-SHA256 of the raw body "
            "with a secret from KB_PAGERDUTY_WEBHOOK_SECRETS; several signatures "
            "are accepted during rotation). Triggered, acknowledged and resolved "
            "events set the incident's times whatever their order; replays are "
            "harmless. Events about other objects answer 202 and are ignored."
        ),
        parameters=[
            OpenApiParameter(
                "X-PagerDuty-Signature",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="v1=<hex HMAC-SHA256>[,v1=<hex>]",
            )
        ],
        request=PagerDutyWebhookSerializer,
        responses={
            200: IntegrationResponseSerializer,
            202: IntegrationResponseSerializer,
            **INTEGRATION_ERRORS,
            401: OpenApiResponse(
                description="Missing/invalid API key, or a missing or wrong "
                "X-PagerDuty-Signature.",
            ),
        },
    )
    def create(self, request):
        body = read_body(request)
        _check_signature(request, body)
        event = pagerduty.parse_webhook(parse_json(body))
        if event.incident is None:
            return Response(
                {
                    "status": "ignored",
                    "incident_id": None,
                    "incident_opened": False,
                    "findings": [],
                    "detail": f"{event.event_type} events do not change incidents.",
                },
                status=status.HTTP_202_ACCEPTED,
            )
        incident, result = services.pagerduty_ingest(api_key=request.auth, event=event)
        return self._answer(incident, result)


# A 401 names the credentials it wants: the key and the delivery's signature.
SIGNATURE_CHALLENGE = {
    "WWW-Authenticate": 'Api-Key realm="hindsight", '
    'PagerDuty-Signature realm="hindsight", header="X-PagerDuty-Signature"'
}


def _check_signature(request, body: bytes) -> None:
    """X-PagerDuty-Signature must match the raw body for a configured secret."""
    secrets = getattr(settings, "KB_PAGERDUTY_WEBHOOK_SECRETS", [])
    header = request.headers.get("X-PagerDuty-Signature")
    if not secrets:
        raise ApiError(
            401,
            "signature_not_configured",
            "No PagerDuty webhook secret is configured "
            "(KB_PAGERDUTY_WEBHOOK_SECRETS); every delivery is refused.",
            headers=SIGNATURE_CHALLENGE,
        )
    if not header:
        _signature_rejected(request, "signature_missing")
        raise ApiError(
            401,
            "signature_missing",
            "X-PagerDuty-Signature is missing.",
            headers=SIGNATURE_CHALLENGE,
        )
    if not pagerduty.verify_signature(body, header, secrets):
        _signature_rejected(request, "signature_mismatch")
        raise ApiError(
            401,
            "signature_mismatch",
            "X-PagerDuty-Signature does not match the body for any configured secret.",
            headers=SIGNATURE_CHALLENGE,
        )


def _signature_rejected(request, reason: str) -> None:
    security_event_record(
        kind=SecurityEventKind.WEBHOOK_SIGNATURE_REJECTED,
        request=request,
        username=principal(request.auth),
        source="pagerduty",
        reason=reason,
    )


class RobustaWebhookViewSet(_IntegrationViewSet):
    @extend_schema(
        summary="Robusta webhook sink (format: json)",
        description=(
            "Configure a Robusta webhook sink with format json and "
            "`authorization: Api-Key <key>` (scope alerts:write). A finding "
            "triggered by an Alertmanager alert we already hold joins that alert's "
            "incident as its child; otherwise it opens or updates an incident. A "
            "finding cut by the sink's size_limit (4096 bytes by default) is "
            "accepted and flagged, with the missing keys listed."
        ),
        request=RobustaFindingSerializer,
        responses={200: IntegrationResponseSerializer, **INTEGRATION_ERRORS},
    )
    def create(self, request):
        body, data = read_json(request)
        parsed = robusta.parse_finding(
            data, body_size=len(body), received_at=timezone.now()
        )
        incident, result = services.robusta_ingest(api_key=request.auth, parsed=parsed)
        detail = (
            "Robusta cut this finding at its size_limit; missing: "
            + ", ".join(parsed.missing_keys)
            + ". Raise size_limit in the webhook sink."
            if parsed.truncated
            else ""
        )
        return self._answer(incident, result, detail=detail)
