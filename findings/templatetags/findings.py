"""``{% load findings %}{% incident_findings incident %}``: an incident's findings."""

from django import template

from findings.selectors import incident_findings_context

register = template.Library()


@register.inclusion_tag("findings/_finding_section.html", takes_context=True)
def incident_findings(context, incident) -> dict:
    """The findings section for ``incident``, as the current user may act on it."""
    request = context.get("request")
    user = context.get("user") or getattr(request, "user", None)
    return {
        **incident_findings_context(user=user, incident=incident),
        # Inclusion tags start from an empty context: the forms need these.
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
