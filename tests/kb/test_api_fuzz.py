"""Fuzz the whole OpenAPI schema with schemathesis, as every identity the API knows.

Every operation gets generated requests, schema-valid and schema-violating, sent
as anonymous, as each role (viewer, editor, reviewer, admin) and with an API key of
each scope. Every check applies: responses match the schema (status, content type,
headers, body), schema-valid requests are accepted (or refused for a reason the
schema cannot express: 401/403/404/409/422), schema-violating ones are rejected,
undocumented methods answer 405, and nothing answers 5xx.

Bounded and derandomized (a fixed seed, MAX_EXAMPLES per operation and identity),
so CI runs the same few minutes every time. The number of cases sent is printed at
the end of the run (tests/kb/conftest.py).
"""

import os

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from hypothesis import HealthCheck, Phase, settings
from schemathesis.core.parameters import ParameterLocation

from kb.wsgi import application
from tests.kb.catalogue import ROLES, build_catalogue

# Loaded at import (schemathesis' pytest fixture loader crashes on pytest 9).
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# A schema-valid request may still name something that does not exist or break a
# rule no schema can state (timestamps in order): the API answers those 422, never
# 400 (kb.problems), and 422 is documented on every operation that takes a body.
# Schemathesis already allows 404 and 409 for the same reason.
# The schema's description says text may hold no NUL character (PostgreSQL cannot
# store one); JSON Schema cannot say it of free-form values and keys, so the run
# does not generate NULs. tests/kb/test_hostile_json.py sends them everywhere.
schema.config.generation.allow_x00 = False
schema.config.checks.positive_data_acceptance.expected_statuses = [
    *schema.config.checks.positive_data_acceptance.expected_statuses,
    "422",
]

# Per operation and identity; KB_FUZZ_EXAMPLES overrides it for a deeper local run.
MAX_EXAMPLES = int(os.environ.get("KB_FUZZ_EXAMPLES", "10"))
CASES_SENT = {"count": 0}
# The credentials of the identity under test (set by the ``credentials`` fixture).
CURRENT: dict = {}

# Path ids of the catalogue's real objects, per resource (set by the fixture), so
# the fuzzer updates and reads real rows instead of only ever hitting 404s.
REAL_IDS: dict[str, list] = {}


@schema.hook
def map_case(context, case):
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH):
        # A deliberately invalid id stays invalid (it must be rejected).
        return case
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


@schema.auth(refresh_interval=None, retry_on=[])
class IdentityAuth:
    """Puts the identity's session cookie or API key on every case, as explicit
    credentials: the ignored_auth check then takes them away and expects 401."""

    def get(self, case, context):
        return CURRENT.get("credentials")

    def set(self, case, data, context):
        case.cookies = {**(case.cookies or {}), **data["cookies"]}
        case.headers = {**(case.headers or {}), **data["headers"]}


# Generated cases for every identity; the coverage phase (boundary and missing
# values of every parameter, as explicit examples) once per operation, as the
# admin, who gets past every permission check: enough to keep the run to minutes.
FUZZ = settings(
    phases=[Phase.generate],
    max_examples=MAX_EXAMPLES,
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
def catalogue(db, settings):
    # Gives generated ids something to find (own and other team's objects).
    settings.KB_PAGERDUTY_WEBHOOK_SECRETS = ["fuzz-secret"]
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
def credentials(catalogue, identity):
    """The identity's cookies and headers, made once per operation and identity."""
    if identity == "anonymous":
        CURRENT["credentials"] = None
    elif identity in catalogue.keys:
        CURRENT["credentials"] = {
            "cookies": {},
            "headers": {"Authorization": f"Api-Key {catalogue.keys[identity]}"},
        }
    else:
        CURRENT["credentials"] = _session(catalogue.users[identity])
    yield
    CURRENT.clear()


def _fuzz(case) -> None:
    CASES_SENT["count"] += 1
    case.call_and_validate()


@pytest.mark.parametrize("identity", ["admin"])
@schema.parametrize()
@settings(FUZZ, phases=[Phase.explicit, Phase.generate])
def test_api_fuzz_with_coverage(case, identity, credentials):
    _fuzz(case)


@pytest.mark.parametrize("identity", [role for role in ROLES if role != "admin"])
@schema.parametrize()
@FUZZ
def test_api_fuzz(case, identity, credentials):
    _fuzz(case)
