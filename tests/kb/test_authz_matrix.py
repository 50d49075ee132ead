"""Every URL pattern x every role x own-team and other-team objects gets the status
the authorisation matrix (tests/kb/authz_matrix.py) says."""

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from postmortems.models import SecurityEvent, SecurityEventKind
from tests.kb.authz_matrix import LOGIN, MATRIX, ROUTES, expected
from tests.kb.catalogue import NONE, ROLES, SESSION_ROLES, TEAM_CASES, build_catalogue
from tests.kb.matrix_client import PAGERDUTY_SECRET, Rollback, send

pytestmark = pytest.mark.django_db


def _walk(patterns, prefix="", namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            if namespace and inner:
                inner = f"{namespace}:{inner}"
            yield from _walk(
                pattern.url_patterns, prefix + str(pattern.pattern), inner or namespace
            )
        elif isinstance(pattern, URLPattern):
            name = pattern.name
            if name and namespace:
                name = f"{namespace}:{name}"
            yield name, prefix + str(pattern.pattern)


def url_patterns() -> list[tuple[str | None, str]]:
    """(name, route) of every URL pattern, the Django admin's left out."""
    return [
        (name, route)
        for name, route in _walk(get_resolver().url_patterns)
        if not route.startswith("admin/")
    ]


def test_authz_matrix_lists_every_url_pattern():
    """GIVEN the URL configuration WHEN a pattern is added THEN it must be classified
    in the matrix (names shared by DRF's format-suffix variants count once)."""
    unnamed = sorted(route for name, route in url_patterns() if not name)
    assert not unnamed, f"URL patterns without a name cannot be classified: {unnamed}"
    names = {name for name, _ in url_patterns()}
    missing = sorted(names - set(MATRIX))
    assert not missing, f"Classify these URL patterns in authz_matrix.py: {missing}"
    stale = sorted(set(MATRIX) - names)
    assert not stale, f"authz_matrix.py lists URL names that no longer exist: {stale}"
    assert len(ROUTES) == len(MATRIX), "a route is listed twice in the matrix"


def _cases(route):
    return TEAM_CASES if route.team_scoped else (NONE,)


WRITES = ("POST", "PUT", "PATCH", "DELETE")


def _check(catalogue, route, method, role, case) -> str | None:
    policy, ok = route.methods[method]
    want = expected(policy, role, case, ok)
    events = SecurityEvent.objects.filter(kind=SecurityEventKind.PERMISSION_DENIED)
    before = events.count()
    response = send(catalogue, route, method, role, case)
    got = response.status_code
    # A refused write by someone the server knows (a signed-in person, or an API
    # key on an endpoint that takes keys) is a security event. Anonymous requests
    # are unauthenticated, not refused, and are not logged.
    known = role in SESSION_ROLES[1:] or (
        role in catalogue.keys and policy.startswith("machine")
    )
    if known and method in WRITES and got == 403 and events.count() == before:
        return f"{method} {role}/{case}: refused write left no security event"
    if want == LOGIN:
        location = response.get("Location", "")
        if got == 302 and location.startswith(reverse("login")):
            return None
        return f"{method} {role}/{case}: want login redirect, got {got} {location}"
    if got != want:
        return f"{method} {role}/{case} ({policy}): want {want}, got {got}"
    return None


@pytest.fixture(autouse=True)
def _pagerduty_secret(settings):
    settings.KB_PAGERDUTY_WEBHOOK_SECRETS = [PAGERDUTY_SECRET]


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_authz_matrix(route):
    catalogue = build_catalogue()
    problems = []
    for method in route.methods:
        for role in ROLES:
            for case in _cases(route):
                # Each request sees the catalogue as built: writes are rolled back.
                try:
                    with transaction.atomic():
                        problems.append(_check(catalogue, route, method, role, case))
                        raise Rollback
                except Rollback:
                    pass
    problems = [problem for problem in problems if problem]
    assert not problems, "\n".join(problems)


def test_authz_api_format_suffix_needs_authentication():
    """/api/v1/incidents.json is the same view as /api/v1/incidents/: no bypass."""
    build_catalogue()
    for name in ("incident-list", "postmortem-list", "action-item-list", "api-root"):
        url = reverse(name, kwargs={"format": "json"})
        assert Client().get(url).status_code == 401, url


def test_authz_admin_is_for_staff_only():
    """One rule covers the Django admin: every model's list is staff only."""
    catalogue = build_catalogue()
    urls = [reverse("admin:index")] + [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]
    for role in SESSION_ROLES:
        client = Client()
        if role != "anonymous":
            client.force_login(catalogue.users[role])
        for url in urls:
            response = client.get(url)
            if role == "admin":
                assert response.status_code == 200, url
            else:
                # Signed out: the site's login; signed in but not staff: the admin's.
                assert response.status_code == 302, (role, url)
                assert response["Location"].startswith(
                    (reverse("login"), reverse("admin:login"))
                ), (role, url)
