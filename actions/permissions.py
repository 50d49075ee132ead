"""Who may see and change action items: the one place for the rules.

``ActionItem.objects.visible_to(user)`` is the visibility rule, as NetBox's
``restrict(user)``; lists, the API, exports, the dashboard and insights read items
through it. This module imports no actions model, so the models can use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet

from postmortems.models import Postmortem, Role, Team
from postmortems.permissions import (
    PUBLIC_STATUSES,
    can_view_postmortem,
    has_role,
    is_admin,
    team_ids,
)

if TYPE_CHECKING:
    from actions.models import ActionItem


class ActionItemQuerySet(QuerySet):
    def visible_to(self, user) -> ActionItemQuerySet:
        """The items ``user`` may read.

        An item is as private as the postmortem it came from: a draft's items are seen
        by its team, its author and reviewers, the item's team and its owner.
        Standalone items and items of approved or published postmortems are public.
        """
        if not user.is_authenticated:
            return self.none()
        if is_admin(user):
            return self
        mine = team_ids(user)
        # The few postmortems the user may not read (drafts and reviews of other
        # teams), computed once: far cheaper than joining every item to its
        # postmortem and incident.
        hidden = (
            Postmortem.objects.exclude(status__in=PUBLIC_STATUSES)
            .exclude(incident__team_id__in=mine)
            .exclude(author_id=user.pk)
            .exclude(
                Exists(
                    Postmortem.reviewers.through.objects.filter(
                        postmortem_id=OuterRef("pk"), user_id=user.pk
                    )
                )
            )
            .values("pk")
        )
        return self.filter(
            Q(postmortem__isnull=True)
            | Q(team_id__in=mine)
            | Q(owner_id=user.pk)
            | ~Q(postmortem_id__in=hidden)
        )


def can_edit_item(user, item: ActionItem) -> bool:
    """Editors of the item's team (or of its postmortem's team), and admins."""
    if is_admin(user):
        return True
    if not has_role(user, Role.EDITOR):
        return False
    mine = team_ids(user)
    if item.team_id in mine:
        return True
    postmortem = item.postmortem
    return postmortem is not None and postmortem.incident.team_id in mine


def can_add_items_to(user, postmortem: Postmortem) -> bool:
    """Editors of the postmortem's team add items to it; admins too."""
    if is_admin(user):
        return True
    return (
        has_role(user, Role.EDITOR)
        and can_view_postmortem(user, postmortem)
        and (
            postmortem.incident.team_id in team_ids(user)
            or postmortem.author_id == user.pk
        )
    )


def can_create_items(user) -> bool:
    return is_admin(user) or (has_role(user, Role.EDITOR) and bool(team_ids(user)))


def can_record_reviews(user) -> bool:
    """Leadership decisions are recorded by reviewers and admins."""
    return has_role(user, Role.REVIEWER)


def editable_teams(user) -> QuerySet[Team]:
    if is_admin(user):
        return Team.objects.all()
    if not has_role(user, Role.EDITOR):
        return Team.objects.none()
    return Team.objects.filter(pk__in=team_ids(user))
