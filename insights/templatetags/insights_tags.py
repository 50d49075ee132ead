"""``{% similar_incidents postmortem %}`` and ``{% failure_class_of postmortem %}``."""

from django import template

from insights import selectors
from insights.durations import format_seconds
from postmortems.models import Postmortem, Role
from postmortems.permissions import can_view_postmortem, has_role

register = template.Library()


def _can_view(user, postmortem) -> bool:
    """Nothing about a postmortem the reader may not see (a private draft)."""

    # A template that names a missing postmortem passes an empty string.
    if user is None or not isinstance(postmortem, Postmortem):
        return False
    return can_view_postmortem(user, postmortem)


@register.inclusion_tag("insights/_similar_incidents.html", takes_context=True)
def similar_incidents(context, postmortem, limit: int = 5):
    """The postmortem's most similar postmortems, for incident and postmortem pages."""
    user = getattr(context.get("request"), "user", None)
    if postmortem is None or not _can_view(user, postmortem):
        return {"hidden": True}
    return {
        "similar": selectors.similar_incidents(
            postmortem_id=postmortem.pk, user=user, limit=limit
        ),
    }


@register.inclusion_tag("insights/_postmortem_class.html", takes_context=True)
def postmortem_class(context, postmortem):
    """The postmortem's failure class, with a form to confirm or correct it."""

    request = context.get("request")
    user = getattr(request, "user", None)
    if not _can_view(user, postmortem):
        return {"hidden": True}
    memberships = selectors.memberships_of([postmortem.pk])
    return {
        "postmortem": postmortem,
        # The reader may see the postmortem (checked above).
        "memberships": memberships,
        "current": next((m["failure_class"] for m in memberships), None),
        "statement_labels": selectors.STATEMENT_LABELS,
        "classes": selectors.failure_class_list(),
        "can_confirm": user is not None and has_role(user, Role.EDITOR),
        "next": request.get_full_path() if request else "",
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def duration(seconds):
    """Seconds as a short duration (``12 min``, ``2.5 h``); a dash when unknown."""

    return format_seconds(seconds)


@register.filter
def label(key, labels):
    """A stored value in words: ``in_progress`` -> ``In progress``."""
    if labels and key in labels:
        return labels[key]
    return str(key).replace("_", " ").capitalize()


@register.inclusion_tag("insights/_membership_badge.html")
def membership_badge(member, threshold):
    """Confirmed, inferred (with its confidence) or uncertain, the same everywhere."""
    return {"member": member, "threshold": threshold}
