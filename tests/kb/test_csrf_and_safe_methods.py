"""CSRF on every state-changing request made with a session, and no GET that changes
a row. Both sweeps walk the authorisation matrix's routes with the catalogue's
objects (tests/kb/authz_matrix.py, tests/kb/catalogue.py)."""

import pytest
from django.conf import settings
from django.middleware.csrf import _get_new_csrf_string

from postmortems.backup import database_fingerprint
from tests.kb.authz_matrix import LOGIN, ROUTES, expected
from tests.kb.catalogue import KEY_SCOPES, NONE, OTHER, OWN, build_catalogue
from tests.kb.matrix_client import PAGERDUTY_SECRET, client_for, send

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# Tables a GET may legitimately touch. Each is bookkeeping about the browser or the
# sign-in, never the application's data:
IGNORED_ON_GET = {
    # The signed-in browser's session: Django re-saves it when messages are read
    # or the session is refreshed; it holds no application data.
    "django_session",
    # django-axes' record of sign-in attempts (the login page is a GET too).
    "axes_accessattempt",
    "axes_accesslog",
    "axes_accessfailurelog",
}


# A refused API write is itself recorded (permission_denied) in the security log,
# which only ever grows (postmortems/models/audit.py): not a change of data.
IGNORED_ON_REFUSAL = {"postmortems_securityevent"}


def _writes():
    """(route, method) for every write the matrix lists, pages and API alike."""
    return [
        (route, method)
        for route in ROUTES
        for method in route.methods
        if method in WRITE_METHODS
    ]


@pytest.fixture(autouse=True)
def _pagerduty_secret(settings):
    settings.KB_PAGERDUTY_WEBHOOK_SECRETS = [PAGERDUTY_SECRET]


def _allowed_role(route, method) -> str | None:
    """A role the matrix lets make this write to the own team's object: a person
    if any may, else an API key."""
    policy, ok = route.methods[method]
    case = OWN if route.team_scoped else NONE
    for role in ("admin", "reviewer", "editor", "viewer", *KEY_SCOPES):
        if expected(policy, role, case, ok) == ok:
            return role
    return None


def _changed(before: dict, after: dict, ignored=frozenset()) -> list[str]:
    return sorted(
        table
        for table in set(before) | set(after)
        if table not in ignored and before.get(table) != after.get(table)
    )


@pytest.mark.parametrize(
    ("route", "method"), _writes(), ids=lambda v: getattr(v, "name", v)
)
def test_csrf_session_write_without_token_is_refused(route, method):
    """GIVEN a signed-in person allowed to make this write WHEN the request carries
    no CSRF token THEN it is refused (403) and no row changes; with the token, the
    same request is accepted (so the refusal is the CSRF check, not the role)."""
    catalogue = build_catalogue()
    role = _allowed_role(route, method)
    case = OWN if route.team_scoped else NONE
    if role is None:
        # No session or key may write here (Slack's signed URLs): a browser's
        # cross-site post is refused like any other, and changes nothing.
        policy, ok = route.methods[method]
        client = client_for(catalogue, "admin", enforce_csrf_checks=True)
        before = database_fingerprint()
        response = send(catalogue, route, method, "admin", case, client=client)
        assert response.status_code == expected(policy, "admin", case, ok)
        assert response.status_code in (401, 403)
        assert _changed(before, database_fingerprint(), IGNORED_ON_REFUSAL) == []
        return
    client = client_for(catalogue, role, enforce_csrf_checks=True)
    policy, ok = route.methods[method]
    if role in KEY_SCOPES or route.signed == "jira":
        # An API key is not a cookie a browser sends on its own, and a tracker
        # webhook reads no session (its body's signature is the credential):
        # exempt by design.
        response = send(catalogue, route, method, role, case, client=client)
        assert response.status_code == expected(policy, role, case, ok)
        return
    before = database_fingerprint()
    response = send(catalogue, route, method, role, case, client=client)
    assert response.status_code == 403, (role, response.status_code)
    assert _changed(before, database_fingerprint(), IGNORED_ON_REFUSAL) == []

    token = _get_new_csrf_string()
    client.cookies[settings.CSRF_COOKIE_NAME] = token
    response = send(
        catalogue, route, method, role, case, client=client, HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == expected(policy, role, case, ok)


def test_csrf_login_form_needs_the_token(client):
    """Login CSRF: even signed out, the login form refuses a post without a token."""
    build_catalogue()
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        "/accounts/login/", {"username": "editor", "password": "pw"}
    )
    assert response.status_code == 403
    assert "_auth_user_id" not in response.wsgi_request.session


@pytest.mark.parametrize("role", ["admin", "editor"])
def test_no_get_changes_state(role):
    """GIVEN every URL of the catalogue WHEN it is fetched with GET (as a plain page
    and as an htmx request) THEN no row of any table changes."""
    catalogue = build_catalogue()
    client = client_for(catalogue, role)
    problems = []
    for route in ROUTES:
        if "GET" not in route.methods:
            continue
        for case in (OWN, OTHER) if route.team_scoped else (NONE,):
            for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
                before = database_fingerprint()
                response = send(
                    catalogue, route, "GET", role, case, client=client, **headers
                )
                changed = _changed(before, database_fingerprint(), IGNORED_ON_GET)
                if changed:
                    problems.append(f"GET {route.name} {case} {headers}: {changed}")
                if headers:
                    continue  # htmx gets partials; the matrix states plain pages
                policy, ok = route.methods["GET"]
                want = expected(policy, role, case, ok)
                got = response.status_code
                if got != (302 if want == LOGIN else want):
                    problems.append(f"GET {route.name} {case}: {got}, want {want}")
    assert not problems, "\n".join(problems)
