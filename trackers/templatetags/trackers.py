from django import template

from trackers.selectors import tracker_panel_context

register = template.Library()


@register.inclusion_tag("trackers/_item_panel.html", takes_context=True)
def tracker_panel(context, item, can_edit=False):
    """The tracker card of an action item's page."""
    request = context.get("request")
    return {
        **tracker_panel_context(item=item, can_edit=bool(can_edit)),
        "csrf_token": context.get("csrf_token"),
        "typed_issue": request.GET.get("issue", "") if request is not None else "",
    }
