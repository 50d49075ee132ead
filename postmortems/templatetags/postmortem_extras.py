"""Helpers for the postmortem document pages: ``{% load postmortem_extras %}``."""

import datetime as dt

from django import template

from postmortems.models import Postmortem
from postmortems.permissions import can_create_postmortem, can_view_postmortem

register = template.Library()


@register.filter
def duration(value: dt.timedelta | None) -> str:
    """A timedelta as "2 h 05 min", "3 d 4 h" or "45 min"."""
    if value is None:
        return ""
    minutes = int(value.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


@register.filter
def person(user) -> str:
    """A user's full name, or their username when they have none."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


@register.filter
def get_count(mapping: dict | None, key: str) -> int:
    """``{{ counts|get_count:key }}``: zero for a missing key."""
    if not mapping:
        return 0
    return mapping.get(key, 0)


@register.inclusion_tag("postmortems/_incident_postmortem.html", takes_context=True)
def incident_postmortem_card(context, incident) -> dict:
    """The incident page's postmortem card: its status, or a "Write" button.

    Usage in templates/postmortems/incident_detail.html:
    ``{% load postmortem_extras %}{% incident_postmortem_card incident %}``
    """

    user = context["request"].user
    try:
        postmortem = incident.postmortem
    except Postmortem.DoesNotExist:
        postmortem = None
    return {
        "incident": incident,
        "postmortem": (
            postmortem
            if postmortem is not None and can_view_postmortem(user, postmortem)
            else None
        ),
        "hidden": postmortem is not None and not can_view_postmortem(user, postmortem),
        "can_create": postmortem is None and can_create_postmortem(user, incident),
    }
