"""Template context shared by every page: the navigation bar.

Its sections come from ``extensions.nav_items``: the core registers its own, and
every app built on it registers its sections in its ``ready()``.
"""

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from postmortems import extensions


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    items = []
    for entry in sorted(extensions.nav_items, key=lambda entry: entry.order):
        if entry.shown_to is not None and not entry.shown_to(user):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            # A section whose pages are not installed yet is left out of the bar.
            continue
        items.append(
            {"label": entry.label, "url": url, "active": request.path.startswith(url)}
        )
    role = None
    if user is not None and user.is_authenticated:
        profile = getattr(user, "profile", None)
        role = profile.get_role_display() if profile else None
    return {"nav_items": items, "user_role": role}
