"""The PagerDuty v3 webhook: ``POST /api/v1/integrations/pagerduty/``, signed."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from findings.auth import principal
from findings.integrations.base import (
    INTEGRATION_ERRORS,
    IntegrationResponseSerializer,
    IntegrationViewSet,
)
from findings.integrations.pagerduty.ingest import pagerduty_ingest
from findings.integrations.pagerduty.parser import parse_webhook, verify_signature
from findings.integrations.pagerduty.schema import PagerDutyWebhookSerializer
from findings.machine import ApiError, parse_json, read_body
from postmortems.audit import security_event_record
from postmortems.models import SecurityEventKind


class PagerDutyWebhookViewSet(IntegrationViewSet):
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
        event = parse_webhook(parse_json(body))
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
        incident, result = pagerduty_ingest(api_key=request.auth, event=event)
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
    if not verify_signature(body, header, secrets):
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


# What findings.integrations.webhook_routes routes.
WebhookViewSet = PagerDutyWebhookViewSet
