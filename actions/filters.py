"""One filter set for the list page, the CSV export, the dashboard's links and the
API, so a number on the dashboard and the list it links to always agree."""

import datetime as dt

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import F, Q
from django.utils import timezone

from actions import extensions
from actions.models import OPEN_STATUSES, ActionItem, Category, Priority, Status
from postmortems.models import Severity, Team


def _yes_no(yes: str, no: str) -> forms.Select:
    return forms.Select(choices=[("", "Any"), ("true", yes), ("false", no)])


class ActionItemFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search", method="filter_q", help_text="Words in the title."
    )
    state = django_filters.ChoiceFilter(
        label="Open or closed",
        choices=[("open", "Open (any)"), ("closed", "Closed (any)")],
        method="filter_state",
        empty_label="Any",
    )
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.all(), to_field_name="slug", empty_label="All teams"
    )
    # A text box with suggestions, not a <select>: rendering hundreds of options
    # through widget templates would cost more than the list itself.
    owner = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.all(),
        to_field_name="username",
        label="Owner",
        help_text="Username of the owner.",
        widget=forms.TextInput(
            attrs={"list": "owner-options", "placeholder": "username"}
        ),
    )
    owner_none = django_filters.BooleanFilter(
        field_name="owner",
        lookup_expr="isnull",
        label="Without an owner",
        widget=_yes_no("Unassigned only", "Assigned only"),
    )
    category = django_filters.MultipleChoiceFilter(choices=Category.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    overdue = django_filters.BooleanFilter(
        method="filter_overdue",
        label="Overdue",
        help_text="Open and past due.",
        widget=_yes_no("Overdue only", "Not overdue"),
    )
    due_after = django_filters.DateFilter(
        field_name="due_date", lookup_expr="gte", label="Due from"
    )
    due_before = django_filters.DateFilter(
        field_name="due_date", lookup_expr="lte", label="Due until"
    )
    # Bounded: an id past the database's integer range is a 400, not a crash.
    postmortem = django_filters.NumberFilter(
        field_name="postmortem_id",
        label="Postmortem id",
        min_value=1,
        max_value=2**63 - 1,
        decimal_places=0,
    )
    severity = django_filters.MultipleChoiceFilter(
        field_name="postmortem__incident__severity",
        choices=Severity.choices,
        label="Incident severity",
    )
    age = django_filters.ChoiceFilter(
        label="Age",
        choices=[
            ("lt30", "Under 30 days"),
            ("30-90", "30 to 90 days"),
            ("gt90", "Over 90 days"),
        ],
        method="filter_age",
        empty_label="Any age",
    )
    done_on_time = django_filters.BooleanFilter(
        method="filter_done_on_time",
        label="Done by its due date",
        widget=_yes_no("Done on time", "Not done on time"),
    )
    tracker = django_filters.ChoiceFilter(
        label="Issue tracker",
        choices=[
            ("confirmed", "Done, and done in its tracker if linked"),
            ("unconfirmed", "Done here, not in its tracker"),
            ("disagree", "Out of step with its tracker"),
        ],
        method="filter_tracker",
        empty_label="Any",
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("due_date", "due_date"),
            ("priority", "priority"),
            ("created_at", "created_at"),
            ("status", "status"),
            ("title", "title"),
        )
    )

    class Meta:
        model = ActionItem
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        for word in value.split()[:5]:
            queryset = queryset.filter(
                Q(title__icontains=word) | Q(tracker_key__iexact=word)
            )
        return queryset

    def filter_state(self, queryset, name, value):
        if value == "open":
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset.exclude(status__in=OPEN_STATUSES)

    def filter_overdue(self, queryset, name, value):
        overdue = Q(status__in=OPEN_STATUSES, due_date__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_age(self, queryset, name, value):
        # Age in whole days in the viewer's time zone, as on the dashboard.
        today = timezone.localdate()

        def midnight(days_ago: int) -> dt.datetime:
            day = today - dt.timedelta(days=days_ago)
            return timezone.make_aware(dt.datetime.combine(day, dt.time()))

        if value == "lt30":
            return queryset.filter(created_at__gte=midnight(29))
        if value == "30-90":
            return queryset.filter(
                created_at__lt=midnight(29), created_at__gte=midnight(90)
            )
        return queryset.filter(created_at__lt=midnight(90))

    def filter_tracker(self, queryset, name, value):
        condition = {
            "confirmed": extensions.confirmed_done,
            "unconfirmed": extensions.done_unconfirmed,
            "disagree": extensions.disagrees,
        }[value]()
        return queryset.filter(condition)

    def filter_done_on_time(self, queryset, name, value):
        on_time = extensions.confirmed_done() & Q(completed_at__date__lte=F("due_date"))
        return queryset.filter(on_time) if value else queryset.exclude(on_time)
