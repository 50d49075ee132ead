"""Template context shared by every page: the navigation bar."""

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

NAV = (
    ("Incidents", "postmortems:incident_list"),
    ("Postmortems", "postmortems:postmortem_list"),
    ("Action items", "actions:item_list"),
    ("Dashboard", "actions:dashboard"),
    ("Insights", "insights:report"),
    ("Analyzers", "findings:analyzer_scorecards"),
)


def navigation(request: HttpRequest) -> dict:
    items = []
    for label, name in NAV:
        try:
            url = reverse(name)
        except NoReverseMatch:
            # A section whose pages are not installed yet is left out of the bar.
            continue
        items.append(
            {"label": label, "url": url, "active": request.path.startswith(url)}
        )
    user = getattr(request, "user", None)
    role = None
    if user is not None and user.is_authenticated:
        profile = getattr(user, "profile", None)
        role = profile.get_role_display() if profile else None
    return {"nav_items": items, "user_role": role}
