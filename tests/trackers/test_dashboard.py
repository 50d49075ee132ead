"""The dashboard and the insights report count a linked item as done only when
its tracker says so, and show where the two disagree.

One sweep over every figure that counts done items, for each state the tracker
can be in; the disagreement figure links to a list of exactly those items.
"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from actions import selectors
from actions.models import Status
from tests import factories
from trackers.models import TrackerLink

pytestmark = pytest.mark.django_db

# remote status of the done item's issue -> (counts as done, disagrees)
TRACKER_STATES = {
    "not linked": (True, False),
    "done": (True, False),
    "open": (False, True),
    "in_progress": (False, True),
    "wont_do": (False, True),
    "being created": (False, False),
}


def _done_item(team, tracker_state):
    today = timezone.localdate()
    item = factories.ActionItemFactory(
        team=team,
        status=Status.DONE,
        verification_note="Alert fired in the drill.",
        due_date=today - dt.timedelta(days=5),
        completed_at=timezone.now() - dt.timedelta(days=10),
    )
    if tracker_state != "not linked":
        TrackerLink.objects.create(
            item=item,
            provider="jira",
            remote_key="" if tracker_state == "being created" else f"OPS-{item.pk}",
            remote_status="" if tracker_state == "being created" else tracker_state,
        )
    return item


def _figures(board, team) -> dict[str, int]:
    today = timezone.localdate()
    quarter = next(
        q
        for q in board.on_time_by_quarter
        if q["label"] == f"{(today - dt.timedelta(days=5)).year} Q"
        f"{((today - dt.timedelta(days=5)).month - 1) // 3 + 1}"
    )
    category = next(c for c in board.by_category if c["key"] == "detection")
    chart = board.chart_data()["category"]
    return {
        "totals.done": board.totals["done"]["count"],
        "by_team.done": next(t for t in board.by_team if t["slug"] == team.slug)[
            "done"
        ],
        "by_category.done": category["done"],
        "chart.category.done": chart["done"][chart["labels"].index("Detection")],
        "on_time_by_quarter.on_time": quarter["on_time"],
    }


FIGURES = [
    "totals.done",
    "by_team.done",
    "by_category.done",
    "chart.category.done",
    "on_time_by_quarter.on_time",
]


@pytest.mark.parametrize("tracker_state", list(TRACKER_STATES))
@pytest.mark.parametrize("figure", FIGURES)
def test_dashboard_counts_done_only_when_the_tracker_agrees(
    team, admin_user, figure, tracker_state
):
    _done_item(team, tracker_state)

    board = selectors.dashboard(user=admin_user)

    counts, disagrees = TRACKER_STATES[tracker_state]
    assert _figures(board, team)[figure] == (1 if counts else 0)
    assert board.totals["tracker_disagree"]["count"] == (1 if disagrees else 0)


@pytest.mark.parametrize("tracker_state", list(TRACKER_STATES))
def test_the_disagreement_figure_links_to_those_items(
    client, team, admin_user, tracker_state
):
    item = _done_item(team, tracker_state)
    # An open item whose issue is closed disagrees too.
    closed_there = factories.ActionItemFactory(team=team)
    TrackerLink.objects.create(
        item=closed_there, provider="github", remote_key="a/b#1", remote_status="done"
    )
    client.force_login(admin_user)

    page = client.get(reverse("actions:dashboard"))
    board = page.context["board"]
    listed = client.get(
        reverse("actions:item_list") + "?" + board.totals["tracker_disagree"]["query"]
    )

    ids = {i.pk for i in listed.context["items"]}
    expected = {closed_there.pk} | (
        {item.pk} if TRACKER_STATES[tracker_state][1] else set()
    )
    assert ids == expected
    assert board.totals["tracker_disagree"]["count"] == len(expected)
    assert 'data-stat="tracker_disagree"' in page.content.decode()


@pytest.mark.parametrize("tracker_state", list(TRACKER_STATES))
def test_the_insights_report_counts_fixes_done_only_when_the_tracker_agrees(
    team, admin_user, tracker_state
):
    from insights import selectors as insight_selectors
    from insights.models import FailureClass, PostmortemClassification

    postmortem = factories.PostmortemFactory(
        incident=factories.IncidentFactory(team=team), status="published"
    )
    failure_class = FailureClass.objects.create(slug="pool", name="Pool exhaustion")
    PostmortemClassification.objects.create(
        postmortem=postmortem,
        failure_class=failure_class,
        source="confirmed",
        confidence=1.0,
        confirmed_by=admin_user,
        confirmed_at=timezone.now(),
    )
    item = _done_item(team, tracker_state)
    item.postmortem = postmortem
    item.save()

    report = insight_selectors.report_data(user=admin_user)

    (reported,) = [c for c in report.classes if c.slug == "pool"]
    counts = TRACKER_STATES[tracker_state][0]
    assert reported.done_actions == (1 if counts else 0)


def test_tracker_links_add_no_query_to_the_dashboard(
    team, admin_user, django_assert_num_queries, django_assert_max_num_queries
):
    _done_item(team, "not linked")
    with django_assert_max_num_queries(6) as unlinked:
        selectors.dashboard(user=admin_user)
    for state in TRACKER_STATES:
        _done_item(team, state)

    with django_assert_num_queries(len(unlinked.captured_queries)):
        board = selectors.dashboard(user=admin_user)

    assert board.totals["tracker_disagree"]["count"] == 3
