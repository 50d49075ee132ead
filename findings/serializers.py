"""Serializers for findings: output for the read API, and the documented shapes of
what the ingestion endpoints accept and answer (the OpenAPI schema).

Ingestion itself validates with ``validation.py`` (speed; see its docstring) and the
integration parsers; the input serializers here describe the same fields.
"""

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from findings import validation
from findings.models import (
    EvidenceKind,
    Finding,
    FindingSeverity,
    FindingSource,
    SuggestionCategory,
    SuggestionKind,
)

# -- Read API -----------------------------------------------------------------------


class FindingRootCauseSerializer(serializers.Serializer):
    text = serializers.CharField()
    failure_class = serializers.CharField(allow_blank=True)
    confidence = serializers.FloatField(allow_null=True)
    verdict = serializers.CharField(allow_blank=True)


class FindingSerializer(serializers.ModelSerializer):
    incident_id = serializers.IntegerField(read_only=True)
    # A finding about no known service has none.
    service = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    parent_id = serializers.IntegerField(read_only=True, allow_null=True)
    root_cause = serializers.SerializerMethodField()

    class Meta:
        model = Finding
        fields = [
            "id",
            "dedupe_key",
            "source",
            "analyzer",
            "analyzer_version",
            "fingerprint",
            "incident_id",
            "service",
            "severity",
            "title",
            "summary",
            "root_cause",
            "evidence",
            "suggested_actions",
            "started_at",
            "ended_at",
            "parent_id",
            "parent_key",
            "first_seen_at",
            "last_seen_at",
        ]
        read_only_fields = fields

    def get_root_cause(self, finding: Finding) -> FindingRootCauseSerializer:
        return {
            "text": finding.root_cause,
            "failure_class": finding.root_cause_class,
            "confidence": finding.root_cause_confidence,
            "verdict": finding.verdict,
        }


class FindingDetailSerializer(FindingSerializer):
    class Meta(FindingSerializer.Meta):
        fields = [*FindingSerializer.Meta.fields, "meta", "raw"]
        read_only_fields = fields


# -- Native ingestion (documentation of validation.py) -----------------------------


class RootCauseInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=20000)
    failure_class = serializers.SlugField(max_length=64, required=False)
    confidence = serializers.FloatField(min_value=0, max_value=1, required=False)


class EvidenceInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EvidenceKind.choices)
    title = serializers.CharField(max_length=200, required=False)
    url = serializers.URLField(
        max_length=2000, required=False, help_text="http or https only."
    )
    excerpt = serializers.CharField(max_length=10000, required=False)
    data = serializers.JSONField(required=False, help_text="Free JSON.")


class SuggestedActionInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SuggestionKind.choices)
    title = serializers.CharField(max_length=200)
    target = serializers.CharField(
        max_length=500,
        required=False,
        help_text="What to act on: a commit, a config key, a bug tracker project.",
    )
    category = serializers.ChoiceField(
        choices=SuggestionCategory.choices,
        required=False,
        help_text="Default: mitigation for reverts and rollbacks, else prevention.",
    )


class FindingInputSerializer(serializers.Serializer):
    """One finding. Unknown extra fields are accepted and kept in the raw payload."""

    analyzer = serializers.CharField(max_length=100)
    analyzer_version = serializers.CharField(max_length=50, required=False)
    fingerprint = serializers.CharField(
        max_length=200,
        help_text="Stable per finding; analyzer + fingerprint is the dedupe key.",
    )
    incident_id = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="The incident, by id; or use incident_key.",
    )
    incident_key = serializers.CharField(
        max_length=500,
        required=False,
        help_text="An outside key (e.g. an Alertmanager groupKey). Unknown keys open "
        "a new incident when the API key's team allows it.",
    )
    incident_source = serializers.ChoiceField(
        choices=FindingSource.choices,
        required=False,
        help_text='Where incident_key comes from (default "api").',
    )
    service = serializers.SlugField(max_length=50, required=False)
    severity = serializers.ChoiceField(choices=FindingSeverity.choices, required=False)
    title = serializers.CharField(max_length=300)
    summary = serializers.CharField(max_length=20000, required=False)
    root_cause = RootCauseInputSerializer(required=False)
    evidence = serializers.ListField(
        child=EvidenceInputSerializer(),
        required=False,
        max_length=validation.MAX_EVIDENCE,
    )
    started_at = serializers.DateTimeField(required=False)
    ended_at = serializers.DateTimeField(required=False)
    parent_id = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1
    )
    parent_dedupe_key = serializers.CharField(
        max_length=340,
        required=False,
        help_text="The parent finding's dedupe key (analyzer:fingerprint); it may "
        "arrive later.",
    )
    suggested_actions = serializers.ListField(
        child=SuggestedActionInputSerializer(),
        required=False,
        max_length=validation.MAX_ACTIONS,
    )


class FindingBatchInputSerializer(serializers.Serializer):
    findings = serializers.ListField(
        child=FindingInputSerializer(), min_length=1, max_length=validation.MAX_BATCH
    )


class IngestedFindingSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    id = serializers.IntegerField()
    dedupe_key = serializers.CharField()
    incident_id = serializers.IntegerField()
    created = serializers.BooleanField()


class FindingIngestSingleResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    dedupe_key = serializers.CharField()
    incident_id = serializers.IntegerField()
    created = serializers.BooleanField()
    incidents_opened = serializers.ListField(child=serializers.IntegerField())


class FindingIngestBatchResponseSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    incidents_opened = serializers.ListField(child=serializers.IntegerField())
    findings = IngestedFindingSerializer(many=True)


# -- What the schema says beyond the fields (validation.py checks the same) ------


class FindingInputSchema(OpenApiSerializerExtension):
    """A finding names its incident by incident_id or by incident_key, not both,
    and its parent by parent_id or parent_dedupe_key, not both."""

    target_class = FindingInputSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["oneOf"] = [
            {"required": ["incident_id"]},
            {"required": ["incident_key"]},
        ]
        # The parent by id or by dedupe key, not both.
        schema["not"] = {"required": ["parent_id", "parent_dedupe_key"]}
        # Text is stripped: what is required needs a character that is not blank.
        for name in ("analyzer", "fingerprint", "title", "incident_key"):
            schema["properties"][name]["pattern"] = r"\S"
        return schema


class RootCauseInputSchema(OpenApiSerializerExtension):
    """A root cause's text is stripped and required: it needs a character that is
    not blank (validation.py)."""

    target_class = RootCauseInputSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["properties"]["text"]["pattern"] = r"\S"
        return schema
