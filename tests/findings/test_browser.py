"""The investigation tree in Chromium: one-click timeline, review, suggestions."""

import pytest

from actions.models import ActionItem
from findings import services
from postmortems.models import TimelineEntry
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def investigation(team):
    incident = factories.IncidentFactory(team=team, title="Checkout errors")
    parent = factories.FindingFactory(
        incident=incident,
        analyzer="api-tracer",
        title="Checkout 5xx ratio above 5%",
        root_cause="payments-api pool exhausted after deploy 4812.",
        root_cause_confidence=0.8,
        evidence=[
            {
                "kind": "trace",
                "title": "Slowest span",
                "url": "https://traces.example/t/1",
                "excerpt": "POST /authorise 3.9 s (pool wait 3.7 s)",
                "data": None,
            }
        ],
    )
    child = factories.FindingFactory(
        incident=incident,
        analyzer="storage-probe",
        title="orders-db primary at max_connections",
        root_cause="2,360 potential client connections against 1,000 slots.",
        parent=parent,
        suggested_actions=[
            {
                "kind": "file_bug",
                "title": "Put PgBouncer in front of the Orders DB",
                "target": "DATA",
                "category": "prevention",
            }
        ],
    )
    services.findings_sync_suggestions(findings=[child])
    return incident, parent, child


def test_browser_findings_tree_add_to_timeline_and_accept_a_suggestion(
    page, live_server, editor, login, investigation, screenshot_dir
):
    incident, parent, child = investigation
    login(page, "editor")
    # On the incident page itself, where the findings section is included.
    page.goto(f"{live_server.url}{incident.get_absolute_url()}")

    nested = page.locator(f"#finding-{parent.pk} .finding-tree #finding-{child.pk}")
    assert nested.count() == 1
    page.locator(f"#finding-{parent.pk} > .finding").get_by_role(
        "button", name="Add to timeline"
    ).click()
    page.locator(f"#finding-{parent.pk} > .finding .finding-actions").get_by_text(
        "On the timeline"
    ).wait_for()
    page.get_by_role("button", name="Accept").click()
    page.get_by_text(
        "Prevention item “Put PgBouncer in front of the Orders DB”"
    ).wait_for()
    page.screenshot(path=str(screenshot_dir / "findings-tree.png"), full_page=True)

    assert TimelineEntry.objects.filter(dedupe_key=f"finding:{parent.pk}").exists()
    assert ActionItem.objects.get().category == "prevention"


def test_browser_reviewer_marks_a_root_cause(
    page, live_server, reviewer, login, investigation, screenshot_dir
):
    incident, parent, _ = investigation
    login(page, "reviewer")
    page.goto(f"{live_server.url}/findings/incidents/{incident.pk}/")

    page.locator(f"#finding-{parent.pk} > .finding").get_by_role(
        "button", name="Confirmed"
    ).click()
    badge = page.locator(f"#finding-{parent.pk} > .finding .badge-verdict-confirmed")
    badge.wait_for()
    page.screenshot(path=str(screenshot_dir / "findings-review.png"), full_page=True)

    parent.refresh_from_db()
    assert parent.verdict == "confirmed"


def test_browser_scorecards_draw_the_chart_beside_the_table(
    page, live_server, viewer, login, screenshot_dir
):
    incident = factories.IncidentFactory()
    for n, (analyzer, verdict) in enumerate(
        [
            ("api-tracer", "confirmed"),
            ("api-tracer", "confirmed"),
            ("log-anomaly-scanner", "refuted"),
            ("log-anomaly-scanner", "partial"),
        ]
    ):
        factories.FindingFactory(
            incident=incident, analyzer=analyzer, fingerprint=f"f{n}", verdict=verdict
        )
    # Script errors and CSP violations; a missing file is checked below by URL.
    errors = []
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and "status of 404" not in message.text
            and errors.append(message.text)
        ),
    )
    missing = []
    page.on(
        "response",
        lambda response: response.status == 404 and missing.append(response.url),
    )
    login(page, "viewer")
    page.goto(f"{live_server.url}/findings/analyzers/")

    page.wait_for_function(
        "() => { const c = document.getElementById('scorecard-chart');"
        " return c && c.width > 0 && window.Chart && Chart.getChart(c); }"
    )
    page.screenshot(
        path=str(screenshot_dir / "findings-scorecards.png"), full_page=True
    )

    assert errors == []
    assert [url for url in missing if "/static/" in url] == []
    rows = page.locator("table.data tbody tr")
    assert rows.count() == 2
    assert "100%" in rows.nth(0).inner_text()
