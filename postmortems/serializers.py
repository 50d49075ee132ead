"""API serializers for teams, services, incidents and postmortems: explicit fields.

Writes go through the services (``postmortems.services``) so the API keeps the
same rules as the pages: timestamps in order, history with who and why.
"""

from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, serializers
from rest_framework.settings import api_settings

from postmortems.metrics import incident_metrics
from postmortems.models import (
    LIFECYCLE_FIELDS,
    Incident,
    Postmortem,
    PostmortemTemplate,
    Service,
    Team,
)
from postmortems.services import incidents as incident_services
from postmortems.services import postmortems as postmortem_services
from postmortems.services.incidents import REASON_MAX_LENGTH
from postmortems.services.postmortems import PostmortemContent


class SlugLookupField(serializers.SlugRelatedField):
    """A slug (or username) lookup that refuses NUL characters up front: PostgreSQL
    cannot compare text holding them, so the query would fail with a 500."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


def _person_field(**kwargs):
    return SlugLookupField(
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        **kwargs,
    )


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ("id", "slug", "name", "description", "allow_auto_incidents")


class ServiceSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Service
        fields = ("id", "slug", "name", "team", "description")


class MetricSerializer(serializers.Serializer):
    abbr = serializers.CharField()
    name = serializers.CharField()
    seconds = serializers.IntegerField(allow_null=True)
    formula = serializers.CharField()


class IncidentSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    team = SlugLookupField(slug_field="slug", queryset=Team.objects.all())
    services = SlugLookupField(
        slug_field="slug", many=True, queryset=Service.objects.all(), required=False
    )
    commander = _person_field(allow_null=True, required=False)
    comms_lead = _person_field(allow_null=True, required=False)
    ops_lead = _person_field(allow_null=True, required=False)
    scribe = _person_field(allow_null=True, required=False)
    metrics = serializers.SerializerMethodField()
    postmortem = serializers.SerializerMethodField()
    has_postmortem = serializers.SerializerMethodField()
    html_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Incident
        fields = (
            "id",
            "reference",
            "title",
            "severity",
            "status",
            "team",
            "services",
            "commander",
            "comms_lead",
            "ops_lead",
            "scribe",
            *LIFECYCLE_FIELDS,
            "near_miss",
            "metrics",
            "postmortem",
            "has_postmortem",
            "html_url",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("created_at", "updated_at")

    @property
    def _user(self):
        return self.context["request"].user

    def get_metrics(self, incident: Incident) -> list[dict]:
        return MetricSerializer(incident_metrics(incident.lifecycle), many=True).data

    def get_postmortem(self, incident: Incident) -> int | None:
        """The postmortem's id when the user may read it."""
        if not getattr(incident, "postmortem_visible", False):
            return None
        return incident.postmortem.pk

    def get_has_postmortem(self, incident: Incident) -> bool:
        """Whether the incident has a postmortem at all: true with a null
        ``postmortem`` is another team's private draft, not "none yet"."""
        found = getattr(incident, "has_postmortem", None)
        if found is None:
            found = Postmortem.objects.filter(incident=incident).exists()
        return bool(found)

    def create(self, validated_data: dict) -> Incident:
        with api_errors():
            return incident_services.incident_create(actor=self._user, **validated_data)

    def update(self, instance: Incident, validated_data: dict) -> Incident:
        services = validated_data.pop("services", None)
        with api_errors():
            return incident_services.incident_update(
                incident=instance,
                actor=self._user,
                services=services,
                **validated_data,
            )


@contextmanager
def api_errors():
    """A service's ValidationError becomes the API's 400 with the same messages."""
    try:
        yield
    except DjangoValidationError as exc:
        # Always an object, as the schema documents: an error of the whole
        # request goes under DRF's non-field key.
        detail = (
            exc.message_dict
            if hasattr(exc, "error_dict")
            else {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
        )
        # "rule": well formed but refused by a rule (the API answers 422).
        raise serializers.ValidationError(detail, code="rule") from exc


class TimestampCorrectionSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=LIFECYCLE_FIELDS)
    value = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)


class PostmortemSerializer(serializers.ModelSerializer):
    incident = serializers.PrimaryKeyRelatedField(queryset=Incident.objects.all())
    title = serializers.CharField(read_only=True)
    reference = serializers.CharField(source="incident.reference", read_only=True)
    severity = serializers.CharField(source="incident.severity", read_only=True)
    team = serializers.SlugRelatedField(
        source="incident.team", slug_field="slug", read_only=True
    )
    services = serializers.SlugRelatedField(
        source="incident.services", slug_field="slug", many=True, read_only=True
    )
    template = SlugLookupField(
        slug_field="slug", queryset=PostmortemTemplate.objects.all()
    )
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reviewers = _person_field(many=True, required=False)
    sections = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
    )
    html_url = serializers.CharField(source="get_absolute_url", read_only=True)
    draft = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="Start from what Hindsight recorded (the page's box): the "
        "sections, factors and investigation log are drafted from the incident's "
        "timeline, reviewed findings and similar past incidents, each drafted part "
        "marked until edited or accepted. Only when the postmortem starts, and "
        "only with no text of your own.",
    )
    drafted = serializers.SerializerMethodField(
        help_text="Keys of the sections still exactly as drafted."
    )

    class Meta:
        model = Postmortem
        fields = (
            "id",
            "incident",
            "reference",
            "title",
            "severity",
            "team",
            "services",
            "template",
            "status",
            "author",
            "reviewers",
            "sections",
            "five_whys",
            "impact_users_affected",
            "impact_revenue_usd",
            "impact_error_budget_pct",
            "impact_regions",
            "version",
            "published_at",
            "html_url",
            "created_at",
            "updated_at",
            "draft",
            "drafted",
        )
        read_only_fields = (
            "status",
            "version",
            "published_at",
            "created_at",
            "updated_at",
        )

    @property
    def _user(self):
        return self.context["request"].user

    def validate_incident(self, incident: Incident) -> Incident:
        # Who may start one, and only one per incident, is postmortem_create's rule.
        if self.instance is not None and incident.pk != self.instance.incident_id:
            raise serializers.ValidationError("A postmortem cannot move.", code="rule")
        return incident

    def validate_draft(self, value: bool) -> bool:
        if self.instance is not None and value:
            raise serializers.ValidationError(
                "A first draft is chosen when the postmortem starts; this one has "
                "started. Edit its sections instead."
            )
        return value

    def get_drafted(self, postmortem: Postmortem) -> list[str]:
        return sorted(postmortem.drafted_keys)

    def validate_five_whys(self, value):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise serializers.ValidationError("A list of strings, one per why.")
        return value

    def validate(self, attrs: dict) -> dict:
        template = attrs.get("template") or getattr(self.instance, "template", None)
        if self.instance is not None and template != self.instance.template:
            raise serializers.ValidationError(
                {"template": "The template is chosen when the postmortem starts."},
                code="rule",
            )
        sections = attrs.get("sections")
        if template is not None and sections:
            unknown = sorted(set(sections) - set(template.section_keys))
            if unknown:
                raise serializers.ValidationError(
                    {
                        "sections": f"Not sections of “{template.name}”: "
                        + ", ".join(unknown)
                    },
                    code="rule",
                )
        return attrs

    def _content(self, postmortem: Postmortem, data: dict) -> PostmortemContent:
        """The service's content: what the body gives over what is stored.

        Sections merge by key, so a body naming one section leaves the others.
        """
        return PostmortemContent(
            sections={**(postmortem.sections or {}), **data.get("sections", {})},
            five_whys=data.get("five_whys", postmortem.five_whys or []),
            impact_users_affected=data.get(
                "impact_users_affected", postmortem.impact_users_affected
            ),
            impact_revenue_usd=data.get(
                "impact_revenue_usd", postmortem.impact_revenue_usd
            ),
            impact_error_budget_pct=data.get(
                "impact_error_budget_pct", postmortem.impact_error_budget_pct
            ),
            impact_regions=data.get("impact_regions", postmortem.impact_regions or []),
            reviewers=data.get("reviewers"),
        )

    def create(self, validated_data: dict) -> Postmortem:
        reviewers = validated_data.pop("reviewers", [])
        with api_errors():
            postmortem = postmortem_services.postmortem_create(
                incident=validated_data["incident"],
                template=validated_data["template"],
                author=self._user,
                reviewers=reviewers,
                content=self._content(Postmortem(), validated_data),
                draft=validated_data.get("draft", False),
            )
        # The draft was written to the row; the instance that was saved first
        # does not know its drafted sections.
        postmortem.refresh_from_db()
        return postmortem

    def update(self, instance: Postmortem, validated_data: dict) -> Postmortem:
        # Optimistic locking: the version the client last saw (If-Match); if
        # someone saved in between, nothing is overwritten.
        expected = self.context.get("expected_version", instance.version)
        validated_data.pop("incident", None)
        validated_data.pop("template", None)
        validated_data.pop("draft", None)
        try:
            with api_errors():
                return postmortem_services.postmortem_update(
                    postmortem=instance,
                    actor=self._user,
                    base_version=expected,
                    content=self._content(instance, validated_data),
                )
        except postmortem_services.PostmortemConflict as exc:
            raise PreconditionFailed() from exc


class WorkflowSerializer(serializers.Serializer):
    """The body of a workflow step: an optional comment for the record."""

    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=10000, default=""
    )
    acknowledge_blame = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Submit: confirm you read the blameless-language warnings.",
    )


class PreconditionFailed(exceptions.APIException):
    status_code = 412
    default_detail = (
        "Someone saved this postmortem after the version you sent in If-Match. "
        "Fetch it again, reapply your change and retry."
    )
    default_code = "precondition_failed"
