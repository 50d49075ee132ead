"""Load the shipped demo corpus (``org.json`` and ``incidents/*.json``).

Idempotent: incidents are keyed by their file name, people by username; loading
twice leaves the same rows. Dates are shifted so that the corpus's ``anchor_date``
falls on today, keeping the demo current.

This loads the core's rows only. The apps built on the core load their part of
the same files (``actions.demo``: each incident's ``action_items``) through
``postmortems.extensions.demo_loaders``, which ``manage.py load_demo`` runs next.
"""

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from postmortems.models import (
    ContributingFactor,
    Hypothesis,
    Incident,
    IncidentStatus,
    Postmortem,
    PostmortemStatus,
    PostmortemTemplate,
    Profile,
    Service,
    Team,
    TimelineEntry,
    TimelineSource,
    WorkflowEvent,
)
from postmortems.services.postmortems import postmortem_version_record

logger = logging.getLogger(__name__)

DEMO_DIR = Path(__file__).resolve().parent
DEMO_SOURCE = "demo"

# The review path a corpus status implies, recorded as workflow events.
STATUS_PATH = {
    PostmortemStatus.DRAFT: [],
    PostmortemStatus.IN_REVIEW: [PostmortemStatus.IN_REVIEW],
    PostmortemStatus.APPROVED: [PostmortemStatus.IN_REVIEW, PostmortemStatus.APPROVED],
    PostmortemStatus.PUBLISHED: [
        PostmortemStatus.IN_REVIEW,
        PostmortemStatus.APPROVED,
        PostmortemStatus.PUBLISHED,
    ],
}


@dataclass
class LoadedIncident:
    key: str
    incident_id: int
    postmortem_id: int
    failure_class: str
    class_confirmed: bool


@dataclass
class DemoLoadResult:
    teams: int = 0
    services: int = 0
    people: int = 0
    incidents: list[LoadedIncident] = field(default_factory=list)


class DemoCorpusError(ValueError):
    """The corpus on disk is malformed; the message names the file and field."""


class DateShift:
    """Moves the corpus's dates so that its anchor date falls on ``today``."""

    def __init__(self, anchor: dt.date, today: dt.date):
        self.delta = today - anchor

    def at(self, value: str | None) -> dt.datetime | None:
        if not value:
            return None
        parsed = parse_datetime(value)
        if parsed is None:
            raise DemoCorpusError(f"not an ISO 8601 date-time: {value!r}")
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, dt.UTC)
        return parsed + self.delta

    def day(self, value: str | None) -> dt.date | None:
        if not value:
            return None
        parsed = parse_date(value)
        if parsed is None:
            raise DemoCorpusError(f"not an ISO 8601 date: {value!r}")
        return parsed + self.delta


def corpus_shift(org: dict, today: dt.date | None = None) -> DateShift:
    """The shift that brings the corpus's anchor date to ``today``."""
    return DateShift(parse_date(org["anchor_date"]), today or timezone.localdate())


def read_corpus(directory: Path = DEMO_DIR) -> tuple[dict, list[dict]]:
    """Read ``org.json`` and every incident file, in file-name order."""
    org = json.loads((directory / "org.json").read_text())
    incidents = []
    for path in sorted((directory / "incidents").glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise DemoCorpusError(f"{path.name}: {exc}") from exc
        data.setdefault("key", path.stem)
        incidents.append(data)
    return org, incidents


@transaction.atomic
def load_demo(
    *, directory: Path = DEMO_DIR, today: dt.date | None = None
) -> DemoLoadResult:
    """Create or update every demo row; return what was loaded."""
    org, incidents = read_corpus(directory)
    shift = corpus_shift(org, today)
    result = DemoLoadResult()

    teams = {}
    for row in org["teams"]:
        teams[row["slug"]], _ = Team.objects.update_or_create(
            slug=row["slug"],
            defaults={
                "name": row["name"],
                "description": row.get("description", ""),
                "allow_auto_incidents": row.get("allow_auto_incidents", True),
            },
        )
    result.teams = len(teams)

    services = {}
    for row in org["services"]:
        services[row["slug"]], _ = Service.objects.update_or_create(
            slug=row["slug"],
            defaults={
                "name": row["name"],
                "team": teams[row["team"]],
                "description": row.get("description", ""),
            },
        )
    result.services = len(services)

    people = {}
    User = get_user_model()
    for row in org["people"]:
        user, created = User.objects.get_or_create(
            username=row["username"],
            defaults={
                "first_name": row["first_name"],
                "last_name": row["last_name"],
                "email": row["email"],
            },
        )
        if created:
            # Demo only: every demo password is the username.
            user.set_password(row["username"])
        user.is_staff = user.is_superuser = row["role"] == "admin"
        user.save()
        profile, _ = Profile.objects.update_or_create(
            user=user, defaults={"role": row["role"]}
        )
        profile.teams.set([teams[slug] for slug in row["teams"]])
        people[row["username"]] = user
    result.people = len(people)

    templates = {t.slug: t for t in PostmortemTemplate.objects.all()}
    for data in incidents:
        try:
            loaded = _load_incident(data, shift, teams, services, people, templates)
        except KeyError as exc:
            raise DemoCorpusError(f"{data['key']}: unknown or missing {exc}") from exc
        result.incidents.append(loaded)
    logger.info("Loaded demo corpus: %s incidents", len(result.incidents))
    return result


def _load_incident(data, shift, teams, services, people, templates) -> LoadedIncident:
    person = people.get
    resolved_at = shift.at(data.get("resolved_at"))
    incident, _ = Incident.objects.update_or_create(
        external_source=DEMO_SOURCE,
        external_key=data["key"],
        defaults={
            "title": data["title"],
            "severity": data["severity"],
            "status": IncidentStatus.RESOLVED
            if resolved_at
            else IncidentStatus.MONITORING,
            "team": teams[data["team"]],
            "commander": person(data.get("commander") or ""),
            "comms_lead": person(data.get("comms_lead") or ""),
            "ops_lead": person(data.get("ops_lead") or ""),
            "scribe": person(data.get("scribe") or ""),
            "started_at": shift.at(data["started_at"]),
            "detected_at": shift.at(data.get("detected_at")),
            "acknowledged_at": shift.at(data.get("acknowledged_at")),
            "mitigated_at": shift.at(data.get("mitigated_at")),
            "resolved_at": resolved_at,
            "near_miss": bool(data.get("near_miss", False)),
        },
    )
    incident.services.set([services[slug] for slug in data["services"]])

    for index, entry in enumerate(data.get("timeline", [])):
        TimelineEntry.objects.update_or_create(
            incident=incident,
            dedupe_key=f"demo:{index}",
            defaults={
                "occurred_at": shift.at(entry["at"]),
                "kind": entry["kind"],
                "text": entry["text"],
                "author": person(entry.get("author") or ""),
                "source": TimelineSource.IMPORT,
            },
        )
    TimelineEntry.objects.filter(
        incident=incident, dedupe_key__startswith="demo:"
    ).exclude(
        dedupe_key__in=[f"demo:{i}" for i in range(len(data.get("timeline", [])))]
    ).delete()

    pm_data = data["postmortem"]
    author = people[pm_data["author"]]
    status = pm_data["status"]
    postmortem = Postmortem.objects.filter(incident=incident).first() or Postmortem(
        incident=incident
    )
    for name, value in {
        "template": templates[pm_data["template"]],
        "status": status,
        "author": author,
        "sections": pm_data["sections"],
        "five_whys": pm_data.get("five_whys", []),
        "impact_users_affected": pm_data.get("impact", {}).get("users_affected"),
        "impact_revenue_usd": pm_data.get("impact", {}).get("revenue_usd"),
        "impact_error_budget_pct": pm_data.get("impact", {}).get("error_budget_pct"),
        "impact_regions": pm_data.get("impact", {}).get("regions", []),
        "published_at": (
            (resolved_at or incident.started_at) + dt.timedelta(days=5)
            if status == PostmortemStatus.PUBLISHED
            else None
        ),
    }.items():
        setattr(postmortem, name, value)
    # Its version is recorded once its factors and investigation log exist.
    postmortem.skip_history_when_saving = True
    postmortem.save()
    del postmortem.skip_history_when_saving
    reviewers = [people[name] for name in pm_data.get("reviewers", [])]
    postmortem.reviewers.set(reviewers)

    postmortem.contributing_factors.all().delete()
    ContributingFactor.objects.bulk_create(
        ContributingFactor(
            postmortem=postmortem,
            kind=row["kind"],
            description=row["description"],
            position=index,
        )
        for index, row in enumerate(pm_data.get("contributing_factors", []))
    )
    postmortem.hypotheses.all().delete()
    Hypothesis.objects.bulk_create(
        Hypothesis(
            postmortem=postmortem,
            track=row["track"],
            text=row["text"],
            status=row["status"],
            test=row.get("test", ""),
            settled_by=person(row.get("settled_by") or ""),
            settled_at=shift.at(row.get("settled_at")),
        )
        for row in pm_data.get("hypotheses", [])
    )
    postmortem_version_record(
        postmortem=postmortem, actor=author, reason="Loaded from the demo corpus"
    )

    postmortem.workflow_events.all().delete()
    previous = PostmortemStatus.DRAFT
    reviewer = reviewers[0] if reviewers else author
    base_time = resolved_at or incident.started_at
    for step, to_status in enumerate(STATUS_PATH[status], start=1):
        event = WorkflowEvent.objects.create(
            postmortem=postmortem,
            from_status=previous,
            to_status=to_status,
            actor=author if to_status == PostmortemStatus.IN_REVIEW else reviewer,
        )
        # created_at is auto_now_add; set the story's time explicitly.
        WorkflowEvent.objects.filter(pk=event.pk).update(
            created_at=base_time + dt.timedelta(days=step + 1)
        )
        previous = to_status

    return LoadedIncident(
        key=data["key"],
        incident_id=incident.pk,
        postmortem_id=postmortem.pk,
        failure_class=data.get("failure_class", ""),
        class_confirmed=bool(data.get("class_confirmed")),
    )
