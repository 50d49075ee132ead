"""API keys: create_api_key, the admin (secret shown once, revoke), hashing, logs."""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from findings.models import ApiKey
from postmortems.models import SecurityEvent

pytestmark = pytest.mark.django_db


def post_finding(client, key):
    return client.post(
        "/api/v1/findings/",
        data=json.dumps(
            {
                "analyzer": "a",
                "fingerprint": "f",
                "incident_key": "k",
                "title": "t",
            }
        ),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def test_create_api_key_prints_the_key_on_its_last_line_and_it_works(client, team):
    out = StringIO()

    call_command(
        "create_api_key",
        "analyzer-prod",
        "--team",
        "payments",
        "--scope",
        "findings:write",
        "--scope",
        "read",
        "--expires-in-days",
        "30",
        stdout=out,
    )

    lines = out.getvalue().strip().splitlines()
    secret = lines[-1]
    api_key = ApiKey.objects.get()
    assert secret.startswith(api_key.prefix + ".")
    assert "Store the key now" in out.getvalue()
    assert api_key.team == team
    assert api_key.scopes == ["findings:write", "read"]
    expected = timezone.now() + dt.timedelta(days=30)
    assert abs((api_key.expiry_date - expected).total_seconds()) < 60
    assert post_finding(client, secret).status_code == 201
    event = SecurityEvent.objects.get(kind="api_key_created")
    assert event.username == "manage.py create_api_key"
    assert event.detail["prefix"] == api_key.prefix


def test_create_api_key_stores_only_a_hash(team):
    out = StringIO()
    call_command(
        "create_api_key", "x", "--team", "payments", "--scope", "read", stdout=out
    )
    secret = out.getvalue().strip().splitlines()[-1]

    api_key = ApiKey.objects.get()

    stored = [str(getattr(api_key, f.attname)) for f in ApiKey._meta.concrete_fields]
    assert not any(secret.split(".", 1)[1] in value for value in stored)
    assert api_key.hashed_key.startswith("sha512$$")


def test_create_api_key_unknown_team_is_a_clear_error(team):
    with pytest.raises(CommandError, match="No team 'nope' \\(teams: payments\\)"):
        call_command("create_api_key", "x", "--team", "nope", "--scope", "read")


def test_create_api_key_unknown_scope_is_refused(team):
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("create_api_key", "x", "--team", "payments", "--scope", "admin")


def test_admin_creates_a_key_and_shows_the_secret_once(client, admin_user, team):
    client.force_login(admin_user)

    response = client.post(
        "/admin/findings/apikey/add/",
        {
            "name": "alertmanager",
            "team": team.pk,
            "scopes": ["alerts:write"],
            "expiry_date_0": "",
            "expiry_date_1": "",
        },
        follow=True,
    )

    assert response.status_code == 200
    api_key = ApiKey.objects.get()
    messages = [str(m) for m in response.context["messages"]]
    secret = next(
        m.split("is: ")[1].split(" ")[0] for m in messages if "Store it now" in m
    )
    assert secret.startswith(api_key.prefix)
    assert api_key.scopes == ["alerts:write"]
    # Shown once: the key's page does not show it again.
    page = client.get(f"/admin/findings/apikey/{api_key.pk}/change/")
    assert secret not in page.content.decode()
    event = SecurityEvent.objects.get(kind="api_key_created")
    assert event.user == admin_user


def test_admin_revokes_keys_and_they_stop_working(
    client, admin_user, team, make_api_key
):
    api_key, secret = make_api_key(team)
    client.force_login(admin_user)

    client.post(
        "/admin/findings/apikey/",
        {"action": "revoke_selected", "_selected_action": [api_key.pk]},
    )

    api_key.refresh_from_db()
    assert api_key.revoked and api_key.revoked_at is not None
    assert post_finding(client, secret).status_code == 401
    event = SecurityEvent.objects.get(kind="api_key_revoked")
    assert event.user == admin_user
    assert event.detail["prefix"] == api_key.prefix


def test_rejected_keys_and_refused_writes_are_in_the_security_log(
    client, team, make_api_key
):
    _, reader = make_api_key(team, scopes=["read"], name="reader")

    post_finding(client, "abcdefgh.wrong")
    post_finding(client, reader)

    rejected = SecurityEvent.objects.get(kind="api_key_rejected")
    assert rejected.detail == {"reason": "invalid_key"}
    assert rejected.path == "/api/v1/findings/"
    denied = SecurityEvent.objects.get(kind="permission_denied")
    assert denied.username.startswith("api-key:")
    assert "findings:write" in denied.detail["reason"]
