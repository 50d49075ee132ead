"""The seams of the pages: caching headers, the readiness probe, branded error
pages, the favicon, flash messages and the password reset limit."""

import uuid

import pytest
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import reverse

from tests.kb.authz_matrix import ROUTES
from tests.kb.catalogue import NONE, TEAM_CASES, build_catalogue
from tests.kb.matrix_client import PAGERDUTY_SECRET, client_for, send

# --- Cache-Control: every signed-in page, every API answer, every export ----------

GET_ROUTES = [
    route
    for route in ROUTES
    if "GET" in route.methods and route.methods["GET"][0] != "post-only"
]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["viewer", "admin", "key-read", "anonymous"])
def test_cache_control_private_no_store_on_every_signed_in_and_api_answer(
    role, settings
):
    """GIVEN every GET route of the authorisation matrix, with the own and the
    other team's objects WHEN a signed-in person, an API key or nobody requests it
    THEN each answer to a person or under /api/ says private, no-store (and
    anonymous pages outside /api/ may be cached as Django decides)."""
    settings.KB_PAGERDUTY_WEBHOOK_SECRETS = [PAGERDUTY_SECRET]
    catalogue = build_catalogue()
    client = client_for(catalogue, role)
    problems = []
    for route in GET_ROUTES:
        for case in TEAM_CASES if route.team_scoped else (NONE,):
            response = send(catalogue, route, "GET", role, case, client=client)
            path = response.wsgi_request.path
            must = role in ("viewer", "admin") or path.startswith("/api/")
            header = response.get("Cache-Control", "")
            if must and header != "private, no-store":
                problems.append(f"{route.name} ({response.status_code}): {header!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_cache_control_on_an_export_download(editor_client):
    response = editor_client.get(reverse("actions:item_export"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


# --- /readyz ----------------------------------------------------------------------


@pytest.mark.django_db
def test_readyz_tells_an_anonymous_caller_only_ready_or_not(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_tells_an_anonymous_caller_nothing_about_a_failure(client):
    from kb.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/readyz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


@pytest.mark.django_db
def test_readyz_tells_staff_the_database_engine(client, admin_user, settings):
    client.force_login(admin_user)
    body = client.get("/readyz").json()
    assert body["status"] == "ok"
    assert body["database"] == settings.DATABASES["default"]["ENGINE"]
    assert body["problems"] == []


# --- Error pages and the favicon --------------------------------------------------


@pytest.mark.django_db
def test_404_page_is_branded_and_keeps_the_navigation(editor_client):
    response = editor_client.get("/incidents/999999/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "There is nothing here" in page
    assert 'class="topbar"' in page
    assert reverse("postmortems:incident_list") in page  # the signed-in nav


@pytest.mark.django_db
def test_403_page_is_branded_and_says_why(client, viewer):
    client.force_login(viewer)
    response = client.get(reverse("postmortems:incident_create"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "You cannot do that here" in page
    assert "Only editors of a team declare incidents." in page


def test_500_page_is_branded_and_needs_no_database():
    """No django_db mark: any query here fails the test."""
    from django.views.defaults import server_error

    response = server_error(RequestFactory().get("/incidents/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert "favicon.svg" in page


@pytest.mark.django_db
def test_500_from_a_view_renders_the_branded_page(client, editor, monkeypatch):
    from postmortems.views import incidents

    def boom(*args, **kwargs):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(incidents.selectors, "incident_list", boom, raising=False)
    monkeypatch.setattr(incidents, "paginate", boom)
    client = Client(raise_request_exception=False)
    client.force_login(editor)
    response = client.get(reverse("postmortems:incident_list"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_favicon_is_linked_from_every_page_layout():
    from pathlib import Path

    base = Path(__file__).resolve().parents[2] / "templates" / "base.html"
    assert "favicon.svg" in base.read_text()


@pytest.mark.django_db
def test_favicon_ico_redirects_to_the_icon_without_a_login(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")


# --- Flash messages are shown once, by the page they were added for --------------


@pytest.fixture
def decided_suggestion(team, editor):
    from findings.models import FindingSuggestion, SuggestionCategory, SuggestionKind
    from tests import factories

    incident = factories.IncidentFactory(team=team)
    finding = factories.FindingFactory(incident=incident)
    return FindingSuggestion.objects.create(
        finding=finding,
        dedupe_key="revert",
        kind=SuggestionKind.REVERT_CHANGE,
        title="Revert the pool size change",
        category=SuggestionCategory.MITIGATION,
    )


ALREADY = "Someone already decided on this suggestion."


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["accept", "dismiss"])
def test_flash_from_an_htmx_action_is_shown_with_it_not_on_the_next_page(
    editor_client, decided_suggestion, action
):
    """GIVEN a suggestion someone already decided WHEN an editor decides it again
    from the incident page (htmx) THEN the note comes with the swapped fragment,
    and the next, unrelated page does not show it again."""
    url = reverse(f"findings:finding_suggestion_{action}", args=[decided_suggestion.pk])
    editor_client.post(url, headers={"HX-Request": "true"})  # decides it
    response = editor_client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert ALREADY in response.content.decode()
    assert 'hx-swap-oob="true"' in response.content.decode()

    later = editor_client.get(reverse("actions:dashboard"))
    assert ALREADY not in later.content.decode()


@pytest.mark.django_db
def test_flash_survives_a_redirect_to_the_page_it_was_for(
    editor_client, decided_suggestion
):
    url = reverse("findings:finding_suggestion_dismiss", args=[decided_suggestion.pk])
    editor_client.post(url)
    response = editor_client.post(url, follow=True)
    assert ALREADY in response.content.decode()
    assert ALREADY not in editor_client.get("/incidents/").content.decode()


# --- Password reset is limited per address and per client -------------------------


@pytest.fixture
def ip():
    """A client address of this test only: the counters live in a shared cache."""
    return f"client-{uuid.uuid4()}"


def _reset(client, email, ip):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_password_reset_sends_a_branded_email(client, editor, ip):
    editor.email = f"{uuid.uuid4()}@example.com"
    editor.save()
    response = _reset(client, editor.email, ip)
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Reset your Hindsight password"
    assert "/accounts/reset/" in mail.outbox[0].body


@pytest.mark.django_db
def test_password_reset_is_limited_per_address(client, editor, settings, ip):
    settings.KB_PASSWORD_RESET_PER_ADDRESS = 3
    editor.email = f"editor-{uuid.uuid4()}@example.com"
    editor.save()
    statuses = [
        _reset(client, editor.email.upper(), ip=f"{ip}-{n}").status_code
        for n in range(12)
    ]
    assert statuses[:3] == [302, 302, 302]
    assert set(statuses[3:]) == {429}
    assert len(mail.outbox) == 3
    refused = _reset(client, editor.email, ip=f"{ip}-other")
    assert "sent to this address several times" in refused.content.decode()
    assert refused["Retry-After"] == str(settings.KB_PASSWORD_RESET_WINDOW_SECONDS)


@pytest.mark.django_db
def test_password_reset_is_limited_per_client(client, editor, settings, ip):
    settings.KB_PASSWORD_RESET_PER_CLIENT = 5
    statuses = [
        _reset(client, f"{uuid.uuid4()}@example.com", ip).status_code for n in range(12)
    ]
    assert statuses[:5] == [302] * 5
    assert set(statuses[5:]) == {429}
    # Another client is not held back by this one.
    other = _reset(client, f"{uuid.uuid4()}@example.com", f"{ip}-other")
    assert other.status_code == 302


@pytest.mark.django_db
def test_password_reset_pages_are_branded(client):
    for name in ("password_reset", "password_reset_done", "password_reset_complete"):
        page = client.get(reverse(name)).content.decode()
        assert 'class="topbar"' in page, name
        assert "Django" not in page, name


# --- Behind a proxy, per-client limits count clients, not the proxy ----------------

PROXY = "10.0.0.2"


def _via_proxy(client, url, data, forwarded_for):
    return client.post(url, data, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)


def _reset_via_proxy(client, forwarded_for, n):
    return _via_proxy(
        client,
        reverse("password_reset"),
        {"email": f"{uuid.uuid4()}@example.com"},
        forwarded_for,
    )


def _login_via_proxy(client, forwarded_for, n):
    return _via_proxy(
        client,
        reverse("login"),
        {"username": "viewer", "password": f"wrong-{n}"},
        forwarded_for,
    )


PER_CLIENT_LIMITS = {
    # limit name -> (send one attempt, setting of the limit, status once limited)
    "password reset": (_reset_via_proxy, "KB_PASSWORD_RESET_PER_CLIENT", 429),
    "login lockout": (_login_via_proxy, "AXES_FAILURE_LIMIT", 429),
}


@pytest.mark.django_db
@pytest.mark.parametrize("limit", PER_CLIENT_LIMITS)
def test_per_client_limits_behind_a_proxy_count_each_client(client, settings, limit):
    """GIVEN Hindsight behind one trusted proxy (KB_TRUSTED_PROXIES=1) WHEN one
    client reaches a per-client limit THEN another client behind the same proxy is
    not held back, and the limited client cannot escape by claiming another
    address at the left of X-Forwarded-For."""
    from tests import factories

    factories.UserFactory(username="viewer")
    settings.KB_TRUSTED_PROXIES = 1
    attempt, setting, limited_status = PER_CLIENT_LIMITS[limit]
    setattr(settings, setting, 3)
    noisy = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    statuses = [attempt(client, noisy, n).status_code for n in range(4)]
    assert statuses[-1] == limited_status, statuses
    # The same client, claiming to be someone else before the proxy's hop.
    forged = attempt(client, f"203.0.113.9, {noisy}", 5)
    assert forged.status_code == limited_status
    # Another client behind the same proxy.
    other = attempt(client, "192.0.2.44", 6)
    assert other.status_code != limited_status, other.status_code
