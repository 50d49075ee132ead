"""Did a class of failure come back after its action items were done?

Pure module: plain numbers and datetimes in, plain data out, no ORM.

A class is *remediated* at the first moment every action item of the class's
incidents so far was done (items closed as won't do are ignored; at least one
must be done) and no further incident of the class had started in the meantime.
Its incident rate before that moment is then compared with the rate after it.

The comparison is an exact Poisson rate ratio. With ``a`` incidents over
``t_after`` days after remediation and ``b`` over ``t_before`` days before it,
conditional on ``n = a + b`` the count after is binomial with
``p = RR·t_after / (RR·t_after + t_before)``. A Clopper–Pearson interval on
``p`` (scipy's exact binomial interval) maps to the rate-ratio interval
``RR = p / (1 − p) · t_before / t_after``.

This shows association in time, never cause: the wording says "came back
after" and "no incident since", and an interval that includes 1 says the counts
are too few to tell.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

from actions.choices import Status

# An action item's statuses, as plain strings.
DONE = Status.DONE.value
WONT_DO = Status.WONT_DO.value
CONFIDENCE_LEVEL = 0.95


@dataclass(frozen=True)
class IncidentMoment:
    """One incident of a class: its key and when its impact began."""

    key: Hashable
    started_at: dt.datetime
    near_miss: bool = False


@dataclass(frozen=True)
class ItemState:
    """One action item of an incident: its status and when it was completed."""

    status: str
    completed_at: dt.datetime | None = None


@dataclass(frozen=True)
class Remediation:
    """When the class's action items so far were all done, and what that covered."""

    at: dt.datetime
    incidents_covered: int
    items_done: int


@dataclass(frozen=True)
class RateRatio:
    """Incident rate after remediation divided by the rate before, with its interval."""

    count_before: int
    days_before: float
    count_after: int
    days_after: float
    ratio: float | None
    low: float
    high: float
    confidence_level: float = CONFIDENCE_LEVEL

    @property
    def change(self) -> str:
        """``fewer``, ``more`` or ``unclear``: where the interval lies against 1."""
        if self.high < 1:
            return "fewer"
        if self.low > 1:
            return "more"
        return "unclear"


def rate_ratio(
    *,
    count_before: int,
    days_before: float,
    count_after: int,
    days_after: float,
    confidence_level: float = CONFIDENCE_LEVEL,
) -> RateRatio:
    """The exact (conditional binomial, Clopper–Pearson) Poisson rate-ratio interval."""
    from scipy.stats import binomtest

    if count_before < 0 or count_after < 0:
        raise ValueError("Incident counts cannot be negative.")
    if not (days_before > 0 and days_after > 0):
        raise ValueError("Both periods must be longer than zero days.")
    if not 0 < confidence_level < 1:
        raise ValueError("The confidence level must lie between 0 and 1.")
    total = count_before + count_after
    scale = days_before / days_after
    if total == 0:
        return RateRatio(
            count_before=0,
            days_before=days_before,
            count_after=0,
            days_after=days_after,
            ratio=None,
            low=0.0,
            high=math.inf,
            confidence_level=confidence_level,
        )
    interval = binomtest(count_after, total).proportion_ci(
        confidence_level=confidence_level, method="exact"
    )

    def to_ratio(p: float) -> float:
        return math.inf if p >= 1 else p / (1 - p) * scale

    if count_before == 0:
        ratio = math.inf
    else:
        ratio = (count_after / days_after) / (count_before / days_before)
    return RateRatio(
        count_before=count_before,
        days_before=days_before,
        count_after=count_after,
        days_after=days_after,
        ratio=ratio,
        low=to_ratio(interval.low),
        high=to_ratio(interval.high),
        confidence_level=confidence_level,
    )


def remediation_point(
    incidents: Sequence[IncidentMoment],
    items: Mapping[Hashable, Sequence[ItemState]],
) -> Remediation | None:
    """The first moment all action items of the incidents so far were done, if any."""
    ordered = sorted(incidents, key=lambda i: (i.started_at, str(i.key)))
    for covered in range(1, len(ordered) + 1):
        states = [
            state
            for incident in ordered[:covered]
            for state in items.get(incident.key, ())
            if state.status != WONT_DO
        ]
        if not states or any(
            s.status != DONE or s.completed_at is None for s in states
        ):
            continue
        at = max(s.completed_at for s in states)
        # An incident that began while the fixes were still under way belongs
        # to the "before" side: its own items must be done too.
        if covered < len(ordered) and ordered[covered].started_at < at:
            continue
        return Remediation(at=at, incidents_covered=covered, items_done=len(states))
    return None


@dataclass(frozen=True)
class ClassRecurrence:
    """A remediated class: incidents before and after, and the rate comparison."""

    remediation: Remediation
    before: list[IncidentMoment]
    after: list[IncidentMoment]
    rates: RateRatio | None

    @property
    def came_back(self) -> bool:
        return bool(self.after)

    @property
    def near_misses_after(self) -> int:
        return sum(1 for i in self.after if i.near_miss)

    @property
    def first_after(self) -> IncidentMoment | None:
        return self.after[0] if self.after else None


def class_recurrence(
    incidents: Sequence[IncidentMoment],
    items: Mapping[Hashable, Sequence[ItemState]],
    *,
    window_start: dt.datetime,
    now: dt.datetime,
) -> ClassRecurrence | None:
    """Remediation, counts either side and their rate ratio; None if never remediated.

    Only incidents from ``window_start`` on take part: the rates need a period
    the records cover, and an incident imported from years before would
    otherwise stretch the "before" period.
    """
    counted = sorted(
        (i for i in incidents if window_start <= i.started_at <= now),
        key=lambda i: (i.started_at, str(i.key)),
    )
    remediation = remediation_point(counted, items)
    if remediation is None:
        return None
    before = counted[: remediation.incidents_covered]
    after = counted[remediation.incidents_covered :]
    days_before = (remediation.at - window_start).total_seconds() / 86400
    days_after = (now - remediation.at).total_seconds() / 86400
    rates = None
    if days_before > 0 and days_after > 0:
        rates = rate_ratio(
            count_before=len(before),
            days_before=days_before,
            count_after=len(after),
            days_after=days_after,
        )
    return ClassRecurrence(
        remediation=remediation, before=before, after=after, rates=rates
    )


def _plural(n: int, word: str, plural: str = "") -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural or word + 's'}"


def _span(days: float) -> str:
    if days >= 60:
        return f"{days / 30.44:.0f} months"
    return _plural(max(1, round(days)), "day")


def _number(value: float) -> str:
    if math.isinf(value):
        return "∞"
    return f"{value:.2g}" if value < 10 else f"{value:.0f}"


def describe(recurrence: ClassRecurrence) -> str:
    """Sentences of association, never of cause, for pages, exports and the API."""
    rates = recurrence.rates
    remediated = recurrence.remediation.at.date().isoformat()
    after = len(recurrence.after)
    near = recurrence.near_misses_after
    near_text = f" ({_plural(near, 'near miss', 'near misses')})" if near else ""
    if rates is None:
        if after:
            return (
                f"Came back after its action items were done on {remediated}: "
                f"{_plural(after, 'incident')} since{near_text}."
            )
        return f"No incident since its action items were done on {remediated}."
    since = _span(rates.days_after)
    before = f"against {rates.count_before} in {_span(rates.days_before)} before"
    if after:
        head = (
            f"Came back after its action items were done on {remediated}: "
            f"{_plural(after, 'incident')} in {since} since{near_text}, {before}."
        )
    else:
        head = (
            f"No incident in the {since} since its action items were done on "
            f"{remediated}, {before}."
        )
    level = f"{rates.confidence_level:.0%}"
    interval = f"{level} interval {_number(rates.low)} to {_number(rates.high)}"
    ratio = (
        f"Rate ratio {_number(rates.ratio)} ({interval})"
        if rates.ratio is not None
        else f"Rate ratio unknown ({interval})"
    )
    verdict = {
        "fewer": "incidents were less frequent after than before",
        "more": "incidents were more frequent after than before",
        "unclear": "too few incidents to tell whether the rate changed",
    }[rates.change]
    return f"{head} {ratio}: {verdict}."
