"""Rows in, report data out: recurring failure classes and whether fixes worked.

Pure module: plain dataclasses in and out, no ORM.

Ranking score of a class (stated on the report page)::

    score = sum over the class's incidents of  severity_weight * 0.5 ** (age_days / 180)

with severity weights SEV0 = 8, SEV1 = 4, SEV2 = 2, SEV3 = 1. Every incident adds
to the score (count), a severe one adds more (severity), and an incident's weight
halves every 180 days (recency). A class is *recurring* when it has at least two
incidents.

"Recurred after remediation": a class's incident B recurred after remediation
when every action item of the class's incidents before B was done (ignoring items
closed as won't do; at least one done) and the last of them was completed before
B started.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

SEVERITY_WEIGHTS = {"SEV0": 8.0, "SEV1": 4.0, "SEV2": 2.0, "SEV3": 1.0}
DEFAULT_SEVERITY_WEIGHT = 1.0
HALF_LIFE_DAYS = 180.0
RECURRING_MIN_INCIDENTS = 2
SCORE_FORMULA = (
    "score = Σ severity weight × 0.5^(age in days / 180), "
    "with SEV0 = 8, SEV1 = 4, SEV2 = 2, SEV3 = 1"
)

DONE = "done"
WONT_DO = "wont_do"


@dataclass(frozen=True)
class IncidentRow:
    postmortem_id: Hashable
    incident_id: Hashable
    title: str
    started_at: dt.datetime
    severity: str
    team: str
    services: tuple[str, ...] = ()
    class_slug: str | None = None
    users_affected: int | None = None
    revenue_usd: float | None = None
    error_budget_pct: float | None = None
    duration_minutes: float | None = None
    class_confirmed: bool = False


@dataclass(frozen=True)
class ActionRow:
    id: Hashable
    postmortem_id: Hashable
    title: str
    status: str
    completed_at: dt.datetime | None = None
    priority: str = ""
    owner: str = ""


@dataclass(frozen=True)
class FactorRow:
    postmortem_id: Hashable
    kind: str
    description: str
    team: str
    started_at: dt.datetime


@dataclass(frozen=True)
class ClassInfo:
    slug: str
    name: str
    status: str = ""


@dataclass(frozen=True)
class Recurrence:
    class_slug: str
    class_name: str
    remediated_at: dt.datetime
    incident: IncidentRow
    earlier_incidents: int
    done_items: int

    @property
    def confirmed(self) -> bool:
        """A person confirmed the recurring incident's class (not inferred)."""
        return self.incident.class_confirmed


@dataclass(frozen=True)
class RecurredClass:
    """One class that recurred after remediation: its latest recurrence."""

    class_slug: str
    class_name: str
    latest: Recurrence
    times: int


@dataclass
class ClassReport:
    slug: str
    name: str
    status: str
    score: float
    count: int
    first_at: dt.datetime
    last_at: dt.datetime
    quarters: dict[str, int]
    services: list[tuple[str, int]]
    teams: list[tuple[str, int]]
    impact: dict[str, float]
    action_status: dict[str, int]
    incidents: list[IncidentRow]
    actions: list[ActionRow]
    recurrences: list[Recurrence] = field(default_factory=list)

    @property
    def recurring(self) -> bool:
        return self.count >= RECURRING_MIN_INCIDENTS

    @property
    def done_actions(self) -> int:
        return self.action_status.get(DONE, 0)


@dataclass
class FactorStats:
    total: int
    by_kind: list[tuple[str, int]]
    by_team: dict[str, dict[str, int]]
    by_quarter: dict[str, dict[str, int]]
    top_detection_gaps: list[tuple[str, int]]


@dataclass
class Report:
    generated_at: dt.datetime
    quarters: list[str]
    classes: list[ClassReport]
    recurred_after_remediation: list[Recurrence]
    factors: FactorStats
    unclassified: int
    score_formula: str = SCORE_FORMULA

    @property
    def recurred_classes(self) -> list[RecurredClass]:
        """One entry per class, latest recurrence first; for the headline."""
        seen: dict[str, RecurredClass] = {}
        for recurrence in self.recurred_after_remediation:  # newest first
            known = seen.get(recurrence.class_slug)
            if known is None:
                seen[recurrence.class_slug] = RecurredClass(
                    recurrence.class_slug, recurrence.class_name, recurrence, 1
                )
            else:
                seen[recurrence.class_slug] = RecurredClass(
                    known.class_slug, known.class_name, known.latest, known.times + 1
                )
        return list(seen.values())

    @property
    def recurring(self) -> list[ClassReport]:
        return [c for c in self.classes if c.recurring]


def quarter_of(moment: dt.datetime | dt.date) -> str:
    """``2026-Q2`` style label of a date."""
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


def quarter_range(first: dt.datetime, last: dt.datetime) -> list[str]:
    """Every quarter label from ``first`` to ``last`` inclusive."""
    year, quarter = first.year, (first.month - 1) // 3
    end = (last.year, (last.month - 1) // 3)
    labels = []
    while (year, quarter) <= end:
        labels.append(f"{year}-Q{quarter + 1}")
        quarter += 1
        if quarter == 4:
            year, quarter = year + 1, 0
    return labels


def incident_weight(incident: IncidentRow, now: dt.datetime) -> float:
    """One incident's contribution to its class score."""
    severity = SEVERITY_WEIGHTS.get(incident.severity, DEFAULT_SEVERITY_WEIGHT)
    age_days = max(0.0, (now - incident.started_at).total_seconds() / 86400)
    return severity * 0.5 ** (age_days / HALF_LIFE_DAYS)


def class_score(incidents: Iterable[IncidentRow], now: dt.datetime) -> float:
    """Ranking score of a class; see the module docstring."""
    return sum(incident_weight(i, now) for i in incidents)


def find_recurrences(
    slug: str,
    name: str,
    incidents: Sequence[IncidentRow],
    actions_by_postmortem: dict[Hashable, list[ActionRow]],
) -> list[Recurrence]:
    """Incidents of one class that happened after all earlier fixes were done."""
    ordered = sorted(incidents, key=lambda i: (i.started_at, str(i.postmortem_id)))
    found = []
    for position, incident in enumerate(ordered):
        if position == 0:
            continue
        earlier = ordered[:position]
        items = [
            item
            for previous in earlier
            for item in actions_by_postmortem.get(previous.postmortem_id, [])
            if item.status != WONT_DO
        ]
        if not items or any(
            item.status != DONE or item.completed_at is None for item in items
        ):
            continue
        remediated_at = max(item.completed_at for item in items)
        if remediated_at < incident.started_at:
            found.append(
                Recurrence(
                    class_slug=slug,
                    class_name=name,
                    remediated_at=remediated_at,
                    incident=incident,
                    earlier_incidents=len(earlier),
                    done_items=len(items),
                )
            )
    return found


def _impact(incidents: Sequence[IncidentRow]) -> dict[str, float]:
    return {
        "incidents": len(incidents),
        "users_affected": sum(i.users_affected or 0 for i in incidents),
        "revenue_usd": round(sum(i.revenue_usd or 0 for i in incidents), 2),
        "error_budget_pct": round(sum(i.error_budget_pct or 0 for i in incidents), 2),
        "duration_minutes": round(sum(i.duration_minutes or 0 for i in incidents), 1),
    }


def _ranked(counter: Counter) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def factor_stats(
    factors: Sequence[FactorRow], quarters: Sequence[str], top: int = 10
) -> FactorStats:
    """Contributing factors by kind, by team and kind, by quarter and kind."""
    by_kind: Counter = Counter(f.kind for f in factors)
    by_team: dict[str, Counter] = defaultdict(Counter)
    by_quarter: dict[str, Counter] = {q: Counter() for q in quarters}
    gaps: Counter = Counter()
    gap_text: dict[str, str] = {}
    for factor in factors:
        by_team[factor.team][factor.kind] += 1
        by_quarter.setdefault(quarter_of(factor.started_at), Counter())[
            factor.kind
        ] += 1
        if factor.kind == "detection_gap":
            key = " ".join(factor.description.lower().split())
            gaps[key] += 1
            gap_text.setdefault(key, factor.description.strip())
    return FactorStats(
        total=len(factors),
        by_kind=_ranked(by_kind),
        by_team={team: dict(by_team[team]) for team in sorted(by_team)},
        by_quarter={q: dict(by_quarter[q]) for q in sorted(by_quarter)},
        top_detection_gaps=[(gap_text[k], n) for k, n in _ranked(gaps)[:top]],
    )


def build_report(
    *,
    incidents: Sequence[IncidentRow],
    actions: Sequence[ActionRow],
    factors: Sequence[FactorRow],
    classes: Sequence[ClassInfo],
    now: dt.datetime,
) -> Report:
    """The whole insights report, classes ranked by score (highest first)."""
    info = {c.slug: c for c in classes}
    actions_by_postmortem: dict[Hashable, list[ActionRow]] = defaultdict(list)
    for item in sorted(actions, key=lambda a: str(a.id)):
        actions_by_postmortem[item.postmortem_id].append(item)
    moments = [i.started_at for i in incidents] + [f.started_at for f in factors]
    # The chart runs to the current quarter, so a quiet recent period shows as 0.
    quarters = quarter_range(min(moments), max(*moments, now)) if moments else []

    grouped: dict[str, list[IncidentRow]] = defaultdict(list)
    for incident in incidents:
        if incident.class_slug:
            grouped[incident.class_slug].append(incident)

    reports = []
    for slug, members in grouped.items():
        members = sorted(members, key=lambda i: (i.started_at, str(i.postmortem_id)))
        known = info.get(slug, ClassInfo(slug=slug, name=slug))
        items = [a for m in members for a in actions_by_postmortem[m.postmortem_id]]
        per_quarter = Counter(quarter_of(m.started_at) for m in members)
        reports.append(
            ClassReport(
                slug=slug,
                name=known.name,
                status=known.status,
                score=round(class_score(members, now), 4),
                count=len(members),
                first_at=members[0].started_at,
                last_at=members[-1].started_at,
                quarters={q: per_quarter.get(q, 0) for q in quarters},
                services=_ranked(Counter(s for m in members for s in m.services)),
                teams=_ranked(Counter(m.team for m in members)),
                impact=_impact(members),
                action_status=dict(sorted(Counter(a.status for a in items).items())),
                incidents=members,
                actions=items,
                recurrences=find_recurrences(
                    slug, known.name, members, actions_by_postmortem
                ),
            )
        )
    reports.sort(key=lambda c: (-c.score, -c.count, c.slug))
    recurred = sorted(
        (r for c in reports for r in c.recurrences),
        key=lambda r: (r.incident.started_at, r.class_slug),
        reverse=True,
    )
    return Report(
        generated_at=now,
        quarters=quarters,
        classes=reports,
        recurred_after_remediation=recurred,
        factors=factor_stats(factors, quarters),
        unclassified=sum(1 for i in incidents if not i.class_slug),
    )
