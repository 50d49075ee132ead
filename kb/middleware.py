"""Project-wide middleware: login everywhere, and the viewer's time zone."""

import zoneinfo

from django.contrib.auth.middleware import (
    LoginRequiredMiddleware as DjangoLoginRequiredMiddleware,
)
from django.utils import timezone

# Machines authenticate with API keys and probes need no login; everything else
# (every page) requires a signed-in user.
LOGIN_EXEMPT_PREFIXES = ("/api/", "/healthz", "/readyz", "/static/")


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(LOGIN_EXEMPT_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class UserTimezoneMiddleware:
    """Show times in the viewer's own time zone; they are stored in UTC."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tzname = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            profile = getattr(user, "profile", None)
            tzname = getattr(profile, "timezone", None)
        if tzname:
            try:
                timezone.activate(zoneinfo.ZoneInfo(tzname))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


class PermissionDeniedAuditMiddleware:
    """Write a security event when a page refuses a write (403)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.core.exceptions import PermissionDenied

        from postmortems.audit import SAFE_METHODS, security_event_record
        from postmortems.models.audit import SecurityEventKind

        if (
            isinstance(exception, PermissionDenied)
            and request.method not in SAFE_METHODS
        ):
            security_event_record(
                kind=SecurityEventKind.PERMISSION_DENIED,
                request=request,
                reason=str(exception),
            )
        return None
