"""API-key authentication, scope permissions and per-key rate limits for machines.

Keys are sent as ``Authorization: Api-Key <key>`` or ``Authorization: Bearer <key>``
(what Alertmanager's ``http_config`` sends). A view opts in by setting
``accepts_api_keys = True``; other views refuse API keys (403), so a key can never
reach an endpoint that was not written for machines.
"""

import time

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.throttling import BaseThrottle

from findings.lookups import api_key_by_prefix
from findings.models import ApiKey, ApiKeyScope
from kb.cache import counter_incr
from postmortems.models import SecurityEventKind

KEYWORDS = ("api-key", "bearer")


class ApiKeyUser:
    """``request.user`` for a request made with an API key.

    A machine, not a person: ``is_authenticated`` is False, so every check written
    for people (postmortems.permissions, the history and security logs, which
    attribute rows to users) treats it as anonymous. Machine endpoints check
    ``request.auth`` (the ApiKey) and its scopes instead.
    """

    is_authenticated = False
    is_anonymous = True
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.username = principal(api_key)

    def __str__(self) -> str:
        return f"API key {self.api_key.name} ({self.api_key.prefix})"

    def get_username(self) -> str:
        return self.username

    def has_perm(self, perm, obj=None) -> bool:
        return False

    def has_perms(self, perm_list, obj=None) -> bool:
        return False

    def has_module_perms(self, app_label) -> bool:
        return False


def principal(api_key: ApiKey) -> str:
    """How the security log names a key."""
    return f"api-key:{api_key.prefix}"


def key_from_header(header: str) -> str | None:
    """The key in an ``Api-Key <key>`` / ``Bearer <key>`` header, else None."""
    keyword, _, key = header.strip().partition(" ")
    if keyword.lower() not in KEYWORDS:
        return None
    return key.strip()


def api_key_lookup(key: str) -> ApiKey | None:
    """The key's row if the secret matches, whatever its state; else None."""
    prefix, dot, _ = key.partition(".")
    if not dot or not prefix:
        return None
    api_key = api_key_by_prefix(prefix)
    return api_key if api_key is not None and api_key.is_valid(key) else None


class ApiKeyAuthentication(BaseAuthentication):
    """DRF authentication for views with ``accepts_api_keys = True``.

    Every view checks a key that is sent: a missing, unknown, revoked or expired
    key is a 401; a valid key on a view that does not accept keys is a 403 that
    says where keys are accepted.
    """

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        key = key_from_header(header)
        if key is None:
            return None
        view = (request.parser_context or {}).get("view")
        if not key:
            self._reject(
                request,
                None,
                "The Authorization header has no key after its keyword.",
                "invalid_key",
            )
        api_key = api_key_lookup(key)
        if api_key is None:
            self._reject(request, None, "This API key is not valid.", "invalid_key")
        if api_key.revoked:
            self._reject(
                request, api_key, "This API key has been revoked.", "revoked_key"
            )
        if api_key.has_expired:
            self._reject(
                request,
                api_key,
                f"This API key expired at {api_key.expiry_date:%Y-%m-%d %H:%M} UTC.",
                "expired_key",
            )
        if not getattr(view, "accepts_api_keys", False):
            # A valid key, but this endpoint is for people: say so (403), rather
            # than "no credentials" as if the key had not been sent.
            exc = exceptions.PermissionDenied(
                f"API keys cannot be used on {request.path}: it is for signed-in "
                "people (a session). API keys reach /api/v1/findings/ (scopes read "
                "and findings:write) and /api/v1/integrations/ (alerts:write); "
                f"this key has: {', '.join(api_key.scopes) or 'no scopes'}.",
                code="api_key_not_accepted",
            )
            exc.api_key = api_key
            raise exc
        return ApiKeyUser(api_key), api_key

    @staticmethod
    def _reject(request, api_key: ApiKey | None, message: str, code: str):
        # Imported here: postmortems.audit imports DRF's views, which import this
        # module through DEFAULT_AUTHENTICATION_CLASSES.
        from postmortems.audit import security_event_record

        # The Django request: DRF's request.user would authenticate all over again.
        security_event_record(
            kind=SecurityEventKind.API_KEY_REJECTED,
            request=request._request,
            username=principal(api_key) if api_key else "",
            reason=code,
        )
        raise exceptions.AuthenticationFailed(message, code=code)

    def authenticate_header(self, request) -> str:
        return 'Api-Key realm="hindsight"'


class _ScopeRequired(BasePermission):
    scope: str = ""

    def has_permission(self, request, view) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            if request.user and request.user.is_authenticated:
                self.message = "This endpoint is for machines: send an API key."
                self.code = "api_key_required"
            return False
        if not api_key.has_scope(self.scope):
            self.message = (
                f'This API key lacks the "{self.scope}" scope '
                f"(it has: {', '.join(api_key.scopes) or 'none'})."
            )
            self.code = "missing_scope"
            return False
        return True


class HasFindingsWriteScope(_ScopeRequired):
    scope = ApiKeyScope.FINDINGS_WRITE


class HasAlertsWriteScope(_ScopeRequired):
    scope = ApiKeyScope.ALERTS_WRITE


class CanReadFindings(BasePermission):
    """Signed-in people, or API keys with the ``read`` scope."""

    def has_permission(self, request, view) -> bool:
        api_key = request.auth
        if isinstance(api_key, ApiKey):
            if api_key.has_scope(ApiKeyScope.READ):
                return True
            self.message = 'This API key lacks the "read" scope.'
            self.code = "missing_scope"
            return False
        return bool(request.user and request.user.is_authenticated)


PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"1200/min"`` -> ``(1200, 60)``: requests allowed, window in seconds.

    DRF's format: the period is read from its first letter (s, m, h or d).
    """
    number, _, period = rate.partition("/")
    return int(number), PERIODS[period[:1]]


class ApiKeyRateThrottle(BaseThrottle):
    """Per-key rate limit; the view's ``throttle_scope`` names the rate.

    Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (env
    ``KB_API_RATE_FINDINGS`` / ``KB_API_RATE_INTEGRATIONS``), read at request time.
    A counter per key and fixed window (``kb.cache.counter_incr``): one atomic
    increment per request, so concurrent requests in every process are counted
    (DRF's SimpleRateThrottle reads, extends and writes back a list of timestamps,
    which loses counts under concurrency and grows with the rate). Like any fixed
    window, a client may send up to twice the rate across a window boundary.
    """

    def __init__(self):
        self.retry_after: float | None = None

    def allow_request(self, request, view) -> bool:
        scope = getattr(view, "throttle_scope", None)
        if not scope or not isinstance(request.auth, ApiKey):
            return True
        rate = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get(scope)
        if rate is None:
            return True
        limit, duration = parse_rate(rate)
        now = time.time()
        window = int(now // duration)
        count = counter_incr(
            f"throttle:{scope}:{request.auth.prefix}:{duration}:{window}",
            timeout=duration + 1,
        )
        if count <= limit:
            return True
        self.retry_after = (window + 1) * duration - now
        return False

    def wait(self) -> float | None:
        return self.retry_after


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "findings.auth.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_requirement(self, auto_schema):
        # Every view lists this class (to refuse keys clearly); only the machine
        # endpoints accept them.
        if not getattr(auto_schema.view, "accepts_api_keys", False):
            return None
        return super().get_security_requirement(auto_schema)

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "An API key from `manage.py create_api_key` or the admin, sent as "
                "`Authorization: Api-Key <key>` or `Authorization: Bearer <key>`."
            ),
        }
