from django.contrib.auth import get_user_model
from rest_framework import serializers

from actions.models import ActionItem
from postmortems.models import Postmortem, Team
from postmortems.serializers import SlugLookupField


class ActionItemSerializer(serializers.ModelSerializer):
    team = SlugLookupField(slug_field="slug", queryset=Team.objects.all())
    owner = SlugLookupField(
        slug_field="username",
        queryset=get_user_model().objects.all(),
        required=False,
        allow_null=True,
    )
    postmortem = serializers.PrimaryKeyRelatedField(
        queryset=Postmortem.objects.all(), required=False, allow_null=True
    )
    due_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Defaults from the priority's due policy when left out.",
    )
    is_overdue = serializers.BooleanField(read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "url",
            "title",
            "description",
            "category",
            "priority",
            "status",
            "status_reason",
            "verification_note",
            "team",
            "owner",
            "postmortem",
            "due_date",
            "is_overdue",
            "completed_at",
            "tracker_provider",
            "tracker_key",
            "tracker_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["completed_at", "created_at", "updated_at"]

    def get_url(self, obj) -> str:
        return obj.get_absolute_url()

    def validate(self, attrs):
        # The same rules as the pages; the service checks them again.
        instance = self.instance
        status = attrs.get("status", instance.status if instance else "open")
        reason = attrs.get("status_reason", instance.status_reason if instance else "")
        note = attrs.get(
            "verification_note", instance.verification_note if instance else ""
        )
        if status in ("blocked", "wont_do") and not (reason or "").strip():
            raise serializers.ValidationError(
                {"status_reason": "Required when the status is blocked or won't do."},
                code="rule",
            )
        if status == "done" and not (note or "").strip():
            raise serializers.ValidationError(
                {"verification_note": "Required when the status is done."},
                code="rule",
            )
        return attrs
