"""Every security event reaches the append-only log, through the way people and
machines really cause it: a login form, the admin, the command line, the API.

(The matrix, tests/kb/test_authz_matrix.py, also checks that every refused write of
every route leaves a permission_denied event.)
"""

import hashlib
import hmac
import json

import pytest
from django.core.management import call_command
from django.test import Client

from findings.models import ApiKey
from postmortems.models import SecurityEvent, SecurityEventKind
from tests.kb.catalogue import OWN, build_catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def cat():
    return build_catalogue()


def _kinds() -> list[str]:
    """The kinds logged so far, less the catalogue's own API keys' creation."""
    return list(
        SecurityEvent.objects.exclude(kind=SecurityEventKind.API_KEY_CREATED)
        .order_by("pk")
        .values_list("kind", flat=True)
    )


def test_event_login_failure_on_the_admin_login_too(cat):
    Client().post(
        "/admin/login/?next=/admin/",
        {"username": "admin", "password": "wrong"},
        REMOTE_ADDR="10.9.8.7",
    )
    event = SecurityEvent.objects.get(kind=SecurityEventKind.LOGIN_FAILED)
    assert (event.username, event.ip_address) == ("admin", "10.9.8.7")


def test_event_lockout_names_the_account(cat, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/accounts/login/",
            {"username": "viewer", "password": "wrong"},
            REMOTE_ADDR="10.9.8.7",
        )
    locked = SecurityEvent.objects.get(kind=SecurityEventKind.LOCKED_OUT)
    assert locked.username == "viewer"
    assert _kinds().count(SecurityEventKind.LOGIN_FAILED) == settings.AXES_FAILURE_LIMIT


def test_event_permission_denied_on_a_page_write(cat):
    client = Client()
    client.force_login(cat.users["viewer"])
    incident = cat.cases[OWN].incident
    response = client.post(f"/incidents/{incident.pk}/edit/", {"title": "x"})
    assert response.status_code == 403
    event = SecurityEvent.objects.get(kind=SecurityEventKind.PERMISSION_DENIED)
    assert event.user == cat.users["viewer"]
    assert (event.method, event.path) == ("POST", f"/incidents/{incident.pk}/edit/")


def test_event_permission_denied_on_a_service_refusal(cat):
    """The view lets the request in; the service refuses (editor approving)."""
    client = Client()
    client.force_login(cat.users["editor"])
    in_review = cat.cases[OWN].in_review
    assert client.post(f"/postmortems/{in_review.pk}/approve/").status_code == 403
    assert _kinds() == [SecurityEventKind.PERMISSION_DENIED]


def test_event_permission_denied_on_a_session_api_write(cat):
    client = Client()
    client.force_login(cat.users["viewer"])
    incident = cat.cases[OWN].incident
    response = client.patch(
        f"/api/v1/incidents/{incident.pk}/",
        json.dumps({"title": "x"}),
        content_type="application/json",
    )
    assert response.status_code == 403
    event = SecurityEvent.objects.get(kind=SecurityEventKind.PERMISSION_DENIED)
    assert event.user == cat.users["viewer"]
    assert event.method == "PATCH"


def test_event_permission_denied_for_an_api_key_without_the_scope(cat):
    response = Client().post(
        "/api/v1/findings/",
        "{}",
        content_type="application/json",
        headers={"Authorization": f"Api-Key {cat.keys['key-read']}"},
    )
    assert response.status_code == 403
    event = SecurityEvent.objects.get(kind=SecurityEventKind.PERMISSION_DENIED)
    assert event.username.startswith("api-key:")


def test_reads_refused_are_not_security_events(cat):
    """A viewer opening an edit form is refused (403) but writes nothing: only
    refused writes are logged, so the log stays readable."""
    client = Client()
    client.force_login(cat.users["viewer"])
    incident = cat.cases[OWN].incident
    assert client.get(f"/incidents/{incident.pk}/edit/").status_code == 403
    assert _kinds() == []


def test_event_api_key_created_from_the_command_line(cat, capsys):
    before = SecurityEvent.objects.filter(kind=SecurityEventKind.API_KEY_CREATED)
    count = before.count()
    call_command(
        "create_api_key", "ci-analyzer", "--team", "payments", "--scope", "read"
    )
    assert before.count() == count + 1
    event = before.order_by("-pk").first()
    assert event.detail["name"] == "ci-analyzer"
    assert event.detail["team"] == "payments"
    # The secret is printed, never logged.
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    assert secret not in json.dumps(event.detail)


def test_event_api_key_revoked_and_deleted_in_the_admin(cat):
    client = Client()
    client.force_login(cat.users["admin"])
    revoked, deleted = ApiKey.objects.order_by("pk")[:2]
    changelist = "/admin/findings/apikey/"
    client.post(
        changelist,
        {"action": "revoke_selected", "_selected_action": [revoked.pk]},
    )
    client.post(
        f"/admin/findings/apikey/{deleted.pk}/delete/",
        {"post": "yes"},
    )
    events = SecurityEvent.objects.filter(kind=SecurityEventKind.API_KEY_REVOKED)
    assert sorted(event.detail["prefix"] for event in events) == sorted(
        [revoked.prefix, deleted.prefix]
    )
    assert all(event.user == cat.users["admin"] for event in events)


def test_event_api_key_rejected_when_revoked(cat):
    api_key = ApiKey.objects.get(name="key-read")
    api_key.revoke()
    api_key.save()
    response = Client().get(
        "/api/v1/findings/",
        headers={"Authorization": f"Api-Key {cat.keys['key-read']}"},
    )
    assert response.status_code == 401
    event = SecurityEvent.objects.get(kind=SecurityEventKind.API_KEY_REJECTED)
    assert event.username == f"api-key:{api_key.prefix}"


def test_event_webhook_signature_rejected(cat, settings):
    settings.KB_PAGERDUTY_WEBHOOK_SECRETS = ["right-secret"]
    body = b'{"event": {"event_type": "incident.triggered"}}'
    wrong = hmac.new(b"wrong-secret", body, hashlib.sha256).hexdigest()
    response = Client().post(
        "/api/v1/integrations/pagerduty/",
        body,
        content_type="application/json",
        headers={
            "Authorization": f"Api-Key {cat.keys['key-alerts']}",
            "X-PagerDuty-Signature": f"v1={wrong}",
        },
    )
    assert response.status_code == 401
    event = SecurityEvent.objects.get(kind=SecurityEventKind.WEBHOOK_SIGNATURE_REJECTED)
    assert event.detail.get("reason") == "signature_mismatch"
