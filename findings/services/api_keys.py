"""API keys: created and revoked through here, both recorded in the security log."""

import datetime as dt

from findings.models import ApiKey, ApiKeyScope
from postmortems.audit import security_event_record
from postmortems.models import SecurityEventKind, Team


def api_key_create(
    *,
    name: str,
    team: Team,
    scopes: list[str],
    expires_at: dt.datetime | None = None,
    actor=None,
    request=None,
    via: str = "",
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the secret, which is never stored."""
    unknown = set(scopes) - set(ApiKeyScope.values)
    if unknown:
        raise ValueError(f"Unknown scopes: {', '.join(sorted(unknown))}.")
    if not scopes:
        raise ValueError("Give the key at least one scope.")
    api_key, secret = ApiKey.objects.create_key(
        name=name, team=team, scopes=sorted(set(scopes)), expiry_date=expires_at
    )
    security_event_record(
        kind=SecurityEventKind.API_KEY_CREATED,
        request=request,
        user=actor,
        username="" if actor or request else via,
        **_key_detail(api_key),
    )
    return api_key, secret


def api_key_revoke(*, api_key: ApiKey, actor=None, request=None, via: str = "") -> None:
    """Revoke for good: requests with the key get 401 from now on."""
    api_key.revoke()
    api_key.save(update_fields=["revoked", "revoked_at"])
    security_event_record(
        kind=SecurityEventKind.API_KEY_REVOKED,
        request=request,
        user=actor,
        username="" if actor or request else via,
        **_key_detail(api_key),
    )


def _key_detail(api_key: ApiKey) -> dict:
    return {
        "prefix": api_key.prefix,
        "name": api_key.name,
        "team": api_key.team.slug,
        "scopes": api_key.scopes,
        "expires": api_key.expiry_date.isoformat() if api_key.expiry_date else None,
    }
