"""Reads of action items: visibility, lists, the postmortem panel, coverage and the
dashboard's aggregates (a fixed number of queries whatever the number of items)."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models import Case as SqlCase
from django.utils import timezone

from actions import dashboard as dashboard_math
from actions import extensions
from actions.models import (
    OPEN_STATUSES,
    ActionItem,
    Category,
    CoveragePolicy,
    LeadershipReview,
    ReviewDecision,
    Status,
)
from actions.permissions import can_add_items_to, can_edit_item
from actions.sql import local_date
from postmortems.models import (
    Postmortem,
    PostmortemStatus,
    Severity,
    Team,
    WorkflowEvent,
)

HIGH_SEVERITIES = (Severity.SEV0, Severity.SEV1)


# Lists and pages -------------------------------------------------------------------


def action_item_list(*, user) -> QuerySet[ActionItem]:
    """Items the user may read, with what list pages, CSV and the API show."""
    queryset = ActionItem.objects.select_related(
        "team", "owner", "postmortem", "postmortem__incident"
    )
    # Open items first (what needs attention), then by due date.
    return (
        queryset.visible_to(user)
        .alias(
            closed=SqlCase(
                When(status__in=OPEN_STATUSES, then=Value(0)),
                default=Value(1),
            )
        )
        .order_by("closed", F("due_date").asc(nulls_last=True), "pk")
    )


def action_item_detail(*, user, pk: int) -> ActionItem:
    """One item with its history and review decisions (raises DoesNotExist)."""
    decisions = ReviewDecision.objects.select_related("review", "recorded_by")
    return (
        action_item_list(user=user)
        .select_related("created_by", "postmortem__incident__team")
        .prefetch_related(
            Prefetch("review_decisions", queryset=decisions, to_attr="decision_list"),
        )
        .get(pk=pk)
    )


def history_entries(item: ActionItem) -> list[dict]:
    """The item's history, newest first, each with the fields it changed."""
    records = list(
        item.history.select_related("history_user").order_by(
            "-history_date", "-history_id"
        )
    )
    entries = []
    for index, record in enumerate(records):
        older = records[index + 1] if index + 1 < len(records) else None
        changes = []
        if older is not None:
            delta = record.diff_against(older, foreign_keys_are_objs=False)
            for change in delta.changes:
                field = ActionItem._meta.get_field(change.field)
                changes.append(
                    {
                        "field": field.verbose_name,
                        "old": _display(field, change.old),
                        "new": _display(field, change.new),
                    }
                )
        entries.append(
            {
                "when": record.history_date,
                "who": record.history_user,
                "type": record.get_history_type_display(),
                "reason": record.history_change_reason or "",
                "changes": changes,
            }
        )
    return entries


def _display(field, value) -> str:
    if value in (None, ""):
        return "—"
    if field.choices:
        return dict(field.choices).get(value, value)
    if field.is_relation:
        return f"#{value}"
    return str(value)


def owner_options() -> list[dict]:
    """People who own at least one item, for the owner filter's suggestions."""
    return list(
        get_user_model()
        .objects.filter(pk__in=ActionItem.objects.values("owner_id"))
        .order_by("username")
        .values("username", "first_name", "last_name")
    )


def my_action_items(*, user) -> QuerySet[ActionItem]:
    """The user's own items, open ones first, by due date."""
    return (
        ActionItem.objects.visible_to(user)
        .filter(owner=user)
        .select_related("team", "owner", "postmortem", "postmortem__incident")
        .annotate(
            closed=SqlCase(
                When(status__in=OPEN_STATUSES, then=Value(False)),
                default=Value(True),
                output_field=BooleanField(),
            )
        )
        .order_by("closed", F("due_date").asc(nulls_last=True), "pk")
    )


def review_list(*, user) -> QuerySet[LeadershipReview]:
    """Reviews, each with how many decisions on items the user may read."""
    visible = ActionItem.objects.visible_to(user).values("pk")
    return (
        LeadershipReview.objects.select_related("recorded_by")
        .prefetch_related("attendees")
        .annotate(
            decision_count=Count("decisions", filter=Q(decisions__item__in=visible))
        )
    )


def review_detail(*, user, pk: int) -> LeadershipReview:
    """One review, with its decisions on items the user may read."""
    decisions = ReviewDecision.objects.filter(
        item__in=ActionItem.objects.visible_to(user).values("pk")
    ).select_related("item", "item__team", "item__owner", "recorded_by")
    return (
        LeadershipReview.objects.select_related("recorded_by")
        .prefetch_related("attendees", Prefetch("decisions", queryset=decisions))
        .get(pk=pk)
    )


# Coverage --------------------------------------------------------------------------


def coverage_for_postmortem(postmortem: Postmortem, items=None) -> dict:
    """Which categories the postmortem's severity requires, has and lacks.

    Items closed as won't do cover nothing. ``covered`` lists every category that
    has an item (required or not), in the categories' order.
    """
    policy = CoveragePolicy.objects.filter(
        severity=postmortem.incident.severity
    ).first()
    required = [
        c for c in Category.values if policy and c in policy.required_categories
    ]
    if items is None:
        present = set(
            postmortem.action_items.exclude(status=Status.WONT_DO).values_list(
                "category", flat=True
            )
        )
    else:
        present = {i.category for i in items if i.status != Status.WONT_DO}
    covered = [c for c in Category.values if c in present]
    missing = [c for c in required if c not in present]
    return {"required": required, "covered": covered, "missing": missing}


def postmortem_action_items_context(*, user, postmortem: Postmortem) -> dict:
    """Context for ``{% include "actions/_postmortem_action_items.html" %}``."""
    items = list(
        ActionItem.objects.filter(postmortem=postmortem)
        .select_related("team", "owner")
        .order_by(F("due_date").asc(nulls_last=True), "pk")
    )
    coverage = coverage_for_postmortem(postmortem, items=items)
    labels = dict(Category.choices)
    can_add = can_add_items_to(user, postmortem)
    return {
        "action_items_panel": {
            "postmortem": postmortem,
            "items": items,
            "can_add": can_add,
            "editable_ids": {i.pk for i in items if can_add or can_edit_item(user, i)},
            "coverage": coverage,
            "categories": [
                {
                    "key": key,
                    "label": labels[key],
                    "required": key in coverage["required"],
                    "covered": key in coverage["covered"],
                }
                for key in Category.values
            ],
            "missing_labels": [labels[c] for c in coverage["missing"]],
        }
    }


# Dashboard -------------------------------------------------------------------------


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def dashboard_rows(*, user, team: Team | None, today: dt.date) -> dict:
    """The grouped rows the dashboard adds up: six queries, whatever the size.

    Dates are the viewer's: "today", "overdue", ages and "done by its due date"
    use the active time zone.
    """
    items = ActionItem.objects.visible_to(user)
    if team is not None:
        items = items.filter(team=team)
    is_open = Q(status__in=OPEN_STATUSES)
    # Age boundaries as instants, so the database compares plain timestamps.
    under_30 = _local_midnight(today - dt.timedelta(days=29))
    over_90 = _local_midnight(today - dt.timedelta(days=90))
    # Grouped in the covering index's own order (team, status, category), so the
    # database streams it without sorting; the rest are conditional counts.
    # SEV0/SEV1 through a subquery over the few postmortems (computed once), not
    # a join per item.
    high_sev_postmortems = Postmortem.objects.filter(
        incident__severity__in=HIGH_SEVERITIES
    ).values("pk")
    summary = list(
        items.order_by()
        .values("team_id", "status", "category")
        .annotate(
            n=Count("pk"),
            high_sev=Count(
                "pk", filter=is_open & Q(postmortem_id__in=high_sev_postmortems)
            ),
            overdue=Count("pk", filter=is_open & Q(due_date__lt=today)),
            lt30=Count("pk", filter=is_open & Q(created_at__gte=under_30)),
            gt90=Count("pk", filter=is_open & Q(created_at__lt=over_90)),
            # An item linked to an issue is done only when its tracker says so.
            unconfirmed=Count("pk", filter=extensions.done_unconfirmed()),
            tracker_disagree=Count("pk", filter=extensions.disagrees()),
        )
    )
    owners = list(
        items.filter(is_open, due_date__lt=today)
        .order_by()
        .values("owner_id")
        .annotate(n=Count("pk"))
    )
    names = {
        u["pk"]: u
        for u in get_user_model()
        .objects.filter(pk__in=[r["owner_id"] for r in owners if r["owner_id"]])
        .values("pk", "username", "first_name", "last_name")
    }
    owner_rows = []
    for row in owners:
        person = names.get(row["owner_id"], {})
        full = " ".join(
            p for p in (person.get("first_name"), person.get("last_name")) if p
        )
        owner_rows.append(
            {
                "owner_id": row["owner_id"],
                "username": person.get("username"),
                "name": full or person.get("username") or "",
                "n": row["n"],
            }
        )

    quarters = dashboard_math.recent_quarters(today)
    quarter_rows = []
    if quarters:
        # One pass: each item falls in one quarter, and the time-zone conversion
        # of completed_at runs once per done item.
        quarter = SqlCase(
            *[
                When(
                    due_date__gte=q["start"],
                    due_date__lte=q["end"],
                    then=Value(q["label"]),
                )
                for q in quarters
            ],
            default=Value(""),
            output_field=CharField(),
        )
        # Completion dates are compared in the viewer's time zone; a margin of
        # three days around the window keeps out-of-range offsets harmless.
        margin = dt.timedelta(days=3)
        completed_on = local_date(
            "completed_at",
            tz=timezone.get_current_timezone(),
            start=_local_midnight(quarters[0]["start"] - margin),
            end=_local_midnight(quarters[-1]["end"] + margin),
        )
        on_time = extensions.confirmed_done() & Q(completed_on__lte=F("due_date"))
        quarter_rows = list(
            items.exclude(status=Status.WONT_DO)
            .filter(
                due_date__gte=quarters[0]["start"], due_date__lte=quarters[-1]["end"]
            )
            .order_by()
            .annotate(label=quarter, completed_on=completed_on)
            .values("label")
            .annotate(total=Count("pk"), on_time=Count("pk", filter=on_time))
        )

    teams = list(Team.objects.values("id", "slug", "name"))

    waiting = Postmortem.objects.filter(status=PostmortemStatus.IN_REVIEW).visible_to(
        user
    )
    if team is not None:
        waiting = waiting.filter(incident__team=team)
    last_submitted = (
        WorkflowEvent.objects.filter(
            postmortem_id=OuterRef("pk"), to_status=PostmortemStatus.IN_REVIEW
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    waiting_rows = [
        {
            "id": r["pk"],
            "title": r["incident__title"],
            "team": r["incident__team__name"],
            "severity": r["incident__severity"],
            "since": r["since"] or r["updated_at"],
        }
        for r in waiting.annotate(since=last_submitted)
        .order_by()
        .values(
            "pk",
            "incident__title",
            "incident__team__name",
            "incident__severity",
            "since",
            "updated_at",
        )
    ]
    return {
        "summary_rows": summary,
        "owner_rows": owner_rows,
        "quarter_rows": quarter_rows,
        "teams": teams,
        "waiting_rows": waiting_rows,
    }


def dashboard(*, user, team: Team | None = None) -> dashboard_math.Dashboard:
    """The leadership dashboard for the organisation, or for one team."""
    today = timezone.localdate()
    rows = dashboard_rows(user=user, team=team, today=today)
    return dashboard_math.compute_dashboard(
        today=today,
        team={"id": team.pk, "slug": team.slug, "name": team.name} if team else None,
        now=timezone.now(),
        **rows,
    )
