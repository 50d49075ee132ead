"""``{% similar_incidents postmortem %}`` and ``{% failure_class_of postmortem %}``."""

from django import template

from insights import selectors

register = template.Library()


def _can_view(user, postmortem) -> bool:
    """Nothing about a postmortem the reader may not see (a private draft)."""
    from postmortems.models import Postmortem
    from postmortems.permissions import can_view_postmortem

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
        )
    }


@register.inclusion_tag("insights/_postmortem_class.html", takes_context=True)
def postmortem_class(context, postmortem):
    """The postmortem's failure class, with a form to confirm or correct it."""
    from postmortems.models import Role
    from postmortems.permissions import has_role

    request = context.get("request")
    user = getattr(request, "user", None)
    if not _can_view(user, postmortem):
        return {"hidden": True}
    return {
        "postmortem": postmortem,
        "classification": selectors.classification_of(postmortem_id=postmortem.pk),
        "classes": selectors.failure_class_list(),
        "can_confirm": user is not None and has_role(user, Role.EDITOR),
        "next": request.get_full_path() if request else "",
        "csrf_token": context.get("csrf_token"),
    }
