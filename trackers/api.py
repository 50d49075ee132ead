"""Tracker webhooks: one endpoint per provider, signed, writing nothing when bad.

The body is read raw (the signature covers the bytes). The answers:
401 missing or wrong signature (or no secret configured), 400 malformed body or
an event Hindsight does not handle, 404 an issue no item is linked to, 413 too
large, 415 a body that is not JSON (a GitHub webhook set to form encoding); 200
with what happened otherwise.
"""

import logging

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from trackers import services
from trackers.providers import PROVIDERS, get_provider
from trackers.providers.base import WebhookRejected

logger = logging.getLogger(__name__)


class WebhookError(exceptions.APIException):
    def __init__(self, status_code: int, code: str, detail: str):
        self.status_code = status_code
        super().__init__(detail=detail, code=code)


class WebhookResultSerializer(serializers.Serializer):
    outcome = serializers.CharField()


class TrackerWebhookView(APIView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Issue tracker webhook (Jira, GitHub, Linear)",
        description=(
            "Jira: X-Hub-Signature: sha256=<hex>; GitHub: X-Hub-Signature-256: "
            "sha256=<hex> and X-GitHub-Event: issues; Linear: Linear-Signature: "
            "<hex>. Each is HMAC-SHA256 of the raw body with the provider's "
            "KB_*_WEBHOOK_SECRET. See docs/integrations.md."
        ),
        request=OpenApiTypes.OBJECT,
        responses={
            200: WebhookResultSerializer,
            400: OpenApiResponse(description="Malformed body or unhandled event."),
            401: OpenApiResponse(description="Missing or wrong signature."),
            404: OpenApiResponse(description="No action item follows this issue."),
            413: OpenApiResponse(description="Body too large."),
            415: OpenApiResponse(description="The body is not JSON."),
        },
    )
    def post(self, request, provider: str):
        if provider not in PROVIDERS:
            raise WebhookError(404, "unknown_provider", "No such tracker.")
        limit = getattr(settings, "KB_API_MAX_BODY_BYTES", 10 * 1024 * 1024)
        if _content_length(request) > limit:
            raise WebhookError(413, "too_large", "The body is too large.")
        body = request.body
        headers = request.headers  # case-insensitive, as HTTP headers are
        tracker = get_provider(provider)
        if not tracker.verify_signature(body, headers):
            logger.warning("Refused a %s webhook: missing or wrong signature", provider)
            raise WebhookError(
                401,
                "bad_signature",
                f"Missing or wrong {tracker.signature_header} (or no "
                f"KB_{provider.upper()}_WEBHOOK_SECRET on this server).",
            )
        media_type = (request.content_type or "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise WebhookError(
                415,
                "unsupported_media_type",
                f'Unsupported media type "{media_type}": send the webhook as '
                "application/json (in GitHub, Content type: application/json).",
            )
        try:
            event = tracker.parse_webhook(body, headers)
            outcome = services.tracker_webhook_apply(
                provider_name=provider, event=event
            )
        except WebhookRejected as exc:
            raise WebhookError(exc.status_code, exc.code, exc.detail) from None
        except services.UnknownIssue as exc:
            raise WebhookError(
                404, "unknown_issue", f"No action item is linked to {exc}."
            ) from None
        return Response({"outcome": outcome})


def _content_length(request) -> int:
    """The declared body size; a header that is not a size is the client's error."""
    raw = (request.META.get("CONTENT_LENGTH") or "0").strip()
    if not raw.isdigit():
        raise WebhookError(
            400, "bad_content_length", f"Content-Length {raw!r} is not a size."
        )
    return int(raw)
