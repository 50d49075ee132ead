"""The insights report's rows, read from the database."""

from __future__ import annotations

import datetime as dt

from django.db.models import BooleanField, ExpressionWrapper
from django.utils import timezone

from actions import extensions as action_extensions
from actions.models import ActionItem
from insights import report
from insights.models import FailureClass, InsightRun
from insights.selectors.memberships import membership_row, postmortem_class_memberships
from insights.selectors.runs import UNREAD, confidence_threshold, last_successful_run
from postmortems.metrics import incident_metrics
from postmortems.models import ContributingFactor, Postmortem


def _float(value) -> float | None:
    return float(value) if value is not None else None


def _incident_row(postmortem: Postmortem) -> report.IncidentRow:
    incident = postmortem.incident
    duration = None
    if incident.resolved_at:
        duration = (incident.resolved_at - incident.started_at).total_seconds() / 60
    return report.IncidentRow(
        postmortem_id=postmortem.pk,
        incident_id=incident.pk,
        title=incident.title,
        started_at=incident.started_at,
        severity=incident.severity,
        team=incident.team.name,
        services=tuple(s.name for s in incident.services.all()),
        users_affected=postmortem.impact_users_affected,
        revenue_usd=_float(postmortem.impact_revenue_usd),
        error_budget_pct=_float(postmortem.impact_error_budget_pct),
        duration_minutes=duration,
        near_miss=incident.near_miss,
        durations={m.abbr: m.seconds for m in incident_metrics(incident.lifecycle)},
    )


def report_memberships(
    postmortem_ids: list[int], *, run: InsightRun | None | object = UNREAD
) -> list[report.MembershipRow]:
    """Every class membership of these postmortems, confirmed or inferred, with
    the statement that puts it there (from ``postmortem_class_memberships``)."""
    return [
        membership_row(pk, m)
        for pk, memberships in sorted(
            postmortem_class_memberships(postmortem_ids, run=run).items()
        )
        for m in memberships
    ]


def report_data(*, user, now: dt.datetime | None = None) -> report.Report:
    """The insights report over the postmortems ``user`` may read (6 queries)."""
    run = last_successful_run()
    postmortems = (
        Postmortem.objects.visible_to(user)
        .select_related("incident__team")
        .prefetch_related("incident__services")
        .order_by("pk")
    )
    incidents = [_incident_row(postmortem) for postmortem in postmortems]
    ids = [row.postmortem_id for row in incidents]
    actions = [
        report.ActionRow(
            id=row["id"],
            postmortem_id=row["postmortem_id"],
            title=row["title"],
            # A fix linked to an issue is done only when its tracker says so.
            status=row["status"]
            if row["status"] != "done" or row["done_confirmed"]
            else "done (not in tracker)",
            completed_at=row["completed_at"],
            priority=row["priority"],
            owner=row["owner__username"] or "",
        )
        for row in ActionItem.objects.filter(postmortem_id__in=ids)
        .annotate(
            done_confirmed=ExpressionWrapper(
                action_extensions.confirmed_done(), output_field=BooleanField()
            )
        )
        .order_by("pk")
        .values(
            "id",
            "postmortem_id",
            "title",
            "status",
            "completed_at",
            "priority",
            "owner__username",
            "done_confirmed",
        )
    ]
    factors = [
        report.FactorRow(
            postmortem_id=row["postmortem_id"],
            kind=row["kind"],
            description=row["description"],
            team=row["postmortem__incident__team__name"],
            started_at=row["postmortem__incident__started_at"],
        )
        for row in ContributingFactor.objects.filter(postmortem_id__in=ids)
        .order_by("pk")
        .values(
            "postmortem_id",
            "kind",
            "description",
            "postmortem__incident__team__name",
            "postmortem__incident__started_at",
        )
    ]
    classes = [
        report.ClassInfo(slug=c["slug"], name=c["name"], status=c["status"])
        for c in FailureClass.objects.values("slug", "name", "status")
    ]
    return report.build_report(
        incidents=incidents,
        memberships=report_memberships(ids, run=run),
        actions=actions,
        factors=factors,
        classes=classes,
        confidence_threshold=confidence_threshold(run),
        now=now or timezone.now(),
    )
