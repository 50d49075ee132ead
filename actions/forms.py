"""Forms for action items and leadership reviews. Validation only: the views pass
cleaned data to the services, which apply the rules again."""

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from actions.models import (
    ActionItem,
    Category,
    CoveragePolicy,
    Decision,
    LeadershipReview,
    ReviewDecision,
)


class ActionItemForm(forms.ModelForm):
    tracker_url = forms.URLField(
        required=False,
        assume_scheme="https",
        label="Tracker URL",
        help_text="Link to the ticket in Jira, GitHub or Linear.",
    )

    class Meta:
        model = ActionItem
        fields = [
            "title",
            "description",
            "category",
            "priority",
            "team",
            "owner",
            "due_date",
            "status",
            "status_reason",
            "verification_note",
            "tracker_provider",
            "tracker_key",
            "tracker_url",
        ]
        widgets = {
            "due_date": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 4}),
            "status_reason": forms.Textarea(attrs={"rows": 2}),
            "verification_note": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "status_reason": "Reason (blocked or won't do)",
            "verification_note": "Verification: how do we know it worked?",
            "tracker_provider": "Tracker",
            "tracker_key": "Tracker key",
            "tracker_url": "Tracker URL",
        }
        help_texts = {
            "status_reason": "",
            "verification_note": "",
            "due_date": "Leave empty to use the priority's default "
            "(P0 7 days, P1 30, P2 90, P3 180 unless an admin changed it).",
        }

    def __init__(self, *args, teams=None, **kwargs):
        super().__init__(*args, **kwargs)
        if teams is not None:
            self.fields["team"].queryset = teams
        self.fields["owner"].queryset = get_user_model().objects.order_by(
            "first_name", "username"
        )
        self.fields["owner"].label_from_instance = lambda u: (
            u.get_full_name() or u.username
        )


class InlineActionItemForm(ActionItemForm):
    """The shorter form used inline on the postmortem page."""

    class Meta(ActionItemForm.Meta):
        # Everything but the long description, which has room on the item's page.
        fields = [f for f in ActionItemForm.Meta.fields if f != "description"]


class StatusForm(forms.ModelForm):
    class Meta:
        model = ActionItem
        fields = ["status", "status_reason", "verification_note"]
        widgets = {
            "status_reason": forms.Textarea(attrs={"rows": 2}),
            "verification_note": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "status_reason": "Reason (required for blocked and won't do)",
            "verification_note": "Verification note (required for done)",
        }


class UserMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class LeadershipReviewForm(forms.ModelForm):
    attendees = UserMultipleChoiceField(
        queryset=get_user_model().objects.order_by("first_name", "username"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    class Meta:
        model = LeadershipReview
        fields = ["date", "attendees", "notes"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }


class ReviewDecisionForm(forms.ModelForm):
    review = forms.ModelChoiceField(
        queryset=LeadershipReview.objects.none(),
        required=False,
        empty_label="A new review today",
        help_text="The review meeting this decision was taken in.",
    )

    class Meta:
        model = ReviewDecision
        fields = ["review", "decision", "note", "new_due_date"]
        widgets = {
            "new_due_date": forms.DateInput(attrs={"type": "date"}),
            "note": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"new_due_date": "New due date (re-date)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Decisions are recorded during or soon after a meeting: recent ones only.
        since = timezone.localdate() - dt.timedelta(days=90)
        self.fields["review"].queryset = LeadershipReview.objects.filter(
            date__gte=since
        ).order_by("-date", "-pk")

    def clean(self):
        cleaned = super().clean()
        decision = cleaned.get("decision")
        if decision == Decision.REDATE and not cleaned.get("new_due_date"):
            self.add_error("new_due_date", "Give the new due date.")
        if decision == Decision.WONT_DO and not (cleaned.get("note") or "").strip():
            self.add_error(
                "note", "Say why the item will not be done; it becomes its reason."
            )
        return cleaned

    def _post_clean(self):
        # The model's clean needs item and review, which the service sets.
        pass


class CoveragePolicyAdminForm(forms.ModelForm):
    required_categories = forms.MultipleChoiceField(
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = CoveragePolicy
        fields = ["severity", "required_categories"]
