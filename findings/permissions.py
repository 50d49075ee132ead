"""Who may act on findings, built from postmortems.permissions."""

from postmortems.models import Incident, Postmortem, Role
from postmortems.permissions import can_edit_incident, has_role, is_admin, team_ids


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
