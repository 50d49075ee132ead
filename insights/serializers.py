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
            "status",
            "origin",
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
