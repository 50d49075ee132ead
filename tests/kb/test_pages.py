"""Login everywhere, and the health probes."""

import pytest

pytestmark = pytest.mark.django_db


def test_pages_require_login(client):
    response = client.get("/incidents/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_healthz_needs_no_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_database_broker_and_model(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ok"


def test_readyz_is_503_when_the_broker_is_unreachable(client, settings, admin_user):
    from kb.celery import app

    client.force_login(admin_user)  # staff see which check failed
    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/readyz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    assert any(p.startswith("broker") for p in response.json()["problems"])


def test_login_page_signs_a_user_in(client, editor):
    response = client.post(
        "/accounts/login/", {"username": "editor", "password": "pw"}, follow=True
    )
    assert response.status_code == 200
    assert response.context["user"].username == "editor"


def test_pages_for_a_user_without_a_profile_write_nothing(client):
    """GIVEN a superuser made by createsuperuser (no profile row)
    WHEN they open pages THEN they act as an admin and no Profile row is created."""
    from django.contrib.auth import get_user_model

    from postmortems.models import Profile

    user = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    client.force_login(user)
    assert client.get("/incidents/").status_code == 200
    assert client.get("/actions/dashboard/").status_code == 200
    assert not Profile.objects.filter(user=user).exists()
