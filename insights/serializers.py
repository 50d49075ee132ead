"""Insights API serializers: explicit fields, read-only views of rows."""

from rest_framework import serializers

from insights.models import FailureClass, InsightRun


class FailureClassSerializer(serializers.ModelSerializer):
    merged_into = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )

    class Meta:
        model = FailureClass
        fields = [
            "slug",
            "name",
            "description",
            "examples",
            "status",
            "origin",
            "axis",
            "terms",
            "merged_into",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class InsightRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = InsightRun
        fields = [
            "id",
            "kind",
            "status",
            "postmortem",
            "progress",
            "progress_note",
            "model_name",
            "params",
            "counts",
            "timings",
            "attempts",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class ClassMembershipSerializer(serializers.Serializer):
    """A postmortem's place in a class: confirmed, or inferred and how surely."""

    postmortem = serializers.IntegerField(read_only=True)
    failure_class = serializers.SlugField(read_only=True)
    class_name = serializers.CharField(read_only=True)
    confirmed = serializers.BooleanField(
        read_only=True, help_text="A person confirmed it; otherwise it is inferred."
    )
    confidence = serializers.FloatField(
        read_only=True, help_text="The classifier's confidence (1.0 when confirmed)."
    )
    counted = serializers.BooleanField(
        read_only=True,
        help_text="Counted on the report: confirmed, or inferred with a confidence "
        "of at least `threshold`.",
    )
    calibrated = serializers.BooleanField(
        read_only=True,
        help_text="The confidence is the calibrated classifier's probability; a "
        "similarity (clustering, a class description) is not, and never counts.",
    )
    source = serializers.CharField(read_only=True)
    threshold = serializers.FloatField(read_only=True)
    evidence = serializers.CharField(
        read_only=True, help_text="The statement that put the postmortem in the class."
    )
    statement_kind = serializers.CharField(read_only=True)
