"""A lost database is a 503 with Retry-After (page or JSON), never a bare 500.

tests/reliability/test_postgres_restart.py restarts a real PostgreSQL under load;
these check the middleware itself, on every path an error can take.
"""

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path

pytestmark = pytest.mark.django_db


def _refused(*args, **kwargs):
    raise OperationalError(
        'connection failed: connection to server at "127.0.0.1", port 5432 '
        "failed: Connection refused"
    )


def _cut(request):
    raise InterfaceError("connection already closed")


def _bug(request):
    raise ValueError("a plain bug")


def _ok(request):
    return HttpResponse("fine")


urlpatterns = [
    path("boom/cut/", _cut),
    path("boom/bug/", _bug),
    path("api/v1/boom/cut/", _cut),
    path("boom/ok/", _ok),
    path("", include("kb.urls")),
]


@pytest.fixture
def faults_urls(settings):
    settings.ROOT_URLCONF = __name__


@pytest.fixture
def person(editor):
    # raise_request_exception=False: see the response a real client would get.
    client = Client(raise_request_exception=False)
    client.force_login(editor)
    return client


@pytest.fixture
def database_down(monkeypatch):
    """Every new query fails as it does while PostgreSQL restarts."""
    monkeypatch.setattr(connection, "ensure_connection", _refused)


def test_database_unavailable_page_is_a_503_page_with_retry_after(
    person, database_down
):
    # The failure comes from the session and user lookups in middleware, before
    # any view runs.
    response = person.get("/incidents/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("text/html")
    assert "Hindsight is briefly unavailable" in response.content.decode()
    policy = response["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in policy
    assert "script-src" not in policy  # default-src 'none': no script at all


def test_database_unavailable_api_is_json_503_with_retry_after(person, database_down):
    response = person.post(
        "/api/v1/incidents/", data="{}", content_type="application/json"
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "database_unavailable"


def test_database_unavailable_error_raised_in_a_view_is_a_503(person, faults_urls):
    page = person.get("/boom/cut/")
    api = person.get("/api/v1/boom/cut/")
    assert (page.status_code, api.status_code) == (503, 503)
    assert api.json()["code"] == "database_unavailable"


def test_database_unavailable_middleware_leaves_other_errors_as_500(
    person, faults_urls
):
    assert person.get("/boom/bug/").status_code == 500
    # And the next request, with the database fine, is served normally.
    assert person.get("/boom/ok/").content == b"fine"
