"""Who is calling: the client's address, as the proxies in front of Hindsight saw it.

Behind a reverse proxy (or a load balancer and a proxy) every request comes from
the proxy's address, so per-client limits (login lockout, password reset) would
count everyone together. With ``KB_TRUSTED_PROXIES`` set to how many proxies
stand in front, the client is the address that many hops from the right of
X-Forwarded-For: each trusted proxy appends the address it saw, and anything to
the left of that is what the client claimed and is not believed.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The calling client's address (REMOTE_ADDR when no proxy is trusted)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    trusted = settings.KB_TRUSTED_PROXIES
    if trusted <= 0:
        return remote
    hops = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(hops) < trusted:
        # Fewer hops than proxies: the request did not come through them all.
        return remote
    claimed = hops[-trusted]
    try:
        return str(ipaddress.ip_address(claimed))
    except ValueError:
        # Not an address: a proxy that does not set the header as expected.
        return remote
