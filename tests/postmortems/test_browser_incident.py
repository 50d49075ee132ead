"""The incident page in Chromium: the timeline editor works without a page reload."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from postmortems.models import IncidentStatus, Role, Severity
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

T0 = dt.datetime(2026, 5, 1, 9, 58, tzinfo=dt.UTC)


@pytest.fixture
def scene(team):
    editor = factories.UserFactory(
        username="editor", first_name="Bruno", last_name="Silva", teams=[team]
    )
    commander = factories.UserFactory(
        username="amara",
        first_name="Amara",
        last_name="Okafor",
        role=Role.REVIEWER,
        teams=[team],
    )
    checkout = factories.ServiceFactory(slug="checkout", name="Checkout Web", team=team)
    payments = factories.ServiceFactory(slug="payments", name="Payments API", team=team)
    incident = factories.IncidentFactory(
        team=team,
        title="Card payments fail with 502 at checkout",
        severity=Severity.SEV1,
        status=IncidentStatus.RESOLVED,
        services=[checkout, payments],
        commander=commander,
        ops_lead=editor,
        scribe=editor,
        started_at=T0,
        detected_at=T0 + dt.timedelta(minutes=4),
        acknowledged_at=T0 + dt.timedelta(minutes=7),
        mitigated_at=T0 + dt.timedelta(minutes=38),
        resolved_at=T0 + dt.timedelta(hours=1, minutes=52),
    )
    return incident


def _add(page, time: str, kind: str, text: str) -> None:
    page.fill("#id_new-occurred_at", f"2026-05-01T{time}")
    page.select_option("#id_new-kind", kind)
    page.fill("#id_new-text", text)
    page.click("#timeline-add button[type=submit]")


def test_browser_timeline_add_edit_delete_without_reload(
    page, live_server, login, screenshot_dir, scene
):
    # Script errors and CSP violations show up as console errors; failed loads
    # are checked by URL (the site has no favicon yet, which is not this page's).
    console_errors, failed = [], []
    page.on(
        "console",
        lambda msg: (
            console_errors.append(msg.text)
            if msg.type == "error"
            and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            failed.append(r.url)
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    login(page, "editor")
    page.goto(f"{live_server.url}{scene.get_absolute_url()}")
    expect(page.get_by_text("No timeline entries yet.")).to_be_visible()
    # A marker on the window survives only if the page is never reloaded.
    page.evaluate("window.__sameDocument = 'yes'")

    entries = [
        ("10:02", "alert", "`HighErrorRate` fired for checkout: 5xx above 5%"),
        ("10:05", "escalation", "On-call paged the payments team"),
        ("10:21", "diagnosis", "Connection pool on payments-db saturated"),
        ("10:36", "mitigation", "Raised the pool limit from 50 to 200"),
        ("09:58", "change", "Campaign traffic started ramping up"),
    ]
    rows = page.locator("#timeline-entries li.tl-entry")
    for count, (time, kind, text) in enumerate(entries, start=1):
        _add(page, time, kind, text)
        expect(rows).to_have_count(count)
        expect(page.locator("#id_new-text")).to_have_value("")

    # Sorted by time, although the earliest was added last.
    expect(rows.first).to_contain_text("Campaign traffic started")
    expect(rows.nth(1).locator("code")).to_have_text("HighErrorRate")

    # Edit one in place.
    target = rows.filter(has_text="On-call paged")
    target.hover()
    target.get_by_role("link", name="Edit entry at 10:05").click()
    page.fill("#id_edit-text", "On-call (Amara) paged the payments team")
    page.fill("#id_edit-occurred_at", "2026-05-01T10:06")
    page.click("li.tl-editing button[type=submit]")
    expect(page.locator("li.tl-editing")).to_have_count(0)
    expect(rows.nth(2)).to_contain_text("On-call (Amara) paged")
    expect(rows.nth(2).locator("time")).to_have_text("10:06")

    # Delete one, confirming the browser's dialog.
    page.once("dialog", lambda dialog: dialog.accept())
    doomed = rows.filter(has_text="Connection pool on payments-db")
    doomed.hover()
    doomed.get_by_role("button", name="Delete entry at 10:21").click()
    expect(rows).to_have_count(4)
    expect(page.locator("#timeline-entries")).not_to_contain_text("payments-db")

    assert page.evaluate("window.__sameDocument") == "yes"
    # And the server kept it: a fresh load shows the same four entries.
    page.reload()
    expect(rows).to_have_count(4)
    expect(page.locator(".metric").first).to_contain_text("TTD = detected − started")
    page.screenshot(path=str(screenshot_dir / "incident_page.png"), full_page=True)
    # No script errors, no Content-Security-Policy violations, no failed requests.
    assert console_errors == []
    assert failed == []


def test_browser_declare_incident_form(page, live_server, login, screenshot_dir, scene):
    login(page, "editor")
    page.goto(f"{live_server.url}/incidents/new/")
    expect(page.get_by_text("core flow (login, checkout) is down")).to_be_visible()
    page.fill("#id_title", "Login page times out for EU users")
    page.check("input[name=severity][value=SEV2]")
    page.check("text=Checkout Web")
    page.fill("#id_started_at", "2026-05-02T08:00")
    page.fill("#id_detected_at", "2026-05-02T07:55")
    page.click(".form-actions button[type=submit]")
    expect(page.locator(".field-error").first).to_contain_text(
        "Detected cannot be before started"
    )
    page.screenshot(path=str(screenshot_dir / "incident_form.png"), full_page=True)
    page.fill("#id_detected_at", "2026-05-02T08:06")
    page.click(".form-actions button[type=submit]")
    expect(page.locator("h1")).to_have_text("Login page times out for EU users")
    page.goto(f"{live_server.url}/incidents/")
    expect(page.locator("table.data tbody tr")).to_have_count(2)
    page.screenshot(path=str(screenshot_dir / "incident_list.png"), full_page=True)
