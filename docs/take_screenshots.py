"""Take the README's screenshots from a running demo (``make demo``).

    .venv/bin/python docs/take_screenshots.py [http://127.0.0.1:8000]

Signs in as the demo admin in Debian's chromium and saves PNGs in docs/screenshots/.
"""

import datetime as dt
import re
import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent / "screenshots"
PAGES = {
    "insights-report": "/insights/",
    "insights-class": "/insights/classes/certificate-expiry/",
    "actions-dashboard": "/actions/dashboard/",
}


def main(base_url: str) -> None:
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base_url}/accounts/login/")
        page.fill("input[name=username]", "demo")
        page.fill("input[name=password]", "demo")
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/incidents/"))
        for name, path in PAGES.items():
            page.goto(f"{base_url}{path}")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(OUT / f"{name}.png"))
        # A published postmortem with its action items.
        page.goto(f"{base_url}/postmortems/?status=published")
        page.locator("table.data a[href*='/postmortems/']").first.click()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(OUT / "postmortem.png"))
        drafted_postmortem(page, base_url)
        postmortem_editor(page, base_url)
        browser.close()


# Every demo incident already has its postmortem, so the first draft is shown on an
# incident declared here (once: later runs reopen it).
DRAFTED_TITLE = "Checkout 502s after the connection-pool config push"


def drafted_postmortem(page, base_url: str) -> None:
    """A postmortem started from what Hindsight recorded, with its Drafted marks."""
    page.goto(f"{base_url}/incidents/?q=connection-pool+config+push")
    found = page.get_by_role("link", name=DRAFTED_TITLE)
    if found.count():
        found.first.click()
    else:
        started = dt.datetime.now().replace(second=0, microsecond=0)
        started -= dt.timedelta(hours=3)

        def at(minutes: int) -> str:
            return (started + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")

        page.goto(f"{base_url}/incidents/new/")
        page.fill("#id_title", DRAFTED_TITLE)
        page.check("input[name=severity][value=SEV1]")
        page.select_option("#id_team", label="Payments")
        for name, minutes in (
            ("started_at", 0),
            ("detected_at", 4),
            ("acknowledged_at", 7),
            ("mitigated_at", 31),
            ("resolved_at", 44),
        ):
            page.fill(f"#id_{name}", at(minutes))
        page.get_by_role("button", name=re.compile("Declare|Save")).click()
        page.wait_for_url(re.compile(r"/incidents/\d+/$"))
    timeline = page.locator("#timeline")
    if "Config push 8812" not in timeline.inner_text():
        started = dt.datetime.now().replace(second=0, microsecond=0)
        started -= dt.timedelta(hours=3)
        for minutes, kind, text in (
            (4, "alert", "`HighErrorRate` fired for checkout (5xx above 5%)"),
            (12, "change", "Config push 8812 lowered the checkout pool to 40"),
            (31, "mitigation", "Rolled back config push 8812"),
            (44, "recovery", "Error rate back under 0.1%"),
        ):
            form = page.locator("#timeline-add")
            when = (started + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")
            form.locator("[name$=occurred_at]").fill(when)
            form.locator("[name$=kind]").select_option(kind)
            form.locator("[name$=text]").fill(text)
            form.get_by_role("button", name="Add to timeline").click()
            timeline.get_by_text(text.replace("`", "")[:20]).first.wait_for()
    link = page.locator("#postmortem a[role=button]")
    if link.inner_text().strip() == "Write the postmortem":
        link.click()
        page.get_by_label("Start from what Hindsight recorded").check()
        page.get_by_role("button", name="Start the draft").click()
        page.wait_for_url(re.compile(r"/postmortems/\d+/edit/"))
        page.goto(page.url.removesuffix("edit/"))
    else:
        link.click()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(OUT / "drafted-postmortem.png"), full_page=True)


def _lists_clip(page) -> dict:
    """The editor's three lists, in page coordinates."""
    top = page.locator("#five-whys").bounding_box()
    bottom = page.locator("#investigation").bounding_box()
    scrolled = page.evaluate("window.scrollY")
    return {
        "x": 0,
        "y": top["y"] + scrolled - 12,
        "width": page.viewport_size["width"],
        "height": bottom["y"] + bottom["height"] - top["y"] + 24,
    }


def postmortem_editor(page, base_url: str) -> None:
    """The editor's lists (formsets) of a demo draft, wide and on a phone, and a
    row that does not validate. Nothing is saved."""
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base_url}/postmortems/?status=draft")
    page.locator("table.data a[href*='/postmortems/']").first.click()
    page.wait_for_url(re.compile(r"/postmortems/\d+/$"))
    edit_url = page.url + "edit/"
    for name, width in (("postmortem-editor", 1280), ("postmortem-editor-390", 390)):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(edit_url)
        page.wait_for_load_state("networkidle")
        page.screenshot(
            path=str(OUT / f"{name}.png"), full_page=True, clip=_lists_clip(page)
        )
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(edit_url)
    page.get_by_role("button", name="Add a contributing factor").click()
    row = page.locator("#factor-list > li").last
    row.locator("textarea[name$='-description']").fill("Retries had no jitter")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state("networkidle")
    section = page.locator("#contributing-factors")
    section.scroll_into_view_if_needed()
    section.screenshot(path=str(OUT / "postmortem-editor-errors.png"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
