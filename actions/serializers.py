from django.contrib.auth import get_user_model
from rest_framework import serializers

from actions.models import ActionItem
from postmortems.models import Postmortem, Team
from postmortems.permissions import can_view_postmortem
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

    def validate_postmortem(self, postmortem):
        # A postmortem the user may not read does not exist for them; whether
        # they may hang an item off one they can read is the service's rule.
        user = self.context["request"].user
        if postmortem is not None and not can_view_postmortem(user, postmortem):
            raise serializers.ValidationError(
                "No such postmortem.", code="does_not_exist"
            )
        return postmortem
