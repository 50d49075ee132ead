"""Who may see and act on findings, built from postmortems.permissions.

``Finding.objects.visible_to(user)`` and ``FindingMatch.objects.visible_to(user)``
are the visibility rules, as NetBox's ``restrict(user)``; the pages, the API and
chat read findings through them. This module imports no findings model, so the
models can use it.
"""

from django.db.models import F, Q, QuerySet

from actions.models import ActionItem
from postmortems.models import Incident, Postmortem, Role
from postmortems.permissions import (
    can_edit_incident,
    has_role,
    is_admin,
    public_q,
    team_ids,
)


class FindingQuerySet(QuerySet):
    def visible_to(self, user) -> "FindingQuerySet":
        """The findings ``user`` may read: as their incidents, every finding for
        people signed in; an API key (``findings.auth.ApiKeyUser``) reads its own
        team's only; nobody else any."""
        api_key = getattr(user, "api_key", None)
        if api_key is not None:
            return self.filter(team_id=api_key.team_id)
        if not user.is_authenticated:
            return self.none()
        return self


class FindingMatchQuerySet(QuerySet):
    def visible_to(self, user) -> "FindingMatchQuerySet":
        """The matches ``user`` may read: a match shows a past incident's action
        item, so only where the user may read that item."""
        return self.filter(action_item__in=ActionItem.objects.visible_to(user))

    def visible_to_incident_team(self) -> "FindingMatchQuerySet":
        """The matches the team of the matched incident may read, for its chat
        channels (read by the team, not one person): the past incident and the
        action item are the team's own, or their postmortem is public."""
        own = F("incident__team_id")
        return self.filter(
            Q(past_incident__team_id=own) | public_q("past_incident__postmortem__"),
            Q(action_item__team_id=own) | public_q("action_item__postmortem__"),
        )


def can_act_on_findings(user, incident: Incident) -> bool:
    """Add to the timeline, accept or dismiss suggestions: the incident's editors."""
    return can_edit_incident(user, incident)


def can_review_findings(user, incident: Incident) -> bool:
    """Mark root causes confirmed/refuted/partial: reviewers of the incident's team,
    the postmortem's named reviewers, and admins."""
    if not user.is_authenticated:
        return False
    if is_admin(user):
        return True
    if not has_role(user, Role.REVIEWER):
        return False
    if incident.team_id in team_ids(user):
        return True
    return Postmortem.objects.filter(incident=incident, reviewers=user).exists()
