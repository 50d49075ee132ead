"""Project-wide middleware: login everywhere, the viewer's time zone, and a 503
(not a 500) while the database is unreachable."""

import logging
import sys
import zoneinfo

from django.contrib import messages
from django.contrib.auth.middleware import (
    LoginRequiredMiddleware as DjangoLoginRequiredMiddleware,
)
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone

from kb import safejson
from kb.problems import problem_response
from kb.redirects import same_site_url

logger = logging.getLogger(__name__)

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


# Seconds a client is told to wait before retrying while the database is away
# (a PostgreSQL restart or failover takes a few seconds).
DATABASE_RETRY_AFTER = 5
_DATABASE_ERROR = "_kb_database_error"


def _note_database_error(sender, request=None, **kwargs) -> None:
    exc = sys.exc_info()[1]
    if request is not None and isinstance(exc, OperationalError | InterfaceError):
        setattr(request, _DATABASE_ERROR, exc)


class DatabaseUnavailableMiddleware:
    """Answer 503 with Retry-After, not 500, while the database is unreachable.

    During a PostgreSQL restart or failover every query raises OperationalError or
    InterfaceError (the connection was refused or cut). That is an outage the
    client should wait out and retry, not a bug: analyzers retry on 503, people
    see a page saying so. Django turns an exception raised anywhere below this
    middleware (views, the session and user lookups, other middleware) into a 500
    response before it gets here, so the exception is noted from the
    ``got_request_exception`` signal and that 500 is replaced. Any other error
    stays a 500.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        got_request_exception.connect(
            _note_database_error, dispatch_uid="kb-database-unavailable"
        )

    def process_exception(self, request, exception):
        # Raised by a view: answer here, so Django does not log a 500 first.
        if isinstance(exception, OperationalError | InterfaceError):
            _log_unavailable(request, exception)
            return database_unavailable_response(request)
        return None

    def __call__(self, request):
        response = self.get_response(request)
        error = getattr(request, _DATABASE_ERROR, None)
        if error is None or response.status_code != 500:
            return response
        _log_unavailable(request, error)
        return database_unavailable_response(request)


def _log_unavailable(request, error: Exception) -> None:
    logger.warning(
        "Database unavailable, answered 503 to %s %s: %s",
        request.method,
        request.path,
        error,
    )


def database_unavailable_response(request) -> HttpResponse:
    """503 for people (a page) and machines (JSON), with Retry-After."""
    message = (
        "The database is not answering (it may be restarting). "
        f"Retry in {DATABASE_RETRY_AFTER} seconds."
    )
    wants_json = request.path.startswith("/api/") or "application/json" in (
        request.headers.get("Accept", "")
    )
    if wants_json:
        response = problem_response(
            status=503, code="database_unavailable", detail=message, request=request
        )
    else:
        # Rendered without the request: context processors would query the
        # database that is not there.
        response = HttpResponse(
            render_to_string("503.html", {"retry_after": DATABASE_RETRY_AFTER}),
            status=503,
        )
        # The inner middleware that adds the CSP never saw this response.
        response["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'self'; img-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        )
        response["X-Frame-Options"] = "DENY"
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


# What a response to a signed-in person or a machine may be kept as: by nobody.
PRIVATE_CACHE_CONTROL = "private, no-store"


class PrivateCacheControlMiddleware:
    """Signed-in pages, API answers and exports are never stored by a browser or a
    proxy: they hold private postmortems, and a shared computer's back button or
    disk cache must not show them after sign-out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        download = response.get("Content-Disposition", "").startswith("attachment")
        if signed_in or download or request.path.startswith("/api/"):
            response["Cache-Control"] = PRIVATE_CACHE_CONTROL
            response.headers.pop("Expires", None)
        return response


class FlashMessagesMiddleware:
    """A flash message is shown by the page it was added for, never by a later,
    unrelated one.

    A message waits in the session only across a redirect (post, redirect, get).
    An htmx request swaps in a fragment without the page's message area, so its
    messages are sent with the fragment (an out-of-band swap into that area).
    Any other response that did not show them (a download, JSON, a fragment that
    is not HTML) drops them, instead of leaving them for whatever page comes next.
    Sits inside MessageMiddleware, so it runs before the messages are stored.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        storage = getattr(request, "_messages", None)
        if storage is None or storage.used or 300 <= response.status_code < 400:
            return response
        if "HX-Redirect" in response or "HX-Location" in response:
            return response  # htmx follows it: the next page shows them
        pending = list(messages.get_messages(request))  # marks them used
        if (
            pending
            and getattr(request, "htmx", False)
            and not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
        ):
            response.content += render_to_string(
                "_messages.html", {"messages": pending, "oob": True}
            ).encode()
        return response


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class UnstorableInputMiddleware:
    """A form field with a NUL character is a 400 naming it.

    PostgreSQL cannot store or compare text holding a NUL, so one that reached a
    service failed as a 500, or on SQLite was stored and broke later. Forms refuse
    NULs field by field, but several handlers read ``request.POST`` directly
    (workflow comments, class names): this refuses them all in one place. Form
    bodies only: JSON goes through kb.safejson.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = _unstorable_field(request)
        if found is None:
            return self.get_response(request)
        field, problem = found
        detail = f'Field "{field}": the text {problem}'
        logger.info("Refused %s %s: %s", request.method, request.path, detail)
        wants_html = "text/html" in request.headers.get("Accept", "") or bool(
            request.htmx
        )
        if request.path.startswith("/api/") or not wants_html:
            return problem_response(
                status=400,
                code="bad_request",
                detail=detail,
                request=request,
                errors=[
                    {
                        "pointer": f"/{field}",
                        "detail": f"the text {problem}",
                        "code": "invalid",
                    }
                ],
            )
        return _unstorable_page(request, field, problem)


# Never echoed back: the value of a field whose name holds one of these.
SECRET_FIELDS = ("password", "token", "secret", "csrf")


def _label(key: str) -> str:
    """A form field's name as people read it: "new-occurred_at" -> "Occurred at"."""
    name = key.replace("\x00", "\ufffd").rsplit("-", 1)[-1]
    return name.replace("_", " ").capitalize()[:60]


def _unstorable_page(request, field: str, problem: str) -> HttpResponse:
    """The 400 page for a browser form: names the field and gives back what was
    typed (NULs shown as U+FFFD, secrets left out), so nothing is lost."""
    # The fields that hold such a character, named as people read them
    # ("new-text" -> "Text"); the rest of the form is intact in the browser.
    fields = [
        (
            _label(key),
            "\n".join(values).replace("\x00", "\ufffd"),
        )
        for key, values in request.POST.lists()
        if not any(word in key.lower() for word in SECRET_FIELDS)
        and any("\x00" in value for value in values)
    ]
    back = same_site_url(request, request.headers.get("Referer", ""))
    context = {
        "field": _label(field),
        "problem": problem.rstrip("."),
        "fields": fields,
        "back": back,
    }
    response = render(request, "unstorable_input.html", context, status=400)
    if request.htmx:
        # The page goes in place of the whole one, not into the form's target
        # (static/js/app.js lets htmx swap a 400 that names its target).
        response["HX-Retarget"] = "body"
        response["HX-Reswap"] = "innerHTML"
    return response


def _unstorable_field(request) -> tuple[str, str] | None:
    # Query strings are not checked: a parameter nobody reads is harmless, and
    # the filters that read one refuse a NUL themselves (tests/kb/
    # test_fuzz_regressions.py), with the 400s their API schema documents.
    if request.method != "POST" or request.content_type not in FORM_TYPES:
        return None
    # The raw body first, so that it stays readable after the form is parsed
    # (Slack's views check a signature over it; DRF reads it again); the app
    # takes no uploads, and Django's DATA_UPLOAD_MAX_MEMORY_SIZE bounds it.
    request.body  # noqa: B018
    for key, values in request.POST.lists():
        for text in (key, *values):
            problem = safejson.text_problem(text)
            if problem:
                return key[:60].replace("\x00", "\ufffd"), problem
    return None
