"""The machine API's findings endpoint: list, retrieve, and send findings.

The alert integrations' webhooks are in ``findings/integrations/<name>/views.py``;
what both share (reading bodies, errors, throttling) is in ``findings.machine``.
"""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from findings import selectors, services, validation
from findings.auth import (
    ApiKeyAuthentication,
    CanReadFindings,
    HasFindingsWriteScope,
)
from findings.machine import (
    ApiError,
    MachineApi,
    errors,
    item_errors,
    read_json,
    request_hash,
)
from findings.models import Finding
from findings.serializers import (
    FindingBatchInputSerializer,
    FindingDetailSerializer,
    FindingIngestBatchResponseSerializer,
    FindingIngestSingleResponseSerializer,
    FindingInputSerializer,
    FindingSerializer,
)
from kb.authentication import SessionAuthentication


class FindingFilter(django_filters.FilterSet):
    # Bounded: an id past the database's integer range is a 400, not a crash.
    incident = django_filters.NumberFilter(
        field_name="incident_id", min_value=1, max_value=2**63 - 1, decimal_places=0
    )
    service = django_filters.CharFilter(field_name="service__slug")

    class Meta:
        model = Finding
        fields = ["incident", "analyzer", "analyzer_version", "source", "service"]


@extend_schema_view(
    list=extend_schema(
        summary="List findings",
        description="People see every finding; an API key (scope read) sees its "
        "team's.",
        responses={
            200: FindingSerializer(many=True),
            **errors(400, 401, 403, 429),
            404: OpenApiResponse(description="No such page of results."),
        },
    ),
    retrieve=extend_schema(
        summary="One finding, with its raw payload",
        responses={
            200: FindingDetailSerializer,
            **errors(401, 403, 429),
            404: OpenApiResponse(
                description="No such finding (or another team's).",
            ),
        },
    ),
)
class FindingViewSet(
    MachineApi,
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
        # An API key's request.user is its ApiKeyUser: visible_to reads its team.
        return selectors.finding_list(user=self.request.user)

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
            **errors(400, 401, 403, 413, 415, 429),
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
                # Not the documented shape: a 400. The documented shape breaking
                # only a rule between fields is a 422, as the services' are.
                status_code, code = (
                    (422, "unprocessable") if exc.rules_only else (400, "invalid")
                )
                raise ApiError(
                    status_code,
                    code,
                    str(exc),
                    errors=item_errors(exc, self.item_pointer),
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
            request_hash=request_hash(request, body),
            operation=operation,
        )
        response = Response(payload, status=code)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response
