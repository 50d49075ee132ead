"""Template helpers shared by every page: ``{% load hindsight %}``."""

from django import template
from django.utils.safestring import mark_safe

from postmortems.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str | None) -> str:
    """Render Markdown safely (see postmortems.markdown)."""
    return mark_safe(render_markdown(text))  # noqa: S308 - sanitised by nh3


@register.filter
def get_item(mapping: dict | None, key: str):
    """``{{ dict|get_item:key }}`` for dictionaries keyed by variables."""
    if not mapping:
        return ""
    return mapping.get(key, "")
