"""The leadership dashboard's numbers equal an independent computation over the
same items, in any time zone, and a team's view never counts another team's items.

The independent computation below works item by item in Python from first
principles; the dashboard aggregates in the database (actions.selectors) and adds
up grouped rows (actions.dashboard).
"""

import datetime as dt
import zoneinfo
from collections import Counter

import pytest
import time_machine
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actions import selectors
from actions.dashboard import quarter_bounds, recent_quarters
from actions.models import ActionItem, Category, Status
from actions.sql import utc_offset_segments
from postmortems.models import Severity
from tests import factories

pytestmark = pytest.mark.django_db

OPEN = {"open", "in_progress", "blocked"}
ZONES = [
    "UTC",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Europe/Berlin",
    "America/Santiago",
]

item_strategy = st.fixed_dictionaries(
    {
        "team": st.integers(0, 2),
        "owner": st.one_of(st.none(), st.integers(0, 3)),
        "status": st.sampled_from(Status.values),
        "category": st.sampled_from(Category.values),
        "severity": st.one_of(st.none(), st.sampled_from(Severity.values)),
        "due_days": st.one_of(st.none(), st.integers(-600, 200)),
        "created_minutes": st.integers(0, 200 * 24 * 60),
        "completed_minutes": st.integers(-40 * 24 * 60, 40 * 24 * 60),
    }
)


@pytest.fixture
def world(db):
    teams = [factories.TeamFactory(slug=f"t{i}", name=f"Team {i}") for i in range(3)]
    owners = [factories.UserFactory(username=f"owner{i}") for i in range(4)]
    postmortems = {
        severity: factories.PostmortemFactory(
            incident=factories.IncidentFactory(team=teams[0], severity=severity)
        )
        for severity in Severity.values
    }
    admin = factories.UserFactory(username="boss", role="admin")
    return teams, owners, postmortems, admin


def _build(specs, now, world):
    teams, owners, postmortems, _ = world
    ActionItem.objects.all().delete()
    rows = []
    for spec in specs:
        due = None
        if spec["due_days"] is not None:
            due = (now + dt.timedelta(days=spec["due_days"])).date()
        completed = None
        if spec["status"] == Status.DONE:
            anchor = (
                dt.datetime.combine(due, dt.time(12), tzinfo=dt.UTC) if due else now
            )
            completed = min(
                anchor + dt.timedelta(minutes=spec["completed_minutes"]), now
            )
        rows.append(
            ActionItem(
                title="generated",
                team=teams[spec["team"]],
                owner=owners[spec["owner"]] if spec["owner"] is not None else None,
                status=spec["status"],
                status_reason="reason",
                verification_note="verified",
                category=spec["category"],
                postmortem=postmortems[spec["severity"]] if spec["severity"] else None,
                due_date=due,
                created_at=now - dt.timedelta(minutes=spec["created_minutes"]),
                completed_at=completed,
            )
        )
    return ActionItem.objects.bulk_create(rows)


def _quarters(today):
    """Last six calendar quarters up to today's, each capped at yesterday."""
    index = today.year * 4 + (today.month - 1) // 3
    found = []
    for back in range(5, -1, -1):
        q = index - back
        year, quarter = divmod(q, 4)
        start = dt.date(year, quarter * 3 + 1, 1)
        nxt = dt.date(year + (quarter == 3), (quarter * 3 + 3) % 12 + 1, 1)
        end = min(nxt - dt.timedelta(days=1), today - dt.timedelta(days=1))
        if end >= start:
            found.append((f"{year} Q{quarter + 1}", start, end))
    return found


def expected(items, tz, today):
    """The dashboard's figures computed item by item."""

    def local_day(moment):
        return moment.astimezone(tz).date()

    is_open = [i.status in OPEN for i in items]
    overdue = [
        o and i.due_date is not None and i.due_date < today
        for i, o in zip(items, is_open, strict=True)
    ]
    ages = Counter()
    for item, o in zip(items, is_open, strict=True):
        if o:
            days = (today - local_day(item.created_at)).days
            ages["lt30" if days < 30 else "30-90" if days <= 90 else "gt90"] += 1
    quarters = {}
    for label, start, end in _quarters(today):
        due_in = [
            i
            for i in items
            if i.status != Status.WONT_DO
            and i.due_date is not None
            and start <= i.due_date <= end
        ]
        on_time = [
            i
            for i in due_in
            if i.status == Status.DONE and local_day(i.completed_at) <= i.due_date
        ]
        quarters[label] = (len(due_in), len(on_time))
    teams = {}
    for item, o, late in zip(items, is_open, overdue, strict=True):
        row = teams.setdefault(item.team.slug, [0, 0, 0, 0])
        row[0] += o
        row[1] += late
        row[2] += item.status == Status.DONE
        row[3] += 1
    return {
        "open": sum(is_open),
        "overdue": sum(overdue),
        "done": sum(i.status == Status.DONE for i in items),
        "wont_do": sum(i.status == Status.WONT_DO for i in items),
        "total": len(items),
        "teams": {slug: tuple(v) for slug, v in teams.items()},
        "owners": Counter(
            i.owner.username if i.owner else None
            for i, late in zip(items, overdue, strict=True)
            if late
        ),
        "ages": {key: ages[key] for key in ("lt30", "30-90", "gt90")},
        "quarters": quarters,
        "categories": {
            c: (
                sum(
                    1
                    for i, o in zip(items, is_open, strict=True)
                    if o and i.category == c
                ),
                sum(1 for i in items if i.category == c and i.status == Status.DONE),
                sum(1 for i in items if i.category == c),
            )
            for c in Category.values
        },
        "high_sev_open": sum(
            1
            for i, o in zip(items, is_open, strict=True)
            if o and i.postmortem and i.postmortem.incident.severity in ("SEV0", "SEV1")
        ),
    }


def observed(board):
    return {
        "open": board.totals["open"]["count"],
        "overdue": board.totals["overdue"]["count"],
        "done": board.totals["done"]["count"],
        "wont_do": board.totals["wont_do"]["count"],
        "total": board.totals["total"]["count"],
        "teams": {
            t["slug"]: (t["open"], t["overdue"], t["done"], t["total"])
            for t in board.by_team
        },
        "owners": Counter({o["username"]: o["count"] for o in board.overdue_by_owner}),
        "ages": {b["key"]: b["count"] for b in board.age_buckets},
        "quarters": {
            q["label"]: (q["total"], q["on_time"]) for q in board.on_time_by_quarter
        },
        "categories": {
            c["key"]: (c["open"], c["done"], c["total"]) for c in board.by_category
        },
        "high_sev_open": board.high_sev_open["count"],
    }


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(item_strategy, max_size=25),
    now=st.datetimes(
        min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 12, 31)
    ).map(lambda d: d.replace(tzinfo=dt.UTC)),
    zone=st.sampled_from(ZONES),
    team_index=st.integers(0, 2),
)
def test_dashboard_numbers_equal_an_independent_computation(
    world, specs, now, zone, team_index
):
    teams, _, _, admin = world
    tz = zoneinfo.ZoneInfo(zone)
    with time_machine.travel(now, tick=False), timezone.override(tz):
        items = _build(specs, now, world)
        items = list(
            ActionItem.objects.select_related(
                "team", "owner", "postmortem__incident"
            ).order_by("pk")
        )
        today = now.astimezone(tz).date()
        assert timezone.localdate() == today

        board = selectors.dashboard(user=admin)
        assert observed(board) == expected(items, tz, today)

        team = teams[team_index]
        team_board = selectors.dashboard(user=admin, team=team)
        own = [i for i in items if i.team_id == team.pk]
        assert observed(team_board) == expected(own, tz, today)
        # A team's view never counts another team's items.
        assert {t["slug"] for t in team_board.by_team} <= {team.slug}
        assert all(
            q.startswith(f"team={team.slug}&") or q == f"team={team.slug}"
            for q in [team_board.totals[k]["query"] for k in team_board.totals]
        )


def test_recent_quarters_cover_six_quarters_up_to_yesterday():
    mid = recent_quarters(dt.date(2026, 5, 10))
    assert [q["label"] for q in mid][0] == "2025 Q1"
    assert mid[-1] == {
        "label": "2026 Q2",
        "start": dt.date(2026, 4, 1),
        "end": dt.date(2026, 5, 9),
    }
    # On a quarter's first day nothing in it has come due yet: it is left out.
    first_day = recent_quarters(dt.date(2026, 4, 1))
    assert [q["label"] for q in first_day] == [
        "2025 Q1",
        "2025 Q2",
        "2025 Q3",
        "2025 Q4",
        "2026 Q1",
    ]
    assert quarter_bounds(2026, 4) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))


def test_utc_offset_segments_find_daylight_saving_changes():
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    segments = utc_offset_segments(
        berlin,
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 31, tzinfo=dt.UTC),
    )
    assert segments == [
        (dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC), 3600),
        (dt.datetime(2026, 10, 25, 1, 0, tzinfo=dt.UTC), 7200),
        (None, 3600),
    ]
