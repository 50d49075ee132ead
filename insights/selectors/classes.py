"""Failure classes: the list, one class and its page's postmortems."""

from __future__ import annotations

from django.db.models import Prefetch

from actions.models import ActionItem
from insights.models import (
    ClassStatus,
    FailureClass,
)
from postmortems.models import Postmortem


def failure_class_list() -> list[FailureClass]:
    """Classes people can pick from, accepted first."""
    return list(
        FailureClass.objects.exclude(status=ClassStatus.MERGED).order_by(
            "-status", "name"
        )
    )


def failure_class_detail(*, slug: str) -> FailureClass:
    return FailureClass.objects.select_related("merged_into").get(slug=slug)


def postmortems_for_page(*, postmortem_ids: list[int], user) -> dict[int, Postmortem]:
    """These postmortems, those ``user`` may read, with what the class page shows."""
    return {
        postmortem.pk: postmortem
        for postmortem in Postmortem.objects.visible_to(user)
        .filter(pk__in=postmortem_ids)
        .select_related("incident__team")
        .prefetch_related(
            "incident__services",
            Prefetch(
                "action_items",
                queryset=ActionItem.objects.select_related("owner").order_by(
                    "status", "pk"
                ),
            ),
        )
    }
