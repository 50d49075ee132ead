"""The security log records what matters and can never be rewritten."""

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from postmortems.audit import security_event_record
from postmortems.models import AppendOnlyError, SecurityEvent, SecurityEventKind

pytestmark = pytest.mark.django_db


def _fail_login(client, username="editor"):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": "wrong"},
        REMOTE_ADDR="10.1.2.3",
    )


def test_security_log_records_failed_login(client, editor):
    _fail_login(client)
    event = SecurityEvent.objects.get()
    assert event.kind == SecurityEventKind.LOGIN_FAILED
    assert event.username == "editor"
    assert event.ip_address == "10.1.2.3"


def test_login_lockout_after_repeated_failures_is_logged(client, editor, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _fail_login(client)
    # Even the right password is refused while locked out.
    response = client.post(
        "/accounts/login/",
        {"username": "editor", "password": "pw"},
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.LOCKED_OUT).exists()


def test_security_log_rejects_changes_and_deletes(editor):
    event = security_event_record(kind=SecurityEventKind.LOGIN_FAILED, username="x")
    event.username = "someone-else"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        SecurityEvent.objects.filter(pk=event.pk).update(username="y")
    with pytest.raises(AppendOnlyError):
        SecurityEvent.objects.all().delete()
    assert SecurityEvent.objects.get(pk=event.pk).username == "x"


def test_security_log_raw_sql_update_is_refused_by_the_database(editor):
    event = security_event_record(kind=SecurityEventKind.LOGIN_FAILED, username="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE postmortems_securityevent SET username = 'y' WHERE id = %s",
                [event.pk],
            )
    assert SecurityEvent.objects.get(pk=event.pk).username == "x"


def test_security_log_admin_is_read_only(client, admin_user):
    event = security_event_record(kind=SecurityEventKind.LOGIN_FAILED, username="x")
    client.force_login(admin_user)
    assert client.get("/admin/postmortems/securityevent/").status_code == 200
    delete = client.post(
        f"/admin/postmortems/securityevent/{event.pk}/delete/", {"post": "yes"}
    )
    assert delete.status_code == 403
    assert client.get("/admin/postmortems/securityevent/add/").status_code == 403
    assert SecurityEvent.objects.filter(pk=event.pk).exists()
