"""What every integration's webhook shares: API-key authentication with the
``alerts:write`` scope, the per-key rate limit, and the answer's shape."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from findings.auth import ApiKeyAuthentication, HasAlertsWriteScope
from findings.machine import MachineApi, errors


class IntegrationResponseSerializer(serializers.Serializer):
    status = serializers.CharField(help_text='"ok", or "ignored" (202).')
    incident_id = serializers.IntegerField(allow_null=True)
    incident_opened = serializers.BooleanField()
    findings = serializers.ListField(child=serializers.IntegerField())
    detail = serializers.CharField(required=False)


class IntegrationViewSet(MachineApi, viewsets.ViewSet):
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
    **errors(400, 401, 403, 413, 415, 429),
    422: OpenApiResponse(
        description="Unknown key and the team does not allow automatic incidents.",
    ),
}
