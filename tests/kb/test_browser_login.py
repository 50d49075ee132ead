"""A person signs in through the real login page in Chromium."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_browser_login_lands_on_incidents(page, live_server, editor, login):
    login(page, "editor")
    assert page.url.endswith("/incidents/")
    assert page.locator("h1").inner_text() == "Incidents"


def test_browser_login_wrong_password_shows_error(page, live_server, editor):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "editor")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    assert "did not match" in page.locator("[role=alert]").inner_text()
