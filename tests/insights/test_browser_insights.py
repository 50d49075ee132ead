"""A person starts an insights run in Chromium, watches it finish, opens a class."""

import pytest

from insights import services
from insights.models import FailureClass

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_browser_insights_run_progress_and_class_page(
    page, live_server, login, editor, fake_model, corpus_postmortems, screenshot_dir
):
    # People confirmed two postmortems of two kinds: the report counts confirmed
    # classes and inferred ones the calibrated classifier is sure of.
    for kind, slug in (("cert", "certificate-expiry"), ("indexer", "software-bug")):
        for postmortem in corpus_postmortems[kind][:2]:
            services.postmortem_class_confirm(
                postmortem=postmortem,
                failure_class=FailureClass.objects.get(slug=slug),
                user=editor,
                retrain=False,
            )
    login(page, "editor")
    page.goto(f"{live_server.url}/insights/")
    assert page.locator("h1").inner_text() == "Insights"
    page.click("#start-run")
    # Celery runs eagerly in tests: the POST returns once the run has finished
    # (the first run also imports scikit-learn), then htmx polls the progress.
    page.wait_for_selector("progress", timeout=90_000)
    page.wait_for_selector("#insights-run[data-run-status=succeeded]", timeout=60_000)
    page.screenshot(path=str(screenshot_dir / "insights-run-finished.png"))
    page.click("a.run-done")
    page.wait_for_selector("table.recurring-classes")
    rows = page.locator("table.recurring-classes tbody tr")
    assert rows.count() >= 2
    page.wait_for_function("document.querySelector('#quarter-chart').width > 0")
    page.screenshot(path=str(screenshot_dir / "insights-report.png"), full_page=True)
    page.locator("table.recurring-classes tbody tr a").first.click()
    page.wait_for_selector("table.class-postmortems")
    assert page.locator("table.class-postmortems tbody tr").count() >= 2
    page.screenshot(path=str(screenshot_dir / "insights-class.png"), full_page=True)
