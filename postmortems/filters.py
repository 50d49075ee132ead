"""FilterSets shared by the list pages and the API (django-filter)."""

import django_filters
from django import forms
from django.contrib.auth.models import AnonymousUser

from postmortems.models import (
    Incident,
    IncidentStatus,
    Postmortem,
    PostmortemStatus,
    Service,
    Severity,
    Team,
)
from postmortems.search import search


class DateInput(forms.DateInput):
    input_type = "date"


def _date_filters(field_name: str):
    # Dates are days in the viewer's time zone (``__date`` converts to it).
    return (
        django_filters.DateFilter(
            field_name=field_name,
            lookup_expr="date__gte",
            label="From",
            widget=DateInput,
        ),
        django_filters.DateFilter(
            field_name=field_name,
            lookup_expr="date__lte",
            label="To",
            widget=DateInput,
        ),
    )


class _SearchMixin:
    def filter_search(self, queryset, name, value):
        user = getattr(self.request, "user", None) or AnonymousUser()
        return search(queryset, value, user=user)


class IncidentFilter(_SearchMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        help_text="Words in the title or in a postmortem you may read.",
    )
    severity = django_filters.ChoiceFilter(
        choices=Severity.choices, empty_label="Any severity"
    )
    status = django_filters.ChoiceFilter(
        choices=IncidentStatus.choices, empty_label="Any status"
    )
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.order_by("name"),
        to_field_name="slug",
        empty_label="Any team",
    )
    service = django_filters.ModelChoiceFilter(
        field_name="services",
        queryset=Service.objects.order_by("name"),
        to_field_name="slug",
        empty_label="Any service",
    )
    near_miss = django_filters.ChoiceFilter(
        choices=[("true", "Near misses only"), ("false", "Customer impact only")],
        empty_label="With or without impact",
        method="filter_near_miss",
        label="Near miss",
        help_text="true: only near misses (no customer impact); false: the others.",
    )
    date_from, date_to = _date_filters("started_at")

    def filter_near_miss(self, queryset, name, value: str):
        return queryset.filter(near_miss=value == "true")

    class Meta:
        model = Incident
        fields = [
            "q",
            "severity",
            "status",
            "team",
            "service",
            "near_miss",
            "date_from",
            "date_to",
        ]


class PostmortemFilter(_SearchMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        help_text="Words in the title or any section.",
    )
    severity = django_filters.ChoiceFilter(
        field_name="incident__severity",
        choices=Severity.choices,
        empty_label="Any severity",
    )
    status = django_filters.ChoiceFilter(
        choices=PostmortemStatus.choices, empty_label="Any status"
    )
    team = django_filters.ModelChoiceFilter(
        field_name="incident__team",
        queryset=Team.objects.order_by("name"),
        to_field_name="slug",
        empty_label="Any team",
    )
    service = django_filters.ModelChoiceFilter(
        field_name="incident__services",
        queryset=Service.objects.order_by("name"),
        to_field_name="slug",
        empty_label="Any service",
    )
    date_from, date_to = _date_filters("incident__started_at")

    class Meta:
        model = Postmortem
        fields = ["q", "severity", "status", "team", "service", "date_from", "date_to"]
