"""API-key authentication, scope permissions and per-key rate limits for machines.

Keys are sent as ``Authorization: Api-Key <key>`` or ``Authorization: Bearer <key>``
(what Alertmanager's ``http_config`` sends). A view opts in by setting
``accepts_api_keys = True``; other views ignore API keys, so a key can never reach
an endpoint that was not written for machines.
"""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from postmortems.models import ApiKey, ApiKeyScope, Profile, Role

KEYWORDS = ("api-key", "bearer")


class ApiKeyUser:
    """``request.user`` for a request made with an API key: a viewer of its team.

    Not a database user: nothing is ever attributed to it (history rows record no
    user for machine writes).
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.username = f"api-key:{api_key.prefix}"
        # Read by postmortems.permissions.team_ids / has_role.
        self._kb_team_ids = {api_key.team_id}
        self.profile = Profile(role=Role.VIEWER)

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
    try:
        api_key = ApiKey.objects.select_related("team").get(prefix=prefix)
    except ApiKey.DoesNotExist:
        return None
    return api_key if api_key.is_valid(key) else None


class ApiKeyAuthentication(BaseAuthentication):
    """DRF authentication for views with ``accepts_api_keys = True``."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        key = key_from_header(header)
        if key is None:
            return None
        view = (request.parser_context or {}).get("view")
        if not getattr(view, "accepts_api_keys", False):
            return None
        if not key:
            raise exceptions.AuthenticationFailed(
                "The Authorization header has no key after its keyword.",
                code="invalid_key",
            )
        api_key = api_key_lookup(key)
        if api_key is None:
            raise exceptions.AuthenticationFailed(
                "This API key is not valid.", code="invalid_key"
            )
        if api_key.revoked:
            raise exceptions.AuthenticationFailed(
                "This API key has been revoked.", code="revoked_key"
            )
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed(
                f"This API key expired at {api_key.expiry_date:%Y-%m-%d %H:%M} UTC.",
                code="expired_key",
            )
        return ApiKeyUser(api_key), api_key

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


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Per-key rate limit; the view's ``throttle_scope`` names the rate.

    Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (env
    ``KB_API_RATE_FINDINGS`` / ``KB_API_RATE_INTEGRATIONS``), read at request time.
    Like every DRF throttle it is not atomic: a burst may pass a few percent over.
    """

    def __init__(self):
        # The rate depends on the view; it is set in allow_request.
        pass

    def allow_request(self, request, view) -> bool:
        self.scope = getattr(view, "throttle_scope", None)
        if not self.scope or not isinstance(request.auth, ApiKey):
            return True
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_rate(self) -> str | None:
        rates = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
        return rates.get(self.scope)

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "postmortems.findings.auth.ApiKeyAuthentication"
    name = "ApiKeyAuth"

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
