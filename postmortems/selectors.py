"""Reads of incidents and postmortems, eager-loading what pages and serializers use."""

from django.db.models import Prefetch, QuerySet

from postmortems.models import Incident, Postmortem, TimelineEntry
from postmortems.permissions import visible_postmortems


def incident_list(*, user) -> QuerySet[Incident]:
    """Incidents for list pages, with team, services and postmortem status."""
    return (
        Incident.objects.select_related("team", "postmortem")
        .prefetch_related("services")
        .order_by("-started_at", "-pk")
    )


def incident_detail(*, pk: int) -> Incident:
    """One incident with everything its page shows."""
    return (
        Incident.objects.select_related(
            "team", "commander", "comms_lead", "ops_lead", "scribe"
        )
        .prefetch_related(
            "services",
            Prefetch(
                "timeline",
                queryset=TimelineEntry.objects.select_related("author"),
            ),
        )
        .get(pk=pk)
    )


def postmortem_list(*, user) -> QuerySet[Postmortem]:
    """Postmortems the user may read, for list pages."""
    queryset = Postmortem.objects.select_related(
        "incident", "incident__team", "author", "template"
    ).prefetch_related("incident__services")
    return visible_postmortems(user, queryset).order_by("-incident__started_at", "-pk")
