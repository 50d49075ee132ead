"""Who may see and do what. Roles rank viewer < editor < reviewer < admin.

A draft (anything not yet published or approved) is private to its incident's team,
its author, its reviewers and admins. Other people get a 404 for it, not a 403, so
that its existence does not leak.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q, QuerySet

from postmortems.choices import PostmortemStatus, Role

if TYPE_CHECKING:
    from postmortems.models import Postmortem, Profile

PUBLIC_STATUSES = (PostmortemStatus.APPROVED, PostmortemStatus.PUBLISHED)


def public_q(prefix: str = "") -> Q:
    """The condition "everyone signed in may read it" on a postmortem reached
    through ``prefix`` (``"postmortem__"`` from an incident): approved or published.
    For text that outlives its reader's access (drafted facts, a team's chat
    channel), where the reader is not one person."""
    return Q(**{f"{prefix}status__in": PUBLIC_STATUSES})


class PostmortemQuerySet(QuerySet):
    """``Postmortem.objects``: ``visible_to(user)`` is the one visibility rule, as
    NetBox's ``restrict(user)``; pages, API, search, exports and insights all read
    postmortems through it. (Defined here, not in the models, so that the rule
    sits with the others; this module imports no model, so the models can use it.)
    """

    def visible_to(self, user) -> PostmortemQuerySet:
        """The postmortems ``user`` may read."""
        if not user.is_authenticated:
            return self.none()
        if is_admin(user):
            return self
        return self.filter(
            public_q()
            | Q(incident__team_id__in=team_ids(user))
            | Q(author=user)
            | Q(reviewers=user)
        ).distinct()

    def public(self) -> PostmortemQuerySet:
        """The postmortems everyone signed in may read (approved or published)."""
        return self.filter(public_q())

    def writable_by(self, user) -> PostmortemQuerySet:
        """The postmortems a write by ``user`` may reach: their team's and their
        own (admins: all). Another team's does not exist for a write (a 404);
        whether the write is allowed is then its permission's rule."""
        if is_admin(user):
            return self
        return self.filter(Q(incident__team_id__in=team_ids(user)) | Q(author=user))


def is_public_status(status: str) -> bool:
    """Whether a postmortem in ``status`` is public (``Postmortem.is_public``)."""
    return status in PUBLIC_STATUSES


class IncidentQuerySet(QuerySet):
    """``Incident.objects``: incidents are read by everyone signed in; a write
    reaches only the writer's teams' (``writable_by``)."""

    def writable_by(self, user) -> IncidentQuerySet:
        """The incidents a write by ``user`` may reach: their teams' (admins:
        all). Another team's does not exist for a write (a 404)."""
        if is_admin(user):
            return self
        return self.filter(team_id__in=team_ids(user))


def profile_for(user: AbstractBaseUser | AnonymousUser) -> Profile | None:
    """The user's profile; an unsaved default when they have none yet.

    Reading permissions never writes: a user without a profile row (one made by
    ``createsuperuser``, say) is treated as a viewer with no teams, or an admin if
    a superuser, until an admin gives them a profile.
    """
    if not user.is_authenticated:
        return None
    try:
        return user.profile
    except ObjectDoesNotExist:
        profile = apps.get_model("postmortems", "Profile")
        return profile(user=user, role=Role.ADMIN if user.is_superuser else Role.VIEWER)


def has_role(user, role: str) -> bool:
    profile = profile_for(user)
    if profile is None:
        return False
    return user.is_superuser or profile.has_role(role)


def is_admin(user) -> bool:
    return has_role(user, Role.ADMIN)


def team_ids(user) -> set[int]:
    """Ids of the teams the user belongs to (cached on the user object)."""
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_kb_team_ids", None)
    if cached is None:
        profile = profile_for(user)
        cached = (
            set(profile.teams.values_list("pk", flat=True)) if profile.pk else set()
        )
        user._kb_team_ids = cached
    return cached


def can_view_postmortem(user, postmortem: Postmortem) -> bool:
    if not user.is_authenticated:
        return False
    if postmortem.is_public or is_admin(user):
        return True
    if postmortem.author_id == user.pk or postmortem.incident.team_id in team_ids(user):
        return True
    return postmortem.reviewers.filter(pk=user.pk).exists()


def can_edit_incident(user, incident) -> bool:
    """Editors of the incident's team (and admins) change incidents and timelines."""
    if is_admin(user):
        return True
    return has_role(user, Role.EDITOR) and incident.team_id in team_ids(user)


def can_edit_postmortem(user, postmortem: Postmortem) -> bool:
    """Editors of the team, the author and admins edit until it is approved."""
    if postmortem.is_public and not is_admin(user):
        return False
    if is_admin(user):
        return True
    if not has_role(user, Role.EDITOR):
        return False
    return postmortem.author_id == user.pk or postmortem.incident.team_id in team_ids(
        user
    )


def can_review_postmortem(user, postmortem: Postmortem) -> bool:
    """Only a named reviewer who is not the author approves or sends back."""
    if not has_role(user, Role.REVIEWER) or postmortem.author_id == user.pk:
        return False
    return postmortem.reviewers.filter(pk=user.pk).exists()


def can_create_postmortem(user, incident) -> bool:
    """Whoever may edit the incident may start its postmortem."""
    return can_edit_incident(user, incident)


def can_submit_postmortem(user, postmortem: Postmortem) -> bool:
    """A draft goes to review by someone who may edit it."""
    return postmortem.status == PostmortemStatus.DRAFT and can_edit_postmortem(
        user, postmortem
    )


def can_publish_postmortem(user, postmortem: Postmortem) -> bool:
    """After approval, the author or an admin publishes."""
    if postmortem.status != PostmortemStatus.APPROVED:
        return False
    return postmortem.author_id == user.pk or is_admin(user)


def can_comment_postmortem(user, postmortem: Postmortem) -> bool:
    """Authors, reviewers, the team's editors and admins discuss a postmortem."""
    if not can_view_postmortem(user, postmortem):
        return False
    if is_admin(user) or postmortem.author_id == user.pk:
        return True
    if postmortem.reviewers.filter(pk=user.pk).exists():
        return True
    return has_role(user, Role.EDITOR) and postmortem.incident.team_id in team_ids(user)
