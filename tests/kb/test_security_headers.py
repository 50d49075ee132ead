"""Every page carries the security headers; production cookies are locked down."""

import pytest

pytestmark = pytest.mark.django_db


def _nul_post(client, path):
    """The 400 page a form post with a NUL gets (it echoes what was typed)."""
    response = client.post(path, {"body": "a\x00b"}, HTTP_ACCEPT="text/html")
    assert response.status_code == 400
    return response


@pytest.mark.parametrize(
    ("path", "signed_in", "how"),
    [
        ("/accounts/login/", True, "get"),
        ("/incidents/", True, "get"),
        ("/healthz", True, "get"),
        ("/incidents/", True, "nul"),
        ("/accounts/login/", False, "nul"),
    ],
)
def test_security_headers_on_every_page(client, editor, path, signed_in, how):
    if signed_in:
        client.force_login(editor)
    response = client.get(path) if how == "get" else _nul_post(client, path)
    csp = response["Content-Security-Policy"]
    directives = dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";") if part
    )
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in directives["script-src"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script(client, editor):
    client.force_login(editor)
    html = client.get("/incidents/").content.decode()
    for chunk in html.split("<script")[1:]:
        tag = chunk.split(">", 1)[0]
        assert "src=" in tag or 'type="application/json"' in tag, tag


def test_hsts_and_secure_cookies_in_production(settings, client, editor):
    settings.DEBUG = False
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    response = client.post(
        "/accounts/login/", {"username": "editor", "password": "pw"}, secure=True
    )
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
    page = client.get("/accounts/login/", secure=True)
    assert page["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.parametrize(
    ("referer", "linked"),
    [
        ("http://testserver/incidents/new/", True),
        ("https://evil.example/phish", False),
        ("//evil.example/phish", False),
    ],
)
def test_the_nul_page_links_back_only_to_this_site(client, editor, referer, linked):
    """The 400 page offers "Back to the form" from the Referer, which a stranger
    can set: only to a page of this site."""
    client.force_login(editor)
    response = client.post(
        "/incidents/",
        {"body": "a\x00b"},
        HTTP_ACCEPT="text/html",
        HTTP_REFERER=referer,
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert ("Back to the form" in page) is linked
    assert "evil.example" not in page
