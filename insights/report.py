"""Rows in, report data out: recurring failure classes and whether fixes worked.

Pure module: plain dataclasses in and out, no ORM.

A postmortem belongs to a class through a *membership*: confirmed by a person,
or inferred by the classifier with a confidence. Only confirmed memberships and
inferred ones at or above the run's confidence threshold are *counted*: they
make the class's count, score, chart, impact, response times and its
"recurred after remediation" line. Inferred memberships below the threshold, or
whose confidence is a similarity rather than the calibrated classifier's
probability (clustering, a class description), are listed, marked as uncertain,
and change nothing else.

Ranking score of a class (stated on the report page)::

    score = sum over the class's counted incidents of
            severity_weight * 0.5 ** (age_days / 180)

with severity weights SEV0 = 8, SEV1 = 4, SEV2 = 2, SEV3 = 1. A class is
*recurring* when it has at least two counted incidents. Whether a class came
back after its action items were done is worked out in ``insights.recurrence``.

Near misses (no customer impact) feed the classes like any incident and are
counted apart, so a class of near misses reads as such.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from insights import recurrence as rec
from insights.durations import Distribution, lifecycle_distributions
from postmortems.choices import Severity

SEVERITY_WEIGHTS = {
    Severity.SEV0.value: 8.0,
    Severity.SEV1.value: 4.0,
    Severity.SEV2.value: 2.0,
    Severity.SEV3.value: 1.0,
}
DEFAULT_SEVERITY_WEIGHT = 1.0
HALF_LIFE_DAYS = 180.0
RECURRING_MIN_INCIDENTS = 2
SCORE_FORMULA = (
    "score = Σ severity weight × 0.5^(age in days / 180), "
    "with SEV0 = 8, SEV1 = 4, SEV2 = 2, SEV3 = 1"
)
# The quarterly chart leaves out leading stretches of incidents separated from
# the rest by a year or more without any, as long as they are a small share of
# all incidents (an incident imported from years ago must not stretch it).
CHART_GAP_QUARTERS = 4
CHART_OUTLIER_SHARE = 0.2

DONE = rec.DONE
WONT_DO = rec.WONT_DO


@dataclass(frozen=True)
class IncidentRow:
    postmortem_id: Hashable
    incident_id: Hashable
    title: str
    started_at: dt.datetime
    severity: str
    team: str
    services: tuple[str, ...] = ()
    users_affected: int | None = None
    revenue_usd: float | None = None
    error_budget_pct: float | None = None
    duration_minutes: float | None = None
    near_miss: bool = False
    # Lifecycle metric (TTD, TTA, TTM, TTR) -> seconds, when recorded.
    durations: Mapping[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class MembershipRow:
    """A postmortem's place in a class, and the statement that put it there."""

    postmortem_id: Hashable
    class_slug: str
    confidence: float
    confirmed: bool = False
    evidence: str = ""
    statement_kind: str = ""
    # The confidence is the calibrated classifier's probability; a similarity
    # (clustering, a class description) is not, and never counts.
    calibrated: bool = True
    # The classifier was validated on this kind of statement (False: a
    # contributing factor, say, while only root causes were ever confirmed).
    kind_validated: bool = True


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
class Member:
    """One incident of a class, with how sure the report is that it belongs."""

    incident: IncidentRow
    confidence: float
    confirmed: bool
    counted: bool
    evidence: str = ""
    statement_kind: str = ""
    calibrated: bool = True
    kind_validated: bool = True

    @property
    def inferred(self) -> bool:
        return not self.confirmed


@dataclass
class ClassReport:
    slug: str
    name: str
    status: str
    score: float
    members: list[Member]
    quarters: dict[str, int]
    services: list[tuple[str, int]]
    teams: list[tuple[str, int]]
    impact: dict[str, float]
    action_status: dict[str, int]
    actions: list[ActionRow]
    durations: dict[str, Distribution]
    recurrence: rec.ClassRecurrence | None = None

    @property
    def counted(self) -> list[Member]:
        return [m for m in self.members if m.counted]

    @property
    def uncertain(self) -> list[Member]:
        """Inferred below the threshold: listed, not counted."""
        return [m for m in self.members if not m.counted]

    @property
    def incidents(self) -> list[IncidentRow]:
        return [m.incident for m in self.counted]

    @property
    def count(self) -> int:
        return len(self.counted)

    @property
    def confirmed_count(self) -> int:
        return sum(1 for m in self.counted if m.confirmed)

    @property
    def inferred_count(self) -> int:
        return sum(1 for m in self.counted if not m.confirmed)

    @property
    def near_misses(self) -> int:
        return sum(1 for m in self.counted if m.incident.near_miss)

    @property
    def first_at(self) -> dt.datetime | None:
        return min((i.started_at for i in self.incidents), default=None)

    @property
    def last_at(self) -> dt.datetime | None:
        return max((i.started_at for i in self.incidents), default=None)

    @property
    def recurring(self) -> bool:
        return self.count >= RECURRING_MIN_INCIDENTS

    @property
    def done_actions(self) -> int:
        return self.action_status.get(DONE, 0)

    @property
    def came_back(self) -> bool:
        return self.recurrence is not None and self.recurrence.came_back

    @property
    def recurrence_text(self) -> str:
        return rec.describe(self.recurrence) if self.recurrence else ""

    @property
    def recurrence_members(self) -> list[Member]:
        """The counted incidents after remediation, oldest first."""
        if not self.recurrence:
            return []
        after = {i.key for i in self.recurrence.after}
        return [m for m in self.counted if m.incident.postmortem_id in after]


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
    factors: FactorStats
    incidents: int
    near_misses: int
    unclassified: int
    confidence_threshold: float
    team_durations: dict[str, dict[str, Distribution]]
    before_chart: int = 0
    before_chart_first: dt.datetime | None = None
    score_formula: str = SCORE_FORMULA

    @property
    def recurring(self) -> list[ClassReport]:
        return [c for c in self.classes if c.recurring]

    @property
    def unconfirmed(self) -> list[ClassReport]:
        """Classes that would recur on their uncertain members, not yet counted."""
        return [
            c
            for c in self.classes
            if not c.recurring and len(c.members) >= RECURRING_MIN_INCIDENTS
        ]

    @property
    def came_back(self) -> list[ClassReport]:
        """Classes that came back after remediation, latest recurrence first."""
        found = [c for c in self.classes if c.came_back]
        return sorted(
            found,
            key=lambda c: (c.recurrence.after[-1].started_at, c.slug),
            reverse=True,
        )

    @property
    def quiet_since(self) -> list[ClassReport]:
        """Remediated classes with no counted incident since."""
        return [c for c in self.classes if c.recurrence and not c.came_back]

    @property
    def uncertain(self) -> int:
        """Memberships inferred below the threshold, over every class."""
        return sum(len(c.uncertain) for c in self.classes)


def quarter_of(moment: dt.datetime | dt.date) -> str:
    """``2026-Q2`` style label of a date."""
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


def _quarter_index(moment: dt.datetime | dt.date) -> int:
    return moment.year * 4 + (moment.month - 1) // 3


def quarter_start(label: str, tzinfo: dt.tzinfo | None = dt.UTC) -> dt.datetime:
    """The first moment of a ``2026-Q2`` style quarter."""
    year, quarter = label.split("-Q")
    return dt.datetime(int(year), (int(quarter) - 1) * 3 + 1, 1, tzinfo=tzinfo)


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


def chart_start(moments: Sequence[dt.datetime]) -> dt.datetime | None:
    """The earliest moment the quarterly chart should show; see CHART_GAP_QUARTERS.

    Incidents are split into stretches wherever a year or more passes without
    any; leading stretches are left out while together they hold at most
    CHART_OUTLIER_SHARE of all incidents.
    """
    if not moments:
        return None
    ordered = sorted(moments)
    starts = [0]
    for i in range(1, len(ordered)):
        empty = _quarter_index(ordered[i]) - _quarter_index(ordered[i - 1]) - 1
        if empty >= CHART_GAP_QUARTERS:
            starts.append(i)
    start = 0
    for index in starts[1:]:
        if index / len(ordered) <= CHART_OUTLIER_SHARE:
            start = index
    return ordered[start]


def incident_weight(incident: IncidentRow, now: dt.datetime) -> float:
    """One incident's contribution to its class score."""
    severity = SEVERITY_WEIGHTS.get(incident.severity, DEFAULT_SEVERITY_WEIGHT)
    age_days = max(0.0, (now - incident.started_at).total_seconds() / 86400)
    return severity * 0.5 ** (age_days / HALF_LIFE_DAYS)


def class_score(incidents: Iterable[IncidentRow], now: dt.datetime) -> float:
    """Ranking score of a class; see the module docstring."""
    return sum(incident_weight(i, now) for i in incidents)


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
    """Contributing factors by kind, by team and kind, by charted quarter and kind."""
    by_kind: Counter = Counter(f.kind for f in factors)
    by_team: dict[str, Counter] = defaultdict(Counter)
    by_quarter: dict[str, Counter] = {q: Counter() for q in quarters}
    gaps: Counter = Counter()
    gap_text: dict[str, str] = {}
    for factor in factors:
        by_team[factor.team][factor.kind] += 1
        quarter = quarter_of(factor.started_at)
        if quarter in by_quarter:
            by_quarter[quarter][factor.kind] += 1
        if factor.kind == "detection_gap":
            key = " ".join(factor.description.lower().split())
            gaps[key] += 1
            gap_text.setdefault(key, factor.description.strip())
    return FactorStats(
        total=len(factors),
        by_kind=_ranked(by_kind),
        by_team={team: dict(by_team[team]) for team in sorted(by_team)},
        by_quarter={q: dict(by_quarter[q]) for q in quarters},
        top_detection_gaps=[(gap_text[k], n) for k, n in _ranked(gaps)[:top]],
    )


def membership_counted(row: MembershipRow, threshold: float) -> bool:
    """Confirmed, or inferred by the calibrated classifier at or above the
    threshold: the one counting rule."""
    return row.confirmed or (row.calibrated and row.confidence >= threshold)


def _members(
    memberships: Sequence[MembershipRow],
    incidents: Mapping[Hashable, IncidentRow],
    threshold: float,
) -> dict[str, list[Member]]:
    """Class slug -> members; a postmortem appears once per class (its best row)."""
    best: dict[tuple[str, Hashable], MembershipRow] = {}
    for row in memberships:
        if row.postmortem_id not in incidents:
            continue
        key = (row.class_slug, row.postmortem_id)
        known = best.get(key)
        if known is None or (row.confirmed, row.confidence) > (
            known.confirmed,
            known.confidence,
        ):
            best[key] = row
    grouped: dict[str, list[Member]] = defaultdict(list)
    for (slug, postmortem_id), row in best.items():
        grouped[slug].append(
            Member(
                incident=incidents[postmortem_id],
                confidence=row.confidence,
                confirmed=row.confirmed,
                counted=membership_counted(row, threshold),
                evidence=row.evidence,
                statement_kind=row.statement_kind,
                calibrated=row.calibrated,
                kind_validated=row.kind_validated,
            )
        )
    for members in grouped.values():
        members.sort(
            key=lambda m: (
                not m.counted,
                m.incident.started_at,
                str(m.incident.postmortem_id),
            )
        )
    return grouped


def build_report(
    *,
    incidents: Sequence[IncidentRow],
    memberships: Sequence[MembershipRow],
    actions: Sequence[ActionRow],
    factors: Sequence[FactorRow],
    classes: Sequence[ClassInfo],
    confidence_threshold: float,
    now: dt.datetime,
) -> Report:
    """The whole insights report, classes ranked by score (highest first)."""
    info = {c.slug: c for c in classes}
    by_postmortem = {i.postmortem_id: i for i in incidents}
    actions_by_postmortem: dict[Hashable, list[ActionRow]] = defaultdict(list)
    for item in sorted(actions, key=lambda a: str(a.id)):
        actions_by_postmortem[item.postmortem_id].append(item)

    start = chart_start([i.started_at for i in incidents])
    if start is None:
        start = min((f.started_at for f in factors), default=None)
    # The chart runs to the current quarter, so a quiet recent period shows as 0.
    quarters = quarter_range(start, max(start, now)) if start else []
    window_start = quarter_start(quarters[0], now.tzinfo) if quarters else now
    before_chart = [i for i in incidents if i.started_at < window_start]

    reports = []
    for slug, members in _members(
        memberships, by_postmortem, confidence_threshold
    ).items():
        known = info.get(slug, ClassInfo(slug=slug, name=slug))
        counted = [m.incident for m in members if m.counted]
        items = [a for i in counted for a in actions_by_postmortem[i.postmortem_id]]
        per_quarter = Counter(quarter_of(i.started_at) for i in counted)
        recurrence = (
            rec.class_recurrence(
                [
                    rec.IncidentMoment(i.postmortem_id, i.started_at, i.near_miss)
                    for i in counted
                ],
                {
                    i.postmortem_id: [
                        rec.ItemState(a.status, a.completed_at)
                        for a in actions_by_postmortem[i.postmortem_id]
                    ]
                    for i in counted
                },
                window_start=window_start,
                now=now,
            )
            if counted
            else None
        )
        reports.append(
            ClassReport(
                slug=slug,
                name=known.name,
                status=known.status,
                score=round(class_score(counted, now), 4),
                members=members,
                quarters={q: per_quarter.get(q, 0) for q in quarters},
                services=_ranked(Counter(s for i in counted for s in i.services)),
                teams=_ranked(Counter(i.team for i in counted)),
                impact=_impact(counted),
                action_status=dict(sorted(Counter(a.status for a in items).items())),
                actions=items,
                durations=lifecycle_distributions([i.durations for i in counted]),
                recurrence=recurrence,
            )
        )
    reports.sort(key=lambda c: (-c.score, -c.count, c.slug))
    classified = {
        m.incident.postmortem_id for c in reports for m in c.members if m.counted
    }
    by_team: dict[str, list[IncidentRow]] = defaultdict(list)
    for incident in incidents:
        by_team[incident.team].append(incident)
    return Report(
        generated_at=now,
        quarters=quarters,
        classes=reports,
        factors=factor_stats(factors, quarters),
        incidents=len(incidents),
        near_misses=sum(1 for i in incidents if i.near_miss),
        unclassified=sum(1 for i in incidents if i.postmortem_id not in classified),
        confidence_threshold=confidence_threshold,
        team_durations={
            team: lifecycle_distributions([i.durations for i in by_team[team]])
            for team in sorted(by_team)
        },
        before_chart=len(before_chart),
        before_chart_first=min((i.started_at for i in before_chart), default=None),
    )
