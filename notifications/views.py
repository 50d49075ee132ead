"""The preferences page: which notifications a person gets."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from notifications import selectors, services
from notifications.forms import PreferencesForm


def preferences(request: HttpRequest) -> HttpResponse:
    enabled = selectors.enabled_kinds(user=request.user)
    # Every box unticked is an empty POST, and still a choice to save.
    data = request.POST if request.method == "POST" else None
    form = PreferencesForm(data, enabled=enabled)
    if request.method == "POST" and form.is_valid():
        services.notification_preferences_set(
            user=request.user, enabled=form.enabled_kinds()
        )
        messages.success(request, "Notification settings saved.")
        return redirect("notifications:preferences")
    return render(
        request,
        "notifications/preferences.html",
        {
            "form": form,
            "recent": selectors.recent_notifications(user=request.user),
            "has_email": bool(request.user.email),
            "channels": selectors.delivery_channels(),
        },
    )
