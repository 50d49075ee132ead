"""The Alertmanager webhook payload (version 4) as the OpenAPI schema documents it;
``parser.py`` is what checks it."""

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

ALERT_STATUSES = [("firing", "firing"), ("resolved", "resolved")]


class AlertmanagerAlertSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ALERT_STATUSES, required=False)
    labels = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False
    )
    annotations = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False
    )
    startsAt = serializers.DateTimeField(required=False)  # noqa: N815 - the tool's
    endsAt = serializers.DateTimeField(required=False)  # noqa: N815
    generatorURL = serializers.CharField(required=False, allow_blank=True)  # noqa: N815
    fingerprint = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Alertmanager's; derived from the labels if absent.",
    )


class AlertmanagerWebhookSerializer(serializers.Serializer):
    """Alertmanager's webhook_config payload, version 4, exactly as sent."""

    version = serializers.CharField(required=False, allow_blank=True)
    groupKey = serializers.CharField()  # noqa: N815
    truncatedAlerts = serializers.IntegerField(  # noqa: N815
        min_value=0, max_value=2**63 - 1, required=False
    )
    status = serializers.ChoiceField(choices=ALERT_STATUSES)
    receiver = serializers.CharField(required=False, allow_blank=True)
    groupLabels = serializers.DictField(  # noqa: N815
        child=serializers.CharField(allow_blank=True), required=False
    )
    commonLabels = serializers.DictField(  # noqa: N815
        child=serializers.CharField(allow_blank=True), required=False
    )
    commonAnnotations = serializers.DictField(  # noqa: N815
        child=serializers.CharField(allow_blank=True), required=False
    )
    externalURL = serializers.CharField(required=False, allow_blank=True)  # noqa: N815
    alerts = AlertmanagerAlertSerializer(many=True)


class AlertmanagerWebhookSchema(OpenApiSerializerExtension):
    """A webhook carries at least one alert."""

    target_class = AlertmanagerWebhookSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["properties"]["alerts"]["minItems"] = 1
        # Not blank: at least one character other than white space.
        schema["properties"]["groupKey"]["pattern"] = r"\S"
        return schema
