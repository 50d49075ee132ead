"""The Robusta webhook sink: ``POST /api/v1/integrations/robusta/``."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema

from findings.integrations.base import (
    INTEGRATION_ERRORS,
    IntegrationResponseSerializer,
    IntegrationViewSet,
)
from findings.integrations.robusta.ingest import robusta_ingest
from findings.integrations.robusta.parser import parse_finding
from findings.integrations.robusta.schema import RobustaFindingSerializer
from findings.machine import read_json


class RobustaWebhookViewSet(IntegrationViewSet):
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
        parsed = parse_finding(data, body_size=len(body), received_at=timezone.now())
        incident, result = robusta_ingest(api_key=request.auth, parsed=parsed)
        detail = (
            "Robusta cut this finding at its size_limit; missing: "
            + ", ".join(parsed.missing_keys)
            + ". Raise size_limit in the webhook sink."
            if parsed.truncated
            else ""
        )
        return self._answer(incident, result, detail=detail)


# What findings.integrations.webhook_routes routes.
WebhookViewSet = RobustaWebhookViewSet
