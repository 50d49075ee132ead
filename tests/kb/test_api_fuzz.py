"""Fuzz the whole OpenAPI schema with schemathesis: signed in and signed out.

Every operation gets generated requests (bounded and derandomized so CI runs the
same few minutes every time). Signed in, every response must be a documented
status with a body that matches the schema and never a 5xx; signed out, no
operation answers 2xx (the schema itself is the only public API route, and it is
not one of the operations).
"""

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kb.wsgi import application
from tests.kb.catalogue import build_catalogue

# Loaded at import (schemathesis' pytest fixture loader crashes on pytest 9).
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

# What a response must satisfy. Request-side checks (schema-valid data accepted,
# invalid data rejected) are left out: a schema cannot say that an incident id
# must exist or that timestamps must be in order, so a correct 400 would fail them.
# Authentication is checked by the signed-out test below, not by schemathesis'
# ignored_auth (it cannot tell our session cookie from the ones it generates).
RESPONSE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# Path ids of the catalogue's real objects, per resource (set by the fixture), so
# the fuzzer updates and reads real rows instead of only ever hitting 404s.
REAL_IDS: dict[str, list] = {}


@schema.hook
def map_case(context, case):
    resource = case.path.split("/")[3] if case.path.count("/") > 4 else None
    ids = REAL_IDS.get(resource)
    params = case.path_parameters or {}
    key = "slug" if "slug" in params else "id"
    if ids and isinstance(params.get(key), int | str) and key in params:
        # Most generated ids become real ones; a few stay made up (404 paths).
        drawn = params[key]
        number = drawn if isinstance(drawn, int) else len(drawn)
        if number % 5:
            params[key] = ids[number % len(ids)]
    return case


# The admin run adds the coverage phase (boundary values of every parameter, as
# explicit examples); the others fuzz only, to stay within a few minutes.
FUZZ = settings(
    phases=[Phase.generate],
    max_examples=12,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _session(user) -> dict:
    """What a signed-in browser sends: its session and CSRF cookies, and the token
    in the header (the WSGI transport takes cookies apart from headers)."""
    client = Client()
    client.force_login(user)
    token = _get_new_csrf_string()
    return {
        "cookies": {
            django_settings.SESSION_COOKIE_NAME: client.cookies[
                django_settings.SESSION_COOKIE_NAME
            ].value,
            django_settings.CSRF_COOKIE_NAME: token,
        },
        "headers": {"X-CSRFToken": token},
    }


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Schemathesis calls the real WSGI handler, whose request signals close "old"
    database connections; that would close the test's own transaction (Django's
    test client disconnects the same handler for the same reason)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def catalogue(db):
    # Gives generated ids something to find (own and other team's objects).
    catalogue = build_catalogue()
    teams = catalogue.cases.values()
    REAL_IDS.clear()
    REAL_IDS.update(
        {
            "teams": [objs.team.pk for objs in teams],
            "services": [objs.service.pk for objs in teams],
            "incidents": [objs.incident.pk for objs in teams],
            "postmortems": [
                pm.pk
                for objs in teams
                for pm in (objs.draft, objs.in_review, objs.approved)
            ],
            "action-items": [objs.item.pk for objs in teams],
            "failure-classes": [catalogue.failure_class.slug],
            "insight-runs": [catalogue.insight_run.pk],
            "findings": [objs.finding.pk for objs in teams],
        }
    )
    return catalogue


@pytest.fixture
def admin_session(catalogue):
    return _session(catalogue.users["admin"])


@pytest.fixture
def editor_session(catalogue):
    return _session(catalogue.users["editor"])


@schema.parametrize()
@settings(FUZZ, phases=[Phase.explicit, Phase.generate])
def test_api_fuzz_signed_in_as_admin(case, admin_session):
    case.call_and_validate(checks=RESPONSE_CHECKS, **admin_session)


@schema.parametrize()
@FUZZ
def test_api_fuzz_signed_in_as_editor(case, editor_session):
    case.call_and_validate(checks=RESPONSE_CHECKS, **editor_session)


@pytest.fixture
def api_key_auth(catalogue):
    """A machine with every scope, so each machine endpoint gets past the scopes."""
    from postmortems.findings.services import api_key_create

    team = catalogue.cases["own"].team
    _, secret = api_key_create(
        name="fuzzer", team=team, scopes=["findings:write", "alerts:write", "read"]
    )
    return {"headers": {"Authorization": f"Api-Key {secret}"}}


@schema.parametrize()
@FUZZ
def test_api_fuzz_with_an_api_key(case, api_key_auth, settings):
    settings.KB_PAGERDUTY_WEBHOOK_SECRETS = ["fuzz-secret"]
    case.call_and_validate(checks=RESPONSE_CHECKS, **api_key_auth)


@schema.parametrize()
@FUZZ
def test_api_fuzz_signed_out_is_refused(case, catalogue):
    response = case.call()
    assert response.status_code < 500, response.text[:500]
    assert not 200 <= response.status_code < 300, (
        f"{case.method} {case.formatted_path} answered {response.status_code} "
        "without authentication"
    )
