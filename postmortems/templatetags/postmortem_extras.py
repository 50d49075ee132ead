"""Helpers for the postmortem document pages: ``{% load postmortem_extras %}``."""

import datetime as dt

from django import template

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
