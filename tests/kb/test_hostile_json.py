"""Hostile JSON on every endpoint that takes a JSON body: a 400 that names the
field, never a 500, and not one row written.

The endpoints come from the authorisation matrix (every API write route, sent by a
role allowed to write there), so a new JSON endpoint is swept without being listed
here. The hostile values are what broke the API before ``kb.safejson``: lone
surrogate escapes, NUL characters, integers past 64 bits, numbers that read as
infinity, and nesting deep enough to exhaust Python's recursion.
"""

import json

import pytest
from django.apps import apps
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories
from tests.findings.integrations.test_integrations import (
    ALERTMANAGER_FIRING,
    ROBUSTA,
    TRIGGERED,
)
from tests.findings.test_api import finding
from tests.kb.authz_matrix import ROUTES, expected
from tests.kb.catalogue import NONE, OWN, ROLES, build_catalogue, url_for
from tests.kb.matrix_client import (
    PAGERDUTY_SECRET,
    Rollback,
    client_for,
    signature_headers,
)
from tests.problems import field_errors

pytestmark = pytest.mark.django_db

# Name -> the JSON text of one hostile value.
HOSTILE = {
    "lone-high-surrogate": '"\\ud800"',
    "lone-low-surrogate": '"ab\\udfffcd"',
    "nul-character": '"pay\\u0000ments"',
    "integer-2**70": str(2**70),
    "integer-minus-2**70": str(-(2**70)),
    "integer-2**63": str(2**63),
    "integer-5000-digits": "9" * 5000,
    "number-1e400": "1e400",
    "NaN": "NaN",
    "nested-100-levels": "[" * 100 + "]" * 100,
    "nested-5000-levels": "[" * 5000 + "]" * 5000,
    "nul-in-a-key": '{"a\\u0000b": 1}',
}
# The values whose problem sits at the field they were put in (deep nesting is
# refused by the decoder before any field is known).
NAMES_THE_FIELD = set(HOSTILE) - {"nested-5000-levels"}
WRITES = ("POST", "PUT", "PATCH")

# Valid bodies of the machine API, so that a hostile value sits among real fields.
MACHINE_BODIES = {
    "finding-list": finding(),
    "integration-alertmanager-list": ALERTMANAGER_FIRING,
    "integration-pagerduty-list": TRIGGERED,
    "integration-robusta-list": ROBUSTA,
}


# Actions that take no body: they never read one, so there is nothing to refuse.
BODYLESS = {"insight-run-start", "postmortem-publish"}


def _json_writes() -> list[tuple[object, str]]:
    return [
        (route, method)
        for route in ROUTES
        if route.api and route.name not in BODYLESS
        for method in route.methods
        if method in WRITES
    ]


JSON_WRITES = _json_writes()


def _writer(route, method: str) -> str:
    """A role the matrix lets write to ``route`` (with the own team's objects)."""
    policy, ok = route.methods[method]
    case = OWN if route.team_scoped else NONE
    for role in reversed(ROLES):  # keys and admins first
        if expected(policy, role, case, ok) == ok:
            return role
    raise AssertionError(f"no role may {method} {route.name}")


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def _body_with(base: dict, field: str, hostile: str) -> bytes:
    """``base`` as JSON with ``hostile`` (JSON text) as the value of ``field``."""
    marker = "@@hostile-value@@"
    text = json.dumps({**base, field: marker})
    return text.replace(json.dumps(marker), hostile).encode()


def _client(catalogue, route, method: str):
    client = client_for(catalogue, _writer(route, method))
    client.raise_request_exception = False
    return client


def _send(catalogue, route, method: str, body: bytes, *, client):
    case = OWN if route.team_scoped else NONE
    extra = {}
    extra.update(signature_headers(route, body))
    url = url_for(catalogue, route.name, route.objects, case)
    return client.generic(method, url, body, content_type="application/json", **extra)


def _refusal_problems(response, before: dict, *, field: str | None) -> list[str]:
    """What is wrong with the answer to a hostile body ([] when nothing)."""
    problems = []
    if response.status_code != 400:
        problems.append(f"status {response.status_code}, want 400")
    if "json" not in response.get("Content-Type", ""):
        problems.append(f"Content-Type {response.get('Content-Type')!r} is not JSON")
    else:
        text = json.dumps(response.json())
        if field and field not in text:
            problems.append(f"the answer does not name {field!r}: {text[:200]}")
    written = {
        label: count - before[label]
        for label, count in _row_counts().items()
        if count != before[label]
    }
    if written:
        problems.append(f"rows written: {written}")
    return problems


@pytest.fixture(autouse=True)
def _pagerduty_secret(settings):
    settings.KB_PAGERDUTY_WEBHOOK_SECRETS = [PAGERDUTY_SECRET]


def test_hostile_json_sweep_covers_the_machine_api_and_the_rest_api():
    names = {route.name for route, _ in JSON_WRITES}
    assert set(MACHINE_BODIES) <= names
    assert {"incident-list", "postmortem-detail", "action-item-list"} <= names


@pytest.mark.parametrize(
    ("route", "method"), JSON_WRITES, ids=[f"{r.name}-{m}" for r, m in JSON_WRITES]
)
def test_hostile_json_is_a_400_naming_the_field_and_writes_nothing(route, method):
    """GIVEN every JSON write endpoint and a role allowed to write there
    WHEN a body carries a hostile value, in a field or as the whole body
    THEN the answer is a JSON 400 naming the field, and no row is written."""
    catalogue = build_catalogue()
    base = MACHINE_BODIES.get(route.name, {"title": "A title"})
    field = "incident_id" if route.name == "finding-list" else "title"
    client = _client(catalogue, route, method)
    problems = []
    for name, hostile in HOSTILE.items():
        for placement, body in (
            ("field", _body_with(base, field, hostile)),
            ("body", hostile.encode()),
        ):
            before = _row_counts()
            try:
                with transaction.atomic():
                    response = _send(catalogue, route, method, body, client=client)
                    named = field if placement == "field" else None
                    found = _refusal_problems(
                        response,
                        before,
                        field=named if name in NAMES_THE_FIELD else None,
                    )
                    problems += [f"{name} in the {placement}: {p}" for p in found]
                    raise Rollback
            except Rollback:
                pass
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("route", "method"), JSON_WRITES, ids=[f"{r.name}-{m}" for r, m in JSON_WRITES]
)
def test_api_writes_take_json_only_a_form_body_is_a_415(route, method):
    """GIVEN every API write endpoint and a role allowed to write there
    WHEN the body is a form (every field text, so the schema's types, ranges and
    read-only fields could not hold) THEN the answer is a 415 problem naming the
    media type, and nothing is written."""
    from urllib.parse import urlencode

    catalogue = build_catalogue()
    client = _client(catalogue, route, method)
    body = urlencode({"title": "A title", "updated_at": "null"}).encode()
    case = OWN if route.team_scoped else NONE
    url = url_for(catalogue, route.name, route.objects, case)
    before = _row_counts()
    response = client.generic(
        method,
        url,
        body,
        content_type="application/x-www-form-urlencoded",
        **signature_headers(route, body),
    )
    assert response.status_code == 415, response.content[:300]
    assert response["Content-Type"].startswith("application/problem+json")
    assert "application/x-www-form-urlencoded" in response.json()["detail"]
    assert _row_counts() == before


# -- Property: generated hostile bodies ---------------------------------------------

_SURROGATES = ["\\ud800", "\\udbff", "\\udc00", "\\udfff", "\\u0000"]


def _text_with(parts: tuple[str, str, str]) -> str:
    before, bad, after = parts
    return json.dumps(before)[:-1] + bad + json.dumps(after)[1:]


hostile_values = st.one_of(
    st.sampled_from(list(HOSTILE.values())),
    st.tuples(
        st.text(max_size=12), st.sampled_from(_SURROGATES), st.text(max_size=12)
    ).map(_text_with),
    st.integers(min_value=2**63).map(str),
    st.integers(max_value=-(2**63) - 1).map(str),
    st.integers(min_value=309, max_value=5000).map(lambda e: f"1e{e}"),
    st.integers(min_value=65, max_value=3000).map(lambda d: "[" * d + "]" * d),
    st.integers(min_value=65, max_value=3000).map(
        lambda d: '{"a":' * d + "1" + "}" * d
    ),
)


def _paths(value, prefix=()) -> list[tuple]:
    """Every place in ``value`` a hostile value can replace (dict keys, list items)."""
    places = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            places += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            places += _paths(child, (*prefix, index))
    return places


def _replaced(value, path: tuple, marker: str):
    if not path:
        return marker
    head, *rest = path
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[head] = _replaced(value[head], tuple(rest), marker)
    return copy


HOSTILE_BODY_ROUTES = [
    route
    for route in ROUTES
    if route.name
    in (*MACHINE_BODIES, "incident-list", "postmortem-list", "action-item-list")
]


@pytest.mark.parametrize("route", HOSTILE_BODY_ROUTES, ids=lambda r: r.name)
def test_generated_hostile_bodies_are_refused_and_write_nothing(route):
    """GIVEN an endpoint's real payload (MACHINE_BODIES) or a plausible one
    WHEN Hypothesis puts a generated hostile value anywhere in it
    THEN the answer is a JSON 4xx, never a 5xx, and no row is written."""
    catalogue = build_catalogue()
    base = MACHINE_BODIES.get(
        route.name,
        {"title": "Checkout errors", "team": "payments", "severity": "SEV2"},
    )
    places = _paths(base)
    client = _client(catalogue, route, "POST")

    @settings(
        max_examples=25,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(place=st.sampled_from(places), hostile=hostile_values)
    def check(place, hostile):
        marker = "@@hostile-value@@"
        text = json.dumps(_replaced(base, place, marker))
        body = text.replace(json.dumps(marker), hostile).encode()
        before = _row_counts()
        try:
            with transaction.atomic():
                response = _send(catalogue, route, "POST", body, client=client)
                assert 400 <= response.status_code < 500, (
                    response.status_code,
                    response.content[:300],
                )
                assert "json" in response["Content-Type"]
                response.json()
                assert _row_counts() == before
                raise Rollback
        except Rollback:
            pass

    check()


# -- Slack's request URLs (chat/slack): signed bodies, JSON or forms ----------------


def _slack_bodies(hostile: str) -> dict[str, tuple[str, bytes, str]]:
    """URL name -> (content type, body, field) with ``hostile`` in it."""
    from urllib.parse import urlencode

    from tests.chat.slack_server import fixture

    event = fixture("events/reaction_added.json")
    interaction = json.dumps(fixture("interactions/block_actions.json"))
    marker = json.dumps("@@hostile-value@@")
    command = {**fixture("commands/link.json")}
    form = "application/x-www-form-urlencoded"
    return {
        "chat:slack_events": (
            "application/json",
            _body_with(event, "text", hostile),
            "text",
        ),
        "chat:slack_interactions": (
            form,
            urlencode(
                {
                    "payload": interaction[:-1]
                    + f', "text": {marker}}}'.replace(marker, hostile)
                }
            ).encode(),
            "text",
        ),
        # A form field is text: of the hostile values only a NUL can be sent.
        "chat:slack_commands": (
            form,
            urlencode({**command, "text": json.loads(hostile)}).encode()
            if hostile == HOSTILE["nul-character"]
            else None,
            "text",
        ),
    }


@pytest.mark.parametrize(
    "url_name", ["chat:slack_events", "chat:slack_interactions", "chat:slack_commands"]
)
def test_hostile_input_to_slack_is_a_400_naming_the_field(url_name, settings):
    """GIVEN a correctly signed Slack request WHEN it carries a hostile value
    THEN the answer is a JSON 400 naming the field, and nothing is written."""
    from django.test import Client
    from django.urls import reverse

    from tests.chat.conftest import SIGNING_SECRET, sign

    settings.KB_SLACK_SIGNING_SECRET = SIGNING_SECRET
    build_catalogue()
    client = Client(raise_request_exception=False)
    problems = []
    for name, hostile in HOSTILE.items():
        content_type, body, field = _slack_bodies(hostile)[url_name]
        if body is None:
            continue
        before = _row_counts()
        response = client.post(
            reverse(url_name), data=body, content_type=content_type, **sign(body)
        )
        found = _refusal_problems(
            response, before, field=field if name in NAMES_THE_FIELD else None
        )
        problems += [f"{name}: {problem}" for problem in found]
    assert not problems, "\n".join(problems)


# -- Pages: form posts and query strings --------------------------------------------

# Every text field name the pages' forms and raw POST handlers read (workflow
# comments, class names and descriptions, verdicts...), so that whichever a page
# reads carries the NUL.
FORM_FIELDS = (
    "title",
    "text",
    "body",
    "comment",
    "name",
    "description",
    "section",
    "reason",
    "verdict",
    "category",
    "failure_class",
    "target",
    "note",
    "notes",
    "status_reason",
    "username",
    "password",
)
PAGE_POSTS = [
    route
    for route in ROUTES
    if not route.api and "POST" in route.methods and not route.name.startswith("chat:")
]


@pytest.mark.parametrize("route", PAGE_POSTS, ids=lambda r: r.name)
def test_form_posts_with_a_nul_are_a_400_and_write_nothing(route):
    """GIVEN every page that takes a form post, and a role allowed to post there
    WHEN the form's text fields carry a NUL character (PostgreSQL cannot store it)
    THEN the answer is a 400 page that names the field and gives back what was
    typed (the NUL shown as U+FFFD, a password never), and no row is written."""
    catalogue = build_catalogue()
    client = _client(catalogue, route, "POST")
    case = OWN if route.team_scoped else NONE
    url = url_for(catalogue, route.name, route.objects, case)
    body = {name: "pay\x00ments" for name in FORM_FIELDS}
    body["password"] = "hunter\x002"
    before = _row_counts()
    response = client.post(url, body, HTTP_ACCEPT="text/html")
    stored = _stored_nul()
    written = {k: v - before[k] for k, v in _row_counts().items() if v != before[k]}
    assert not stored, f"stored with a NUL: {stored}"
    assert response.status_code == 400, (response.status_code, response.content[:200])
    assert not written
    page = response.content.decode()
    assert "That text cannot be saved" in page
    assert "pay\ufffdments</textarea>" in page
    assert "hunter" not in page


def test_an_htmx_form_post_with_a_nul_shows_the_page_in_place_of_the_old(
    editor_client, team
):
    """GIVEN the incident page's timeline form, sent by htmx (which swaps no 4xx
    answer unless told) WHEN its text carries a NUL THEN the answer is a 400 that
    tells htmx to show the page giving the text back in place of the whole page,
    and nothing is written."""
    incident = factories.IncidentFactory(team=team)
    url = reverse("postmortems:timeline_entry_create", args=[incident.pk])
    response = editor_client.post(
        url,
        {"occurred_at": "2026-05-01T10:00", "kind": "action", "text": "pay\x00ments"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert response["HX-Retarget"] == "body"
    assert "pay\ufffdments</textarea>" in response.content.decode()
    assert not incident.timeline.exists()


def _stored_nul() -> list[str]:
    """Text columns that now hold a NUL (SQLite can store one; PostgreSQL fails)."""
    from django.db import connection, models

    if connection.vendor != "sqlite":
        return []  # PostgreSQL refuses the write itself: the status says so
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField):
                # In Python: SQLite's LIKE stops at a NUL, so it would match all.
                values = model._default_manager.values_list(field.attname, flat=True)
                if any(value and "\x00" in value for value in values):
                    found.append(f"{model._meta.label}.{field.name}")
    return found


def test_api_form_post_with_a_nul_is_a_json_400_naming_the_field():
    catalogue = build_catalogue()
    route = next(r for r in ROUTES if r.name == "incident-list")
    client = _client(catalogue, route, "POST")
    response = client.post("/api/v1/incidents/", {"title": "a\x00b"})
    assert response.status_code == 400
    assert field_errors(response) == {
        "title": [
            "the text contains a NUL character (position 2), which cannot be stored."
        ]
    }
