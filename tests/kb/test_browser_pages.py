"""The error pages, the preferences page and the password reset page in Chromium,
wide and at 390 px: branded, readable, and no wider than the screen."""

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"wide": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def _fits(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("size", SIZES)
def test_browser_error_and_settings_pages_look_finished(
    page, live_server, login, viewer, size, screenshot_dir
):
    viewer.email = "viewer@example.com"
    viewer.save()
    page.set_viewport_size(SIZES[size])
    # Signed out: the password reset form.
    page.goto(f"{live_server.url}{reverse('password_reset')}")
    assert page.get_by_role("heading", name="Reset your password").is_visible()
    page.screenshot(path=screenshot_dir / f"password-reset-{size}.png")

    login(page, "viewer")
    shots = {
        "404": ("/incidents/999999/", "There is nothing here"),
        "403": (reverse("postmortems:incident_create"), "You cannot do that here"),
        "preferences": (reverse("notifications:preferences"), "Notifications"),
    }
    for name, (url, heading) in shots.items():
        page.goto(f"{live_server.url}{url}")
        assert page.get_by_role("heading", name=heading, exact=True).is_visible()
        assert _fits(page), name
        page.screenshot(path=screenshot_dir / f"{name}-{size}.png", full_page=True)

    # The 500 page as Django's handler renders it (no request, no database).
    html = server_error(RequestFactory().get("/")).content.decode()
    page.route(
        f"{live_server.url}/boom",
        lambda route: route.fulfill(status=500, body=html, content_type="text/html"),
    )
    page.goto(f"{live_server.url}/boom")
    assert page.get_by_role(
        "heading", name="Something went wrong on our side"
    ).is_visible()
    assert _fits(page)
    page.screenshot(path=screenshot_dir / f"500-{size}.png", full_page=True)
