"""Record security events (postmortems.models.audit.SecurityEvent).

``security_event_record`` is the one way to write the log. Django's and axes' auth
signals, the permission-denied middleware and the API's exception handler call it.
"""

import logging

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from kb.clients import client_ip
from postmortems.models.audit import SecurityEvent, SecurityEventKind

logger = logging.getLogger(__name__)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return client_ip(request) or None


def security_event_record(
    *,
    kind: str,
    request: HttpRequest | None = None,
    user=None,
    username: str = "",
    **detail,
) -> SecurityEvent:
    """Append one event to the security log."""
    if user is None and request is not None:
        request_user = getattr(request, "user", None)
        if request_user is not None and request_user.is_authenticated:
            user = request_user
    event = SecurityEvent.objects.create(
        kind=kind,
        user=user,
        username=username or (user.get_username() if user is not None else ""),
        ip_address=_client_ip(request),
        method=request.method if request is not None else "",
        path=request.path[:500] if request is not None else "",
        detail=detail,
    )
    logger.warning("Security event %s user=%s", kind, event.username or "-")
    return event


@receiver(user_login_failed)
def _on_login_failed(sender, credentials, request=None, **kwargs):
    security_event_record(
        kind=SecurityEventKind.LOGIN_FAILED,
        request=request,
        username=str(credentials.get("username", ""))[:150],
    )


@receiver(user_locked_out)
def _on_locked_out(sender, request, username, ip_address, **kwargs):
    security_event_record(
        kind=SecurityEventKind.LOCKED_OUT,
        request=request,
        username=(username or "")[:150],
    )
