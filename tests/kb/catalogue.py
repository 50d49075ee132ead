"""A small catalogue of fixture objects, and the URLs built from it.

The authorisation matrix, the CSRF sweep and the "no GET changes state" sweep all
request every URL pattern with real objects: one set owned by the signed-in
people's team ("own") and one owned by another team ("other"), whose postmortems
are private drafts or reviews.
"""

import dataclasses

from django.urls import reverse

from actions.models import LeadershipReview
from findings.models import FindingSuggestion, SuggestionCategory, SuggestionKind
from findings.services import api_key_create
from insights.models import CauseStatement, ClassStatus, FailureClass, InsightRun
from postmortems.models import PostmortemStatus, Role
from tests import factories

OWN, OTHER, NONE = "own", "other", "none"
TEAM_CASES = (OWN, OTHER)
SESSION_ROLES = ("anonymous", "viewer", "editor", "reviewer", "admin")
# An API key of each scope, all owned by the own team.
KEY_SCOPES = {
    "key-findings": "findings:write",
    "key-alerts": "alerts:write",
    "key-read": "read",
}
ROLES = SESSION_ROLES + tuple(KEY_SCOPES)
# Catalogue objects that belong to a team: routes built from them are checked with
# the own team's object and with the other team's.
TEAM_OBJECTS = frozenset(
    (
        "team",
        "service",
        "incident",
        "entry",
        "draft",
        "in_review",
        "approved",
        "item",
        "finding",
        "suggestion",
    )
)


@dataclasses.dataclass
class TeamObjects:
    """One team's objects: an incident with a timeline, postmortems in each private
    state (and one approved), an action item from the draft."""

    team: object
    service: object
    incident: object
    entry: object
    draft: object
    in_review: object
    approved: object
    item: object
    finding: object
    suggestion: object


@dataclasses.dataclass
class Catalogue:
    users: dict
    keys: dict  # key role -> secret
    cases: dict  # OWN / OTHER -> TeamObjects
    failure_class: object
    merge_target: object
    insight_run: object
    review: object

    def obj(self, case: str, name: str):
        if case in self.cases and hasattr(self.cases[case], name):
            return getattr(self.cases[case], name)
        return getattr(self, name)


def _team_objects(team, author, reviewer) -> TeamObjects:
    started = factories.BASE_TIME
    service = factories.ServiceFactory(slug=f"{team.slug}-api", team=team)
    incident = factories.IncidentFactory(
        team=team, started_at=started, services=[service]
    )
    entry = factories.TimelineEntryFactory(incident=incident)

    def postmortem(status):
        return factories.PostmortemFactory(
            incident__team=team,
            incident__started_at=started,
            author=author,
            reviewers=[reviewer],
            status=status,
        )

    draft = postmortem(PostmortemStatus.DRAFT)
    # Its root cause as a classified statement ("confirm these next").
    CauseStatement.objects.create(
        postmortem=draft,
        key="root_cause",
        kind="root_cause",
        text="A connection pool limit was lower than peak concurrency.",
        text_hash="catalogue",
    )
    finding = factories.FindingFactory(incident=incident, service=service)
    suggestion = FindingSuggestion.objects.create(
        finding=finding,
        dedupe_key=f"{team.slug}-revert",
        kind=SuggestionKind.REVERT_CHANGE,
        title="Revert the pool size change",
        category=SuggestionCategory.MITIGATION,
    )
    return TeamObjects(
        team=team,
        service=service,
        incident=incident,
        entry=entry,
        draft=draft,
        in_review=postmortem(PostmortemStatus.IN_REVIEW),
        approved=postmortem(PostmortemStatus.APPROVED),
        item=factories.ActionItemFactory(team=team, postmortem=draft, owner=author),
        finding=finding,
        suggestion=suggestion,
    )


def build_catalogue() -> Catalogue:
    """Create the catalogue's rows (call inside a test with database access)."""
    own = factories.TeamFactory(slug="payments", name="Payments")
    other = factories.TeamFactory(slug="identity", name="Identity")
    user = factories.UserFactory
    users = {
        "viewer": user(username="viewer", role=Role.VIEWER, teams=[own]),
        "editor": user(username="editor", role=Role.EDITOR, teams=[own]),
        "reviewer": user(username="reviewer", role=Role.REVIEWER, teams=[own]),
        "admin": user(username="admin", role=Role.ADMIN),
        "other_editor": user(username="other-editor", role=Role.EDITOR, teams=[other]),
        "other_reviewer": user(
            username="other-reviewer", role=Role.REVIEWER, teams=[other]
        ),
    }
    admin = users["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    cases = {
        OWN: _team_objects(own, users["editor"], users["reviewer"]),
        OTHER: _team_objects(other, users["other_editor"], users["other_reviewer"]),
    }
    failure_class, merge_target = (
        FailureClass.objects.create(
            slug=slug, name=name, status=ClassStatus.ACCEPTED, description=name
        )
        for slug, name in (
            ("sec-pool-exhaustion", "Pool exhaustion"),
            ("sec-bad-deploy", "Bad deploy"),
        )
    )
    keys = {
        role: api_key_create(name=role, team=own, scopes=[scope])[1]
        for role, scope in KEY_SCOPES.items()
    }
    return Catalogue(
        users=users,
        keys=keys,
        cases=cases,
        failure_class=failure_class,
        merge_target=merge_target,
        insight_run=InsightRun.objects.create(requested_by=admin),
        review=LeadershipReview.objects.create(recorded_by=admin),
    )


def kwargs_for(catalogue: Catalogue, spec: dict[str, str], case: str) -> dict:
    """URL kwargs from a spec such as {"pk": "draft", "item_pk": "item"}."""
    kwargs = {}
    for key, name in spec.items():
        if key in ("uidb64", "token", "provider", "key"):
            kwargs[key] = name  # a literal (an invalid reset link, a tracker)
            continue
        obj = catalogue.obj(case, name)
        kwargs[key] = obj.slug if key == "slug" else obj.pk
    return kwargs


def url_for(catalogue: Catalogue, name: str, spec: dict[str, str], case: str) -> str:
    return reverse(name, kwargs=kwargs_for(catalogue, spec, case))
