"""Analyzer scorecards: backtest each analyzer against what reviewers settled (pure).

Per analyzer and version:
- findings sent, and the incidents they covered;
- the share of its root-cause suggestions that reviewers confirmed:
  confirmed / (confirmed + partial + refuted). A partly right verdict counts as
  reviewed but not confirmed; unreviewed suggestions are left out;
- the median lead time of its first finding on each incident relative to the
  incident's detection: detected_at - first finding. Positive means the analyzer
  spoke before the incident was detected.
"""

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FindingFact:
    analyzer: str
    version: str
    incident_id: int
    has_root_cause: bool
    verdict: str  # "", "confirmed", "partial" or "refuted"
    first_seen_at: dt.datetime
    detected_at: dt.datetime | None


@dataclass(slots=True)
class Scorecard:
    analyzer: str
    version: str
    findings: int = 0
    incidents: int = 0
    root_cause_suggestions: int = 0
    confirmed: int = 0
    partial: int = 0
    refuted: int = 0
    median_lead_seconds: float | None = None
    lead_samples: int = 0
    _incident_ids: set = field(default_factory=set, repr=False)

    @property
    def reviewed(self) -> int:
        return self.confirmed + self.partial + self.refuted

    @property
    def unreviewed(self) -> int:
        return self.root_cause_suggestions - self.reviewed

    @property
    def confirmed_share(self) -> float | None:
        """confirmed / (confirmed + partial + refuted); None before any review."""
        return self.confirmed / self.reviewed if self.reviewed else None

    @property
    def confirmed_percent(self) -> int | None:
        share = self.confirmed_share
        return None if share is None else round(share * 100)

    @property
    def median_lead_minutes(self) -> float | None:
        if self.median_lead_seconds is None:
            return None
        return round(self.median_lead_seconds / 60, 1)


def compute_scorecards(facts: Iterable[FindingFact]) -> list[Scorecard]:
    """One scorecard per (analyzer, version), sorted by analyzer then version."""
    cards: dict[tuple[str, str], Scorecard] = {}
    # (analyzer, version, incident) -> (first finding time, detection time)
    firsts: dict[tuple[str, str, int], tuple[dt.datetime, dt.datetime | None]] = {}
    for fact in facts:
        key = (fact.analyzer, fact.version)
        card = cards.get(key)
        if card is None:
            card = cards[key] = Scorecard(analyzer=fact.analyzer, version=fact.version)
        card.findings += 1
        card._incident_ids.add(fact.incident_id)
        if fact.has_root_cause:
            card.root_cause_suggestions += 1
            if fact.verdict == "confirmed":
                card.confirmed += 1
            elif fact.verdict == "partial":
                card.partial += 1
            elif fact.verdict == "refuted":
                card.refuted += 1
        first_key = (*key, fact.incident_id)
        seen = firsts.get(first_key)
        if seen is None or fact.first_seen_at < seen[0]:
            firsts[first_key] = (fact.first_seen_at, fact.detected_at)

    leads: dict[tuple[str, str], list[float]] = {}
    for (analyzer, version, _), (first_at, detected_at) in firsts.items():
        if detected_at is not None:
            seconds = (detected_at - first_at).total_seconds()
            leads.setdefault((analyzer, version), []).append(seconds)
    for key, card in cards.items():
        card.incidents = len(card._incident_ids)
        samples = leads.get(key, [])
        card.lead_samples = len(samples)
        card.median_lead_seconds = statistics.median(samples) if samples else None
    return [cards[key] for key in sorted(cards)]


def describe_lead(seconds: float | None) -> str:
    """ "12 min before detection", "3 min after detection", "at detection"."""
    if seconds is None:
        return "no detection time"
    minutes = round(abs(seconds) / 60)
    if minutes == 0:
        return "at detection"
    unit = f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"
    return f"{unit} before detection" if seconds > 0 else f"{unit} after detection"
