"""Send one request of the authorisation matrix: a route, a method, a role, a case."""

import hashlib
import hmac
import json

from django.test import Client

from tests.kb.catalogue import Catalogue, url_for


class Rollback(Exception):
    """Raised inside transaction.atomic() to undo one request's writes."""


# The PagerDuty webhook secret the matrix signs with (set by the tests).
PAGERDUTY_SECRET = "matrix-pagerduty-secret"
# The Jira webhook secret (set by tests/kb/conftest.py).
JIRA_SECRET = "matrix-jira-secret"


def signature_headers(route, raw: bytes) -> dict:
    """The headers that sign ``raw`` for a signed route."""
    if route.signed == "jira":
        digest = hmac.new(JIRA_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        return {"HTTP_X_HUB_SIGNATURE": f"sha256={digest}"}
    if route.signed:
        digest = hmac.new(PAGERDUTY_SECRET.encode(), raw, hashlib.sha256)
        return {"HTTP_X_PAGERDUTY_SIGNATURE": f"v1={digest.hexdigest()}"}
    return {}


def client_for(catalogue: Catalogue, role: str, **kwargs) -> Client:
    """A browser signed in as ``role``, or a machine sending the role's API key."""
    if role in catalogue.keys:
        return Client(HTTP_AUTHORIZATION=f"Api-Key {catalogue.keys[role]}", **kwargs)
    client = Client(**kwargs)
    if role != "anonymous":
        client.force_login(catalogue.users[role])
    return client


def body_for(catalogue: Catalogue, route, case: str) -> dict:
    """The route's write body; "{name}" values become that object's slug or pk."""
    body = {}
    for key, value in route.body.items():
        if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
            obj = catalogue.obj(case, value[1:-1])
            value = getattr(obj, "slug", None) or obj.pk
        body[key] = value
    return body


def send(catalogue, route, method, role, case, *, client=None, **extra):
    client = client or client_for(catalogue, role)
    url = url_for(catalogue, route.name, route.objects, case)
    if method in ("GET", "HEAD"):
        return getattr(client, method.lower())(url, **extra)
    body = body_for(catalogue, route, case)
    if route.api:
        raw = json.dumps(body).encode()
        for header, value in signature_headers(route, raw).items():
            extra.setdefault(header, value)
        return client.generic(
            method, url, raw, content_type="application/json", **extra
        )
    return client.post(url, body, **extra)
