"""The Alertmanager webhook: ``POST /api/v1/integrations/alertmanager/``."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema

from findings.integrations.alertmanager.ingest import alertmanager_ingest
from findings.integrations.alertmanager.parser import parse_webhook
from findings.integrations.alertmanager.schema import AlertmanagerWebhookSerializer
from findings.integrations.base import (
    INTEGRATION_ERRORS,
    IntegrationResponseSerializer,
    IntegrationViewSet,
)
from findings.machine import read_json


class AlertmanagerWebhookViewSet(IntegrationViewSet):
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
        group = parse_webhook(data, received_at=timezone.now())
        incident, result = alertmanager_ingest(api_key=request.auth, group=group)
        detail = (
            f"{group.truncated_alerts} alerts were left out by max_alerts."
            if group.truncated_alerts
            else ""
        )
        return self._answer(incident, result, detail=detail)


# What findings.integrations.webhook_routes routes.
WebhookViewSet = AlertmanagerWebhookViewSet
