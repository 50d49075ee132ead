"""Where it is safe to send a browser back to: this site only."""

from django.utils.http import url_has_allowed_host_and_scheme


def same_site_url(request, url: str, default: str = "") -> str:
    """``url`` when it points at this site (and keeps HTTPS), else ``default``:
    for a posted "next" or a Referer, which a stranger could have chosen."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default
