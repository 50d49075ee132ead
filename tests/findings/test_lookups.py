"""Cached ingestion lookups (API keys, services) never outlive a change.

Every finding posted reads its API key and the services it names; with
KB_LOOKUP_CACHE_SECONDS set they come from the cache. These tests turn the cache on
(the test settings' local-memory cache, one process) and check that revoking a key,
changing its team or renaming a service takes effect on the very next request.
"""

import datetime as dt
import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from findings.models import Finding
from findings.services import api_key_revoke
from tests import factories
from tests.problems import problem

pytestmark = pytest.mark.django_db

URL = "/api/v1/findings/"


@pytest.fixture(autouse=True)
def lookup_cache(settings):
    settings.KB_LOOKUP_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def checkout(team):
    return factories.ServiceFactory(slug="checkout-web", name="Checkout Web", team=team)


def post(client, key: str, n: int, **fields):
    body = {
        "analyzer": "api-tracer",
        "fingerprint": f"checkout-5xx-{n}",
        "incident_key": "checkout-errors",
        "service": "checkout-web",
        "title": f"Checkout 5xx ratio above 5% ({n})",
        **fields,
    }
    return client.post(
        URL,
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Api-Key {key}"},
    )


def test_lookups_come_from_the_cache_after_the_first_post(
    client, findings_key, checkout
):
    assert post(client, findings_key, 1).status_code == 201

    with CaptureQueriesContext(connection) as queries:
        second = post(client, findings_key, 2)

    assert second.status_code == 201
    tables = " ".join(query["sql"] for query in queries.captured_queries)
    assert "postmortems_apikey" not in tables
    assert "postmortems_service" not in tables


def test_a_revoked_key_is_refused_on_the_next_request(
    client, make_api_key, team, checkout
):
    api_key, secret = make_api_key(team)
    assert post(client, secret, 1).status_code == 201  # now cached

    api_key_revoke(api_key=api_key)
    refused = post(client, secret, 2)

    assert refused.status_code == 401
    assert problem(refused)["code"] == "revoked_key"
    assert Finding.objects.count() == 1


def test_a_scope_removed_in_the_admin_applies_on_the_next_request(
    client, make_api_key, team, checkout
):
    api_key, secret = make_api_key(team)
    assert post(client, secret, 1).status_code == 201

    api_key.scopes = ["read"]
    api_key.save()

    assert post(client, secret, 2).status_code == 403


def test_a_team_that_stops_findings_opening_incidents_applies_at_once(
    client, findings_key, team, checkout
):
    assert post(client, findings_key, 1).status_code == 201

    team.allow_auto_incidents = False
    team.save()
    refused = post(client, findings_key, 2, incident_key="a-new-outage")

    assert refused.status_code == 422
    assert "allow_auto_incidents" in json.dumps(refused.json())


def test_a_renamed_service_stops_answering_to_its_old_slug(
    client, findings_key, checkout
):
    assert post(client, findings_key, 1).status_code == 201

    checkout.slug = "checkout-frontend"
    checkout.save()
    old = post(client, findings_key, 2)
    new = post(client, findings_key, 3, service="checkout-frontend")

    assert old.status_code == 422
    assert "checkout-web" in json.dumps(old.json())
    assert new.status_code == 201
    assert Finding.objects.get(fingerprint="checkout-5xx-3").service == checkout


def test_a_deleted_service_is_unknown_on_the_next_request(
    client, findings_key, checkout
):
    assert post(client, findings_key, 1).status_code == 201
    Finding.objects.all().delete()

    checkout.delete()
    response = post(client, findings_key, 2)

    assert response.status_code == 422
    assert Finding.objects.count() == 0


PLAIN = (dict, list, str, int, float, bool, type(None), dt.datetime)


def _plain(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return isinstance(value, PLAIN)


def test_api_keys_are_cached_as_plain_values_not_pickled_models(
    client, make_api_key, team, checkout
):
    """GIVEN a key read once (so cached)
    THEN the cache holds its ids, hash, scopes and expiry and its team's fields as
    plain values, with no model instance a later deploy could fail to unpickle,
    and the next request authenticates from them."""
    api_key, secret = make_api_key(team, scopes=["findings:write", "read"])
    assert post(client, secret, 1).status_code == 201

    entry = cache.get(f"lookup:api-key:v2:{api_key.prefix}")

    assert isinstance(entry, dict) and _plain(entry)
    assert entry["api_key"]["hashed_key"] == api_key.hashed_key
    assert entry["api_key"]["scopes"] == ["findings:write", "read"]
    assert entry["api_key"]["team_id"] == team.pk
    assert entry["team"]["allow_auto_incidents"] is True
    with CaptureQueriesContext(connection) as queries:
        listed = client.get(URL, headers={"Authorization": f"Api-Key {secret}"})
    assert listed.status_code == 200
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert "postmortems_apikey" not in sql


def test_an_unreadable_cache_entry_is_read_again_from_the_database(
    client, make_api_key, team, checkout
):
    """An entry of another shape (an older version's) is a miss, not an error."""
    api_key, secret = make_api_key(team)
    cache.set(f"lookup:api-key:v2:{api_key.prefix}", {"api_key": {"id": "x"}}, 60)

    assert post(client, secret, 1).status_code == 201
    assert _plain(cache.get(f"lookup:api-key:v2:{api_key.prefix}"))
