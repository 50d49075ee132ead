"""/api/docs/ shows the API reference in Chromium under the site's
Content-Security-Policy (it was a blank page: the policy blocked Swagger UI's
inline script)."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_browser_api_docs_render_every_endpoint_without_csp_violations(
    page, live_server, screenshot_dir
):
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    response = page.goto(f"{live_server.url}/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]

    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    assert "Hindsight API" in page.locator(".information-container .title").inner_text()
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/findings/" in paths
    assert "/api/v1/incidents/{id}/" in paths
    page.screenshot(path=str(screenshot_dir / "api-docs.png"), full_page=False)
    assert violations == []


def test_browser_api_docs_show_the_problem_details_of_an_error(page, live_server):
    page.goto(f"{live_server.url}/api/docs/#/integrations/integrations_robusta_create")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    page.locator(".opblock-summary", has_text="/api/v1/integrations/robusta/").click()
    responses = page.locator(".responses-table").first
    responses.wait_for()
    assert "application/problem+json" in responses.inner_text()
    assert "401" in responses.inner_text()
