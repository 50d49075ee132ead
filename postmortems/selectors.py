"""Reads of incidents and postmortems, eager-loading what pages and serializers use."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from postmortems.metrics import LIFECYCLE_LABELS
from postmortems.models import LIFECYCLE_FIELDS, Incident, Postmortem, TimelineEntry
from postmortems.permissions import visible_postmortems


def incident_list(*, user) -> QuerySet[Incident]:
    """Incidents for list pages, with team, services and postmortem status.

    ``postmortem_visible`` says whether the user may read the incident's
    postmortem; a private draft of another team is not even named on the list.
    """
    visible = visible_postmortems(
        user, Postmortem.objects.filter(incident=OuterRef("pk"))
    )
    return (
        Incident.objects.select_related(
            "team", "postmortem", "commander", "comms_lead", "ops_lead", "scribe"
        )
        .prefetch_related("services")
        .annotate(postmortem_visible=Exists(visible))
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
    ).prefetch_related("incident__services", "reviewers")
    return visible_postmortems(user, queryset).order_by("-incident__started_at", "-pk")


def timeline_entries(*, incident: Incident) -> QuerySet[TimelineEntry]:
    """An incident's timeline in time order, with authors."""
    return incident.timeline.select_related("author").order_by("occurred_at", "pk")


@dataclass(frozen=True)
class TimestampChange:
    changed_at: datetime
    user: object
    field: str
    label: str
    old: datetime | None
    new: datetime | None
    reason: str


def incident_timestamp_changes(*, incident: Incident) -> list[TimestampChange]:
    """Every change of a lifecycle timestamp after the incident was declared,
    newest first, with who made it and why (from simple-history)."""
    records = list(
        incident.history.select_related("history_user").order_by(
            "history_date", "history_id"
        )
    )
    changes = []
    pairs = zip(records, records[1:], strict=False)
    for previous, record in reversed(list(pairs)):
        delta = record.diff_against(previous, included_fields=LIFECYCLE_FIELDS)
        for change in sorted(
            delta.changes, key=lambda c: LIFECYCLE_FIELDS.index(c.field)
        ):
            changes.append(
                TimestampChange(
                    changed_at=record.history_date,
                    user=record.history_user,
                    field=change.field,
                    label=LIFECYCLE_LABELS[change.field].capitalize(),
                    old=change.old,
                    new=change.new,
                    reason=record.history_change_reason or "",
                )
            )
    return changes
