"""The tracker card's one form: create, link, re-sync or unlink. Thin."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from actions import selectors as action_selectors
from actions.models import ActionItem
from actions.permissions import can_edit_item
from trackers import services
from trackers.models import TrackerLink


@require_POST
def item_tracker(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        item = action_selectors.action_item_detail(user=request.user, pk=pk)
    except ActionItem.DoesNotExist:
        raise Http404("No such action item.") from None
    if not can_edit_item(request.user, item):
        raise PermissionDenied("Only editors of the item's team link its issue.")
    action = request.POST.get("action", "")
    typed = request.POST.get("issue", "").strip()
    url = item.get_absolute_url()
    try:
        if action == "create":
            link = services.tracker_issue_create(item=item, actor=request.user)
            link.refresh_from_db()
            if link.remote_key:
                messages.success(request, f"Created {link}.")
            else:
                messages.warning(
                    request,
                    "The issue is being created; it appears here once the tracker "
                    "answers (retried if it is down).",
                )
        elif action == "link":
            link = services.tracker_issue_link(
                item=item, text=typed, actor=request.user
            )
            messages.success(request, f"Linked to {link}.")
        elif action == "resync":
            link = TrackerLink.objects.filter(item=item).first()
            if link is None:
                raise ValidationError("This item has no tracker issue.")
            services.tracker_link_resync(link=link)
            messages.success(request, "Asked the tracker again.")
        elif action == "unlink":
            services.tracker_link_remove(item=item, actor=request.user)
            messages.success(request, "Unlinked; the item keeps its status.")
        else:
            raise ValidationError("Unknown tracker action.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        if typed:
            url = f"{url}?{urlencode({'issue': typed})}"
    return redirect(f"{url}#tracker")
