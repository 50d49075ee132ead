"""End to end in Chromium: a new user writes, reviews, publishes and exports."""

import re

import pytest
import yaml
from playwright.sync_api import expect

from postmortems.models import PostmortemStatus, Role
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIFECYCLE = {
    "started_at": "10:00",
    "detected_at": "10:01",
    "acknowledged_at": "10:04",
    "mitigated_at": "10:31",
    "resolved_at": "10:44",
}
TIMELINE = [
    ("10:01", "alert", "`HighErrorRate` fired for checkout (5xx above 5%)"),
    ("10:04", "escalation", "Payments on-call paged; incident declared SEV1"),
    ("10:12", "diagnosis", "Connection pool at 50/50 on every checkout pod"),
    ("10:31", "mitigation", "Pool raised to 200 through the config service"),
    ("10:44", "recovery", "Error rate back under 0.1%; monitoring"),
]


SECTIONS = {
    "impact": "About a third of checkout attempts failed in **eu-west-1** and "
    "**us-east-1**; customers could retry, and most orders went through later.",
    "trigger": "The spring sale campaign doubled checkout traffic at 10:00 UTC.",
    "resolution": "The pool was raised to 200 through the config service at 10:31 "
    "and error rates recovered by 10:44.",
    "detection": "`HighErrorRate` paged at 10:00, within a minute of impact.",
    "went_well": "- Paging worked\n- The config service rolled the change out in "
    "two minutes",
    "went_wrong": "- No dashboard showed pool saturation\n- The capacity review "
    "skipped connection pools",
    "got_lucky": "The sale started on a weekday, when the payments team was online.",
    "supporting_info": "[Checkout dashboard](https://grafana.example/d/checkout)",
}


def _name(user, first, last):
    user.first_name, user.last_name = first, last
    user.save()
    return user


def test_browser_postmortem_written_reviewed_published_and_exported(
    page, browser, live_server, login, screenshot_dir, team, editor,
    reviewer,
):  # fmt: skip
    _name(editor, "Bruno", "Silva")
    _name(reviewer, "Amara", "Okafor")
    factories.UserFactory(username="chen", first_name="Chen", last_name="Wei",
                          role=Role.REVIEWER, teams=[team])  # fmt: skip
    factories.ServiceFactory(slug="checkout-web", name="Checkout Web", team=team)
    factories.ServiceFactory(slug="payments-api", name="Payments API", team=team)

    # A new user declares the incident...
    login(page, "editor")
    page.goto(f"{live_server.url}/incidents/new/")
    page.fill("#id_title", "Checkout returned 502s during the spring sale")
    page.check("input[name=severity][value=SEV1]")
    page.check("text=Checkout Web")
    page.check("text=Payments API")
    for field, time in LIFECYCLE.items():
        page.fill(f"#id_{field}", f"2026-05-01T{time}")
    page.click(".form-actions button[type=submit]")
    expect(page.locator("h1")).to_have_text(
        "Checkout returned 502s during the spring sale"
    )
    # ...adds five timeline entries without a page reload...
    rows = page.locator("#timeline-entries li.tl-entry")
    for count, (time, kind, text) in enumerate(TIMELINE, start=1):
        page.fill("#id_new-occurred_at", f"2026-05-01T{time}")
        page.select_option("#id_new-kind", kind)
        page.fill("#id_new-text", text)
        page.click("#timeline-add button[type=submit]")
        expect(rows).to_have_count(count)
    # ...and starts the postmortem from the incident page.
    page.locator("#postmortem").get_by_role(
        "button", name="Write the postmortem"
    ).click()
    page.wait_for_url(re.compile(r"/incidents/\d+/postmortem/new/$"))
    page.get_by_label("Google SRE").check()
    page.get_by_label("Amara Okafor").check()
    page.get_by_role("button", name="Start the draft").click()
    page.wait_for_url(re.compile(r"/postmortems/\d+/edit/$"))

    # Markdown with a live preview rendered by the server's renderer.
    page.fill(
        "#id_section_summary",
        "**Checkout** returned HTTP 502 to about a third of requests for 44 minutes "
        "during the spring sale.\n\n- Started 10:00 UTC\n- Mitigated 10:31 UTC",
    )
    expect(page.locator("#preview-summary strong")).to_have_text("Checkout")
    expect(page.locator("#preview-summary li")).to_have_count(2)

    # A blaming sentence gets a warning beside the section...
    root = page.locator("#id_section_root_cause")
    root.fill(
        "Root cause: human error. The on-call engineer should have checked the pool "
        "size before the sale."
    )
    hits = page.locator("#blame-root_cause .blame-hit")
    expect(hits).to_have_count(2)
    expect(hits.first).to_contain_text("What in the system")
    for key, text in SECTIONS.items():
        page.fill(f"#id_section_{key}", text)
    page.fill("#id_impact_users_affected", "18000")
    page.fill("#id_impact_error_budget_pct", "35")
    page.fill("#id_impact_revenue_usd", "42000")
    page.fill("#id_impact_regions", "eu-west-1, us-east-1")
    whys = page.locator("#why-list textarea[name$='-text']")
    whys.first.fill("Why did checkout return 502s?")
    page.get_by_role("button", name="Add a why").click()
    whys.last.fill("Why were all pool connections busy? Peak concurrency exceeded 50.")
    page.get_by_role("button", name="Add a contributing factor").click()
    factor = page.locator("#factor-list > li").last
    factor.locator("select").select_option("detection_gap")
    factor.locator("textarea[name$='-description']").fill(
        "No alert on connection-pool saturation"
    )
    page.get_by_role("button", name="Add a hypothesis").click()
    row = page.locator("#hypothesis-list > li").last
    row.locator("select[name$='-status']").select_option("ruled_out")
    row.locator("textarea[name$='-text']").fill("A bad deploy of checkout at 09:55")
    row.locator("textarea[name$='-test']").fill("No deploy since the day before")
    page.locator("#section-root_cause").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "postmortem-editor-warning.png"))
    # A viewport as tall as the page keeps the sticky save bar at the bottom.
    size = page.viewport_size
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": height})
    page.screenshot(path=str(screenshot_dir / "postmortem-editor.png"))
    page.set_viewport_size(size)

    # ...and goes away once the sentence describes the system instead.
    root.fill(
        "The checkout connection pool was capped at 50 connections, a limit set "
        "for 2023 traffic. Nothing alerted on pool saturation, and the capacity "
        "review did not cover connection pools."
    )
    expect(page.locator("#blame-root_cause .blame-ok")).to_be_visible()
    expect(hits).to_have_count(0)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/postmortems/\d+/$"))
    # Version 1 started it, version 2 is the draft written from the incident's
    # record (the box is ticked by default), version 3 is this save.
    expect(page.locator(".flash")).to_contain_text("Saved as version 3")

    # A SEV1 needs a detection and a prevention item before approval: the author
    # adds them inline on the postmortem page.
    expect(page.locator("p.coverage-missing")).to_be_visible()
    for title, category in (
        ("Alert on connection-pool saturation", "detection"),
        ("Size connection pools from load tests", "prevention"),
    ):
        page.locator("#action-items-panel").get_by_role(
            "button", name="Add item"
        ).click()
        form = page.locator("#action-items-panel form.inline-item-form")
        form.get_by_label("Title").fill(title)
        form.get_by_label("Category").select_option(category)
        form.get_by_role("button", name="Add item").click()
        expect(page.locator("#action-items-panel")).to_contain_text(title)
    expect(page.locator("p.coverage-ok")).to_be_visible()

    # Submitting: no blame left, so no acknowledgement is asked for.
    expect(page.locator("input[name=acknowledge_blame]")).to_have_count(0)
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".flash")).to_contain_text("Submitted for review")

    # A second person, the named reviewer, approves.
    reviewer_context = browser.new_context(base_url=live_server.url)
    reviewer_page = reviewer_context.new_page()
    login(reviewer_page, "reviewer")
    reviewer_page.goto(page.url)
    reviewer_page.get_by_role("button", name="Approve").click()
    expect(reviewer_page.locator(".flash")).to_contain_text("Approved")
    reviewer_context.close()

    # The author publishes.
    page.reload()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".flash")).to_contain_text("Published")
    expect(page.locator(".page-header .badge-published")).to_have_text("Published")
    expect(page.locator("#timeline li:not(.day)")).to_have_count(5)
    page.screenshot(
        path=str(screenshot_dir / "postmortem-published.png"), full_page=True
    )

    with page.expect_download() as download:
        page.get_by_role("button", name="Export Markdown").click()
    text = open(download.value.path(), encoding="utf-8").read()
    _, header, body = text.split("---\n", 2)
    meta = yaml.safe_load(header)
    assert meta["title"] == "Checkout returned 502s during the spring sale"
    assert meta["severity"] == "SEV1"
    assert meta["status"] == PostmortemStatus.PUBLISHED
    assert meta["services"] == ["Checkout Web", "Payments API"]
    # People are named by username, so the file imports back to the same people.
    assert meta["reviewers"] == ["reviewer"]
    assert meta["published"]
    assert "**Checkout** returned HTTP 502" in body
    assert "capped at 50 connections" in body
    # The rows added in place in the editor were saved.
    for text in (
        "2. Why were all pool connections busy?",
        "No alert on connection-pool saturation",
        "A bad deploy of checkout at 09:55",
    ):
        assert text in body, text

    # The history shows every save, by whom: started, drafted from the record,
    # edited, submitted, approved, published.
    page.get_by_role("button", name="History").click()
    expect(page.locator("table.versions tbody tr")).to_have_count(6)
    page.screenshot(path=str(screenshot_dir / "postmortem-history.png"), full_page=True)
