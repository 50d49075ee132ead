"""Forms of the incident pages: declare/edit, timeline entries, corrections.

Times are entered and shown in the viewer's time zone (activated by
``kb.middleware.UserTimezoneMiddleware``); Django converts them to UTC.
"""

from collections.abc import Iterable

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from postmortems.metrics import LIFECYCLE_LABELS
from postmortems.models import (
    LIFECYCLE_FIELDS,
    SEVERITY_DEFINITIONS,
    Incident,
    Service,
    Team,
    TimelineEntry,
)
from postmortems.permissions import is_admin, team_ids
from postmortems.services.incidents import REASON_MAX_LENGTH

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.DateTimeInput):
    """The browser's date-and-time picker, to the minute."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs={"step": 60, **(attrs or {})}, format=DATETIME_FORMAT)


class MarkInvalidMixin:
    """Flag fields with errors as ``aria-invalid`` so Pico draws them in red."""

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-invalid"] = "true"


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        full_name = user.get_full_name()
        return f"{full_name} ({user.username})" if full_name else user.username


def people():
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .order_by("first_name", "last_name", "username")
    )


def _keep_seconds(value, original):
    """The picker has minute precision: an unchanged minute keeps its seconds."""
    if value is None or original is None:
        return value
    if value == original.replace(second=0, microsecond=0):
        return original
    return value


class IncidentForm(MarkInvalidMixin, forms.ModelForm):
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.select_related("team").order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Every service whose users noticed.",
    )

    class Meta:
        model = Incident
        fields = (
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
        )
        widgets = {
            "severity": forms.RadioSelect,
            **{name: LocalDateTimeInput for name in LIFECYCLE_FIELDS},
        }
        field_classes = {
            "commander": PersonChoiceField,
            "comms_lead": PersonChoiceField,
            "ops_lead": PersonChoiceField,
            "scribe": PersonChoiceField,
        }
        labels = {
            "title": "What is happening?",
            "started_at": "Started",
            "detected_at": "Detected",
            "acknowledged_at": "Acknowledged",
            "mitigated_at": "Mitigated",
            "resolved_at": "Resolved",
            "near_miss": "Near miss: no customer impact",
        }
        help_texts = {
            "title": "A short description users would recognise, e.g. "
            "“Checkout returns 502 for card payments”.",
            "started_at": "When impact began.",
            "detected_at": "When an alert fired or someone noticed.",
            "acknowledged_at": "When a responder took it.",
            "mitigated_at": "When users stopped being affected.",
            "resolved_at": "When it was over for good.",
        }

    def __init__(self, *args, user, locked: Iterable[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.locked = set(locked)
        self.fields["severity"].choices = [
            choice for choice in self.fields["severity"].choices if choice[0]
        ]
        teams = Team.objects.order_by("name")
        if not is_admin(user):
            teams = teams.filter(pk__in=team_ids(user))
        self.fields["team"].queryset = teams
        if teams.count() == 1 and not self.instance.pk:
            self.fields["team"].initial = teams.first()
        for name in ("commander", "comms_lead", "ops_lead", "scribe"):
            self.fields[name].queryset = people()
            self.fields[name].empty_label = "Nobody yet"
        for name in sorted(self.locked):
            # Shown read-only; incident_update refuses a change (a crafted post).
            self.fields[name].widget.attrs["readonly"] = True
            self.fields[name].help_text = (
                "Locked: the postmortem is approved. A reviewer can correct it "
                "with a reason on the incident page."
            )

    def show_locked_as_recorded(self) -> None:
        """After a refusal, show locked fields with their recorded times again:
        they are read-only, so a refused value would otherwise stick."""
        if not self.locked:
            return
        self.data = self.data.copy()
        for name in self.locked:
            recorded = self.initial.get(name)
            if recorded is not None:
                self.data[name] = timezone.localtime(recorded).strftime(DATETIME_FORMAT)

    @property
    def severity_options(self) -> list[dict]:
        """Each severity radio with its documented definition, for the template."""
        return [
            {"radio": radio, "definition": SEVERITY_DEFINITIONS[radio.data["value"]]}
            for radio in self["severity"]
        ]

    @property
    def lifecycle_fields(self) -> list:
        return [self[name] for name in LIFECYCLE_FIELDS]

    @property
    def role_fields(self) -> list:
        return [
            self[name] for name in ("commander", "comms_lead", "ops_lead", "scribe")
        ]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            for name in LIFECYCLE_FIELDS:
                if name in cleaned:
                    cleaned[name] = _keep_seconds(
                        cleaned[name], getattr(self.instance, name)
                    )
        return cleaned


class TimelineEntryForm(MarkInvalidMixin, forms.ModelForm):
    class Meta:
        model = TimelineEntry
        fields = ("occurred_at", "kind", "text", "author")
        widgets = {
            "occurred_at": LocalDateTimeInput,
            "text": forms.Textarea(
                attrs={"rows": 2, "placeholder": "What happened, in one or two lines"}
            ),
        }
        field_classes = {"author": PersonChoiceField}
        labels = {"occurred_at": "Time", "text": "What happened"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["author"].queryset = people()
        self.fields["author"].empty_label = "—"
        self.fields["author"].required = False

    def clean_occurred_at(self):
        value = self.cleaned_data["occurred_at"]
        if self.instance.pk:
            value = _keep_seconds(value, self.instance.occurred_at)
        return value

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError("Say what happened.")
        return text


class TimestampCorrectionForm(MarkInvalidMixin, forms.Form):
    field = forms.ChoiceField(
        label="Timestamp",
        choices=[
            (name, LIFECYCLE_LABELS[name].capitalize()) for name in LIFECYCLE_FIELDS
        ],
    )
    value = forms.DateTimeField(
        label="Correct time",
        required=False,
        widget=LocalDateTimeInput,
        help_text="Leave empty to clear it (not allowed for Started).",
    )
    reason = forms.CharField(
        label="Why",
        max_length=REASON_MAX_LENGTH,
        help_text="Required and recorded, e.g. “pager log shows 10:12, not 10:21”.",
    )
