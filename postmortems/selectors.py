"""Reads of incidents and postmortems, eager-loading what pages and serializers use."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from postmortems.blameless import analyze_fields
from postmortems.diff import document_fields
from postmortems.metrics import LIFECYCLE_LABELS
from postmortems.models import (
    LIFECYCLE_FIELDS,
    Comment,
    ContributingFactorKind,
    Hypothesis,
    HypothesisStatus,
    HypothesisTrack,
    Incident,
    Postmortem,
    Role,
    TimelineEntry,
    WorkflowEvent,
)
from postmortems.signals import root_cause_class_requested


def incident_list(*, user) -> QuerySet[Incident]:
    """Incidents for list pages, with team, services and postmortem status.

    ``postmortem_visible`` says whether the user may read the incident's
    postmortem; ``has_postmortem`` whether there is one at all, so a private
    draft of another team reads as such (as on the incident page), not as none.
    """
    postmortems = Postmortem.objects.filter(incident=OuterRef("pk"))
    return (
        Incident.objects.select_related(
            "team", "postmortem", "commander", "comms_lead", "ops_lead", "scribe"
        )
        .prefetch_related("services")
        .annotate(
            postmortem_visible=Exists(postmortems.visible_to(user)),
            has_postmortem=Exists(postmortems),
        )
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
    return queryset.visible_to(user).order_by("-incident__started_at", "-pk")


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

    @property
    def by(self) -> str:
        """Who changed it; an integration or a task changes timestamps as nobody."""
        if self.user is None:
            return "Automatic"
        return self.user.get_full_name() or self.user.get_username()


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


# --- Postmortem documents (editor, review, history, export) -------------------


def postmortem_detail(*, pk: int, user) -> Postmortem:
    """One postmortem the user may read, with everything its page shows.

    Raises Postmortem.DoesNotExist when it does not exist *or* is not visible.
    """

    queryset = Postmortem.objects.select_related(
        "incident", "incident__team", "author", "template"
    ).prefetch_related(
        "incident__services",
        "reviewers",
        "contributing_factors",
        Prefetch(
            "hypotheses", queryset=Hypothesis.objects.select_related("settled_by")
        ),
        Prefetch(
            "workflow_events",
            queryset=WorkflowEvent.objects.select_related("actor"),
        ),
        Prefetch(
            "comments",
            queryset=Comment.objects.select_related("author").order_by(
                "created_at", "pk"
            ),
        ),
        Prefetch(
            "incident__timeline",
            queryset=TimelineEntry.objects.select_related("author"),
        ),
        # Action items point at the postmortem (the core does not import them):
        # read through the relation, in the items' own order (due date, then pk).
        "action_items__owner",
    )
    return queryset.visible_to(user).get(pk=pk)


def known_people_names() -> list[str]:
    """Names of everyone with an account, for the blameless-language check."""
    from django.contrib.auth import get_user_model

    names: set[str] = set()
    rows = get_user_model().objects.filter(is_active=True)
    for first, last in rows.values_list("first_name", "last_name"):
        full = f"{first} {last}".strip()
        if full:
            names.add(full)
    return sorted(names)


def postmortem_text_fields(*, postmortem: Postmortem) -> list[tuple[str, str, str]]:
    """Every piece of prose in a postmortem as (field key, label, text)."""
    fields = [
        (f"section:{item['key']}", item["title"], item["text"])
        for item in postmortem.section_items
    ]
    fields += [
        (f"why:{number}", f"Why #{number}", why)
        for number, why in enumerate(postmortem.five_whys or [], start=1)
    ]
    fields += [
        (f"factor:{number}", f"Contributing factor {number}", factor.description)
        for number, factor in enumerate(postmortem.contributing_factors.all(), 1)
    ]
    for number, hyp in enumerate(postmortem.hypotheses.all(), start=1):
        fields.append((f"hypothesis:{number}", f"Hypothesis {number}", hyp.text))
        fields.append(
            (f"hypothesis-test:{number}", f"Test of hypothesis {number}", hyp.test)
        )
    return fields


def postmortem_blame_hits(
    *, postmortem: Postmortem, people: list[str] | None = None
) -> list[dict]:
    """Blameless-language hits over every text of the postmortem."""
    if people is None:
        people = known_people_names()
    return analyze_fields(postmortem_text_fields(postmortem=postmortem), people=people)


def reviewer_choices(*, team, exclude=None):
    """People who may be named reviewers of ``team``'s postmortem, by name: its
    reviewers, and admins (the rule itself is the service's _check_reviewers)."""
    queryset = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(profile__role=Role.REVIEWER, profile__teams=team)
            | Q(profile__role=Role.ADMIN)
            | Q(is_superuser=True)
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude.pk)
    return queryset


def people_choices():
    """Everyone who can be named in a document (settled by, ...), by name."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(is_active=True)
        .order_by("first_name", "last_name", "username")
    )


def postmortem_versions(*, postmortem: Postmortem):
    """Every saved version, newest first, with who saved it."""
    return postmortem.history.select_related("history_user").order_by(
        "-history_date", "-history_id"
    )


def factor_line(*, kind: str, description: str) -> str:

    return f"{_label(ContributingFactorKind, kind)}: {description}"


def hypothesis_line(*, track: str, status: str, text: str, test: str = "") -> str:

    line = (
        f"[{_label(HypothesisTrack, track)} · {_label(HypothesisStatus, status)}] "
        f"{text}"
    )
    return f"{line} (test: {test})" if test else line


def _label(choices, value: str) -> str:
    return dict(choices.choices).get(value, value)


def postmortem_list_parts(*, postmortem: Postmortem) -> dict[str, list[str]]:
    """The contributing factors and investigation log as readable lines, as the
    services record them on every save (``Postmortem.list_parts``)."""
    return {
        "factors": [
            factor_line(kind=factor.kind, description=factor.description)
            for factor in postmortem.contributing_factors.order_by("position", "pk")
        ],
        "hypotheses": [
            hypothesis_line(
                track=hyp.track, status=hyp.status, text=hyp.text, test=hyp.test
            )
            for hyp in postmortem.hypotheses.order_by("track", "created_at", "pk")
        ],
    }


def postmortem_document_fields(*, postmortem, template) -> list:
    """A postmortem or one of its history rows as labelled text fields, with its
    contributing factors and investigation log where the version recorded them."""

    return document_fields(
        template_sections=template.sections,
        sections=postmortem.sections,
        five_whys=postmortem.five_whys,
        impact={
            "users_affected": postmortem.impact_users_affected,
            "revenue_usd": postmortem.impact_revenue_usd,
            "error_budget_pct": postmortem.impact_error_budget_pct,
            "regions": postmortem.impact_regions,
        },
        list_parts=getattr(postmortem, "list_parts", None) or None,
    )


def postmortem_comment_threads(*, postmortem: Postmortem) -> list[dict]:
    """Comments grouped by section (template order, then general), replies nested."""
    comments = list(postmortem.comments.all())
    replies: dict[int, list] = {}
    for comment in comments:
        if comment.parent_id:
            replies.setdefault(comment.parent_id, []).append(comment)
    roots = [comment for comment in comments if not comment.parent_id]
    groups = [{"key": "", "title": "Whole document"}] + [
        {"key": item["key"], "title": item["title"]}
        for item in postmortem.template.sections
    ]
    for group in groups:
        group["threads"] = [
            {"comment": root, "replies": replies.get(root.pk, [])}
            for root in roots
            if root.section == group["key"]
        ]
        group["count"] = sum(1 + len(t["replies"]) for t in group["threads"])
    return groups


def postmortem_root_cause_class(*, postmortem: Postmortem) -> str | None:
    """The failure class's slug when one is known (insights answers
    ``root_cause_class_requested``); None when no app knows one."""
    responses = root_cause_class_requested.send_robust(
        sender=Postmortem, postmortem_id=postmortem.pk
    )
    for _, slug in responses:
        if isinstance(slug, str) and slug:
            return slug
    return None


def postmortem_export_data(*, postmortem: Postmortem) -> dict:
    """Plain data for postmortems.export (front matter and body).

    People are usernames and kinds are stored values, so that the file imports
    back to the same postmortem; ``*_label`` values are for the body.
    """
    incident = postmortem.incident

    def person(user) -> str | None:
        return user.get_username() if user is not None else None

    return {
        "title": incident.title,
        "incident": incident.reference,
        "severity": incident.severity,
        "near_miss": incident.near_miss,
        "services": [service.name for service in incident.services.all()],
        "team": incident.team.name,
        "template": postmortem.template.name,
        "status": postmortem.status,
        "author": person(postmortem.author),
        "reviewers": [person(user) for user in postmortem.reviewers.all()],
        "roles": {
            "commander": person(incident.commander),
            "comms_lead": person(incident.comms_lead),
            "ops_lead": person(incident.ops_lead),
            "scribe": person(incident.scribe),
        },
        "started": incident.started_at,
        "detected": incident.detected_at,
        "acknowledged": incident.acknowledged_at,
        "mitigated": incident.mitigated_at,
        "resolved": incident.resolved_at,
        "published": postmortem.published_at,
        "root_cause_class": postmortem_root_cause_class(postmortem=postmortem),
        "impact": {
            "users_affected": postmortem.impact_users_affected,
            "revenue_usd": postmortem.impact_revenue_usd,
            "error_budget_pct": postmortem.impact_error_budget_pct,
            "regions": list(postmortem.impact_regions or []),
        },
        "sections": postmortem.section_items,
        "five_whys": list(postmortem.five_whys or []),
        "contributing_factors": [
            {
                "kind": factor.kind,
                "kind_label": factor.get_kind_display(),
                "description": factor.description,
            }
            for factor in postmortem.contributing_factors.all()
        ],
        "hypotheses": [
            {
                "track": hyp.track,
                "track_label": hyp.get_track_display(),
                "status": hyp.status,
                "status_label": hyp.get_status_display(),
                "text": hyp.text,
                "test": hyp.test,
                "settled_by": person(hyp.settled_by),
                "settled_at": hyp.settled_at.isoformat() if hyp.settled_at else None,
            }
            for hyp in postmortem.hypotheses.all()
        ],
        "timeline": [
            {
                "at": entry.occurred_at.isoformat(),
                "kind": entry.kind,
                "kind_label": entry.get_kind_display(),
                "text": entry.text,
                "author": person(entry.author),
            }
            for entry in incident.timeline.all()
        ],
        "action_items": [
            {
                "title": item.title,
                "description": item.description,
                "category": item.category,
                "status": item.status,
                "priority": item.priority,
                "owner": person(item.owner),
                "team": item.team.slug,
                "due_date": item.due_date,
            }
            for item in postmortem.action_items.all()
        ],
    }
