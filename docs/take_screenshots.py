"""Take the README's screenshots from a running demo (``make demo``).

    .venv/bin/python docs/take_screenshots.py [http://127.0.0.1:8000]

Signs in as the demo admin in Debian's chromium and saves PNGs in docs/screenshots/.
"""

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
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
