"""Leadership dashboard figures. Pure: grouped rows in, numbers (and list links) out.

The selector (``actions.selectors.dashboard_rows``) aggregates in the database and
hands over a few small lists of plain dicts; this module adds them up and says, for
every number, which filtered list it stands for (a query string for
``/actions/``), so the page can link each one.
"""

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from actions.choices import OPEN_STATUSES, Category
from postmortems.choices import Severity

AGE_BUCKETS = (
    ("lt30", "Under 30 days"),
    ("30-90", "30 to 90 days"),
    ("gt90", "Over 90 days"),
)
CATEGORIES = tuple(Category.choices)
QUARTERS_SHOWN = 6


def quarter_of(day: dt.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    """First and last day of a calendar quarter."""
    start = dt.date(year, 3 * (quarter - 1) + 1, 1)
    if quarter == 4:
        end = dt.date(year, 12, 31)
    else:
        end = dt.date(year, 3 * quarter + 1, 1) - dt.timedelta(days=1)
    return start, end


def recent_quarters(today: dt.date, count: int = QUARTERS_SHOWN) -> list[dict]:
    """The last ``count`` quarters up to today's, oldest first.

    Only days before today count: an item whose due date has not passed yet cannot
    have missed it. Each quarter is ``{"label", "start", "end"}`` with ``end``
    capped at yesterday.
    """
    year, quarter = quarter_of(today)
    found = []
    for _ in range(count):
        start, end = quarter_bounds(year, quarter)
        found.append(
            {
                "label": f"{year} Q{quarter}",
                "start": start,
                "end": min(end, today - dt.timedelta(days=1)),
            }
        )
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return [q for q in reversed(found) if q["end"] >= q["start"]]


def _query(base: dict, **params) -> str:
    merged = {**base, **{k: v for k, v in params.items() if v is not None}}
    pairs = []
    for key, value in merged.items():
        if isinstance(value, list | tuple):
            pairs.extend((key, item) for item in value)
        else:
            pairs.append((key, value))
    return urlencode(pairs)


@dataclass
class Dashboard:
    today: dt.date
    team: dict | None
    totals: dict = field(default_factory=dict)
    by_team: list[dict] = field(default_factory=list)
    overdue_by_owner: list[dict] = field(default_factory=list)
    age_buckets: list[dict] = field(default_factory=list)
    on_time_by_quarter: list[dict] = field(default_factory=list)
    by_category: list[dict] = field(default_factory=list)
    high_sev_open: dict = field(default_factory=dict)
    waiting_review: list[dict] = field(default_factory=list)

    def chart_data(self) -> dict:
        """What the charts draw (the same numbers as the tables beside them), with
        the list query behind each bar so a click opens it."""
        overdue_teams = [t for t in self.by_team if t["overdue"]]
        owners = self.overdue_by_owner[:12]
        return {
            "age": {
                "labels": [b["label"] for b in self.age_buckets],
                "values": [b["count"] for b in self.age_buckets],
                "links": [b["query"] for b in self.age_buckets],
            },
            "overdue_by_team": {
                "labels": [t["name"] for t in overdue_teams],
                "values": [t["overdue"] for t in overdue_teams],
                "links": [t["overdue_query"] for t in overdue_teams],
            },
            "overdue_by_owner": {
                "labels": [o["name"] for o in owners],
                "values": [o["count"] for o in owners],
                "links": [o["query"] for o in owners],
            },
            "on_time": {
                "labels": [q["label"] for q in self.on_time_by_quarter],
                "values": [q["share_pct"] for q in self.on_time_by_quarter],
                "links": [q["total_query"] for q in self.on_time_by_quarter],
            },
            "category": {
                "labels": [c["label"] for c in self.by_category],
                "open": [c["open"] for c in self.by_category],
                "done": [c["done"] for c in self.by_category],
                "links": [c["total_query"] for c in self.by_category],
            },
        }


def compute_dashboard(
    *,
    today: dt.date,
    summary_rows: list[dict],
    owner_rows: list[dict],
    quarter_rows: list[dict],
    teams: list[dict],
    waiting_rows: list[dict],
    team: dict | None = None,
    now: dt.datetime | None = None,
) -> Dashboard:
    """Add up the grouped rows.

    ``summary_rows``: ``{"team_id", "status", "category", "n", "overdue", "lt30",
    "gt90", "high_sev", "unconfirmed", "tracker_disagree"}``, one per (team,
    status, category): ``n`` items, of which ``overdue`` are open and past due,
    and, of the open ones, ``lt30`` are under 30 days old, ``gt90`` over 90 and
    ``high_sev`` from SEV0/SEV1 incidents. ``unconfirmed`` done items are linked to
    an issue that is not done, so they do not count as done; ``tracker_disagree``
    items tell another story than their issue.
    ``owner_rows``: open overdue items per owner ``{"owner_id", "username",
    "name", "n"}``. ``quarter_rows``: per quarter label ``{"label", "total",
    "on_time"}``. ``teams``: ``{"id", "slug", "name"}``. ``waiting_rows``:
    postmortems in review ``{"id", "title", "team", "since"}``.
    """
    base = {"team": team["slug"]} if team else {}
    board = Dashboard(today=today, team=team)

    totals = dict.fromkeys(
        (
            "total",
            "open",
            "overdue",
            "done",
            "wont_do",
            "blocked",
            "in_progress",
            "done_unconfirmed",
            "tracker_disagree",
        ),
        0,
    )
    per_team: dict[int, dict] = {}
    ages = dict.fromkeys((key for key, _ in AGE_BUCKETS), 0)
    categories = {key: {"open": 0, "done": 0, "total": 0} for key, _ in CATEGORIES}
    high_sev_open = 0
    for row in summary_rows:
        n = row["n"]
        status = row["status"]
        # Done here but not (yet) in the linked tracker: not done.
        unconfirmed = row.get("unconfirmed", 0)
        totals["done_unconfirmed"] += unconfirmed
        totals["tracker_disagree"] += row.get("tracker_disagree", 0)
        is_open = status in OPEN_STATUSES
        totals["total"] += n
        if is_open:
            totals["open"] += n
        # "open" is both a status and the open group: count statuses apart.
        if status in ("done", "wont_do", "blocked", "in_progress"):
            totals[status] += n - (unconfirmed if status == "done" else 0)
        totals["overdue"] += row["overdue"]
        counts = per_team.setdefault(
            row["team_id"], {"open": 0, "overdue": 0, "done": 0, "total": 0}
        )
        counts["total"] += n
        counts["open"] += n if is_open else 0
        counts["overdue"] += row["overdue"]
        counts["done"] += n - unconfirmed if status == "done" else 0
        if is_open:
            high_sev_open += row["high_sev"]
            ages["lt30"] += row["lt30"]
            ages["gt90"] += row["gt90"]
            ages["30-90"] += n - row["lt30"] - row["gt90"]
        bucket = categories.setdefault(
            row["category"], {"open": 0, "done": 0, "total": 0}
        )
        bucket["total"] += n
        bucket["open"] += n if is_open else 0
        bucket["done"] += n - unconfirmed if status == "done" else 0

    board.totals = {
        key: {"count": value, "query": _query(base, **_TOTAL_FILTERS[key])}
        for key, value in totals.items()
    }

    team_names = {t["id"]: t for t in teams}
    rows = []
    for team_id, counts in per_team.items():
        info = team_names.get(team_id, {"slug": str(team_id), "name": str(team_id)})
        team_base = {"team": info["slug"]}
        rows.append(
            {
                "slug": info["slug"],
                "name": info["name"],
                **counts,
                "overdue_share_pct": round(100 * counts["overdue"] / counts["open"])
                if counts["open"]
                else 0,
                "open_query": _query(team_base, state="open"),
                "overdue_query": _query(team_base, overdue="true"),
                "done_query": _query(team_base, status="done", tracker="confirmed"),
                "total_query": _query(team_base),
            }
        )
    rows.sort(key=lambda r: (-r["overdue"], -r["open"], r["name"]))
    board.by_team = rows

    owners = sorted(owner_rows, key=lambda r: (-r["n"], r["name"], r["owner_id"] or 0))
    board.overdue_by_owner = [
        {
            "name": r["name"] or "Unassigned",
            "username": r["username"],
            "count": r["n"],
            "query": _query(base, owner=r["username"], overdue="true")
            if r["username"]
            else _query(base, owner_none="true", overdue="true"),
        }
        for r in owners
    ]

    board.age_buckets = [
        {
            "key": key,
            "label": label,
            "count": ages[key],
            "query": _query(base, state="open", age=key),
        }
        for key, label in AGE_BUCKETS
    ]

    by_label = {r["label"]: r for r in quarter_rows}
    quarters = []
    for quarter in recent_quarters(today):
        found = by_label.get(quarter["label"], {"total": 0, "on_time": 0})
        period = {
            "due_after": quarter["start"].isoformat(),
            "due_before": quarter["end"].isoformat(),
        }
        closed_or_open = ["open", "in_progress", "blocked", "done"]
        quarters.append(
            {
                "label": quarter["label"],
                "total": found["total"],
                "on_time": found["on_time"],
                "share_pct": round(100 * found["on_time"] / found["total"])
                if found["total"]
                else None,
                "total_query": _query(base, status=closed_or_open, **period),
                "on_time_query": _query(base, done_on_time="true", **period),
            }
        )
    board.on_time_by_quarter = quarters

    labels = dict(CATEGORIES)
    board.by_category = [
        {
            "key": key,
            "label": labels.get(key, key),
            **counts,
            "open_query": _query(base, category=key, state="open"),
            "done_query": _query(
                base, category=key, status="done", tracker="confirmed"
            ),
            "total_query": _query(base, category=key),
        }
        for key, counts in categories.items()
    ]
    board.high_sev_open = {
        "count": high_sev_open,
        "query": _query(
            base, state="open", severity=[Severity.SEV0.value, Severity.SEV1.value]
        ),
    }

    now = now or dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)
    waiting = []
    for row in sorted(waiting_rows, key=lambda r: (r["since"] is None, r["since"])):
        since = row["since"]
        days = (now - since).days if since else None
        waiting.append({**row, "days": days})
    board.waiting_review = waiting
    return board


_TOTAL_FILTERS = {
    "total": {},
    "open": {"state": "open"},
    "overdue": {"overdue": "true"},
    "done": {"status": "done", "tracker": "confirmed"},
    "wont_do": {"status": "wont_do"},
    "blocked": {"status": "blocked"},
    "in_progress": {"status": "in_progress"},
    "done_unconfirmed": {"tracker": "unconfirmed"},
    "tracker_disagree": {"tracker": "disagree"},
}
