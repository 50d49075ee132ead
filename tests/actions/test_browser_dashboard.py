"""Leadership in Chromium: the dashboard, an overdue count, the filtered list, one
item, and a review decision recorded on it."""

import datetime as dt

import pytest
from django.utils import timezone

from actions.models import ActionItem, Category, Status
from postmortems.models import PostmortemStatus, Role, Severity, Team, WorkflowEvent
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEAMS = [
    ("payments", "Payments"),
    ("platform", "Platform"),
    ("data", "Data"),
    ("identity", "Identity"),
    ("edge", "Edge"),
]


def _organisation():
    """Five teams over two years of items; Data lags behind."""
    today = timezone.localdate()
    now = timezone.now()
    teams = [factories.TeamFactory(slug=s, name=n) for s, n in TEAMS]
    names = [
        "Amara Okafor",
        "Bruno Silva",
        "Chen Wei",
        "Deepa Rao",
        "Erik Lund",
        "Fatima Haddad",
        "Gus Moreau",
        "Hana Sato",
        "Ivan Petrov",
        "Kai Berg",
    ]
    people = []
    for index, full in enumerate(names):
        first, last = full.split()
        person = factories.UserFactory(
            username=first.lower(), teams=[teams[index % len(teams)]]
        )
        person.first_name, person.last_name = first, last
        person.save()
        people.append(person)
    categories = list(Category.values)
    rows = []
    for index in range(90):
        team_index = index % len(teams)
        team = teams[team_index]
        lagging = team.slug == "data"
        severity = [Severity.SEV0, Severity.SEV1, Severity.SEV2, Severity.SEV3][
            index % 4
        ]
        incident = factories.IncidentFactory(
            team=team,
            severity=severity,
            started_at=now - dt.timedelta(days=15 + 6 * index),
        )
        postmortem = factories.PostmortemFactory(
            incident=incident,
            status=PostmortemStatus.IN_REVIEW if index % 23 == 0 else "published",
        )
        if postmortem.status == PostmortemStatus.IN_REVIEW:
            event = WorkflowEvent.objects.create(
                postmortem=postmortem,
                from_status="draft",
                to_status="in_review",
                actor=people[0],
            )
            WorkflowEvent.objects.filter(pk=event.pk).update(
                created_at=now - dt.timedelta(days=3 + index % 20)
            )
        created = incident.started_at + dt.timedelta(days=2)
        due = created.date() + dt.timedelta(days=[7, 30, 90][index % 3])
        if lagging:
            status = [Status.OPEN, Status.BLOCKED, Status.IN_PROGRESS, Status.DONE][
                index % 4
            ]
        else:
            status = [
                Status.DONE,
                Status.DONE,
                Status.OPEN,
                Status.DONE,
                Status.WONT_DO,
                Status.IN_PROGRESS,
            ][index % 6]
        completed = None
        if status == Status.DONE:
            completed = min(
                now,
                dt.datetime.combine(due, dt.time(15), tzinfo=dt.UTC)
                + dt.timedelta(days=(index % 7) - 4),
            )
        rows.append(
            ActionItem(
                title=f"Action {index}: "
                + [
                    "Alert on replica lag before disks fill",
                    "Cap client retries with jittered backoff",
                    "Canary config pushes per region",
                    "Runbook for certificate rotation",
                    "Load-test the connection pool at 2x peak",
                ][index % 5],
                team=team,
                owner=people[(team_index + 5 * (index % 2)) % len(people)],
                category=categories[index % len(categories)],
                priority=["P0", "P1", "P2", "P3"][index % 4],
                status=status,
                status_reason="Waiting on the vendor"
                if status in ("blocked", "wont_do")
                else "",
                verification_note="Drill passed" if status == "done" else "",
                postmortem=postmortem,
                due_date=due
                if not (status == "open" and index % 5 == 0)
                else today + dt.timedelta(days=index % 40),
                created_at=created,
                completed_at=completed,
            )
        )
    ActionItem.objects.bulk_create(rows)


def test_browser_leadership_reviews_an_overdue_item(
    page, live_server, login, screenshot_dir
):
    _organisation()
    # Leadership: a reviewer who belongs to every team.
    factories.UserFactory(
        username="lead", role=Role.REVIEWER, teams=list(Team.objects.all())
    )
    errors = []
    # CSP violations and script errors show as console errors; failed requests
    # are checked by status (the browser's own /favicon.ico probe aside).
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.set_viewport_size({"width": 1400, "height": 1000})
    login(page, "lead")

    page.goto(f"{live_server.url}/actions/dashboard/")
    page.wait_for_selector("#chart-overdue-team")
    page.wait_for_function(
        "document.querySelectorAll('canvas').length === 5 && "
        "Array.from(document.querySelectorAll('canvas')).every(c => c.width > 0)"
    )
    overdue = page.locator("a[data-stat=overdue]")
    expected = int(overdue.inner_text())
    assert expected > 0
    page.screenshot(path=screenshot_dir / "actions-dashboard.png", full_page=True)

    overdue.click()
    page.wait_for_url("**/actions/?overdue=true")
    assert page.locator("h1").inner_text() == "Action items"
    assert f"{expected} items match" in page.locator(".page-header").inner_text()
    assert page.locator("#action-items tbody tr").count() == min(expected, 50)

    first = page.locator("#action-items tbody tr a").first
    title = first.inner_text()
    first.click()
    page.wait_for_selector("#record-decision")
    assert page.locator("h1").inner_text() == title
    assert "overdue" in page.locator(".page-header").inner_text()

    new_date = (timezone.localdate() + dt.timedelta(days=21)).isoformat()
    page.locator("#record-decision summary").click()
    page.select_option("#id_decision", "redate")
    page.fill("#id_note", "Vendor fix ships next sprint; re-dated by the review.")
    page.fill("#id_new_due_date", new_date)
    page.click("#record-decision button[type=submit]")
    page.wait_for_selector(".flash-success")
    history = page.locator("#reviews").inner_text()
    assert "Re-date" in history
    assert "Vendor fix ships next sprint" in history
    assert "overdue" not in page.locator(".page-header").inner_text()
    page.screenshot(path=screenshot_dir / "actions-item-reviewed.png", full_page=True)
    assert errors == []
