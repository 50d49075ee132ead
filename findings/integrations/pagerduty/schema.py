"""The PagerDuty v3 webhook payload as the OpenAPI schema documents it;
``parser.py`` is what checks it."""

from rest_framework import serializers


class PagerDutyEventSerializer(serializers.Serializer):
    id = serializers.CharField()
    event_type = serializers.CharField(help_text="e.g. incident.triggered")
    resource_type = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    agent = serializers.JSONField(allow_null=True)
    client = serializers.JSONField(allow_null=True)
    data = serializers.JSONField(help_text="The incident object for incident.*.")


class PagerDutyWebhookSerializer(serializers.Serializer):
    """A PagerDuty v3 webhook: one event per POST."""

    event = PagerDutyEventSerializer()
