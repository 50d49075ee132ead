"""The Robusta webhook sink's finding (format: json) as the OpenAPI schema documents
it; ``parser.py`` is what checks it."""

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers


class RobustaFindingSerializer(serializers.Serializer):
    """A Robusta finding from the webhook sink (format: json); keys past the sink's
    size_limit may be missing. It needs a title or an aggregation_key."""

    title = serializers.CharField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    cluster_name = serializers.CharField(required=False, allow_blank=True)
    severity = serializers.CharField(
        required=False, allow_blank=True, help_text="DEBUG/INFO/LOW/HIGH"
    )
    source = serializers.CharField(required=False, allow_blank=True)
    finding_type = serializers.CharField(required=False, allow_blank=True)
    aggregation_key = serializers.CharField(required=False, allow_blank=True)
    fingerprint = serializers.CharField(required=False, allow_blank=True)
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    id = serializers.CharField(required=False, allow_blank=True)
    service_key = serializers.CharField(required=False, allow_blank=True)
    subject = serializers.JSONField(required=False)
    links = serializers.JSONField(required=False)
    enrichments = serializers.JSONField(required=False)


class RobustaFindingSchema(OpenApiSerializerExtension):
    """A finding has a title or an aggregation_key with text in it."""

    target_class = RobustaFindingSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["anyOf"] = [
            {"required": [key], "properties": {key: {"pattern": r"\S"}}}
            for key in ("title", "aggregation_key")
        ]
        return schema
