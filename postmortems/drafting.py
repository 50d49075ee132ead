"""The first draft of a postmortem, written from what the incident recorded.

Pure: plain data in (``IncidentFacts``), plain data out (``Draft``), no ORM and no
language model. Every sentence comes from a recorded value by a rule you can read
below, so a drafted sentence is never more than the record says:

- summary: severity, title, services and team, and the lifecycle times;
- impact: how long users were affected, the services and teams involved, and the
  figures analyzers attached to their findings as metric evidence;
- detection: the first alert and each response time with its formula;
- root cause: the confirmed finding with the highest confidence, as a candidate
  marked "from analyzer X, confirm or delete";
- contributing factors: the other confirmed and the partly right findings;
- trigger: changes on the timeline and deploy or config-change evidence;
- resolution: mitigation and recovery steps from the timeline, with times;
- investigation log: refuted findings, as hypotheses ruled out;
- prior work: open action items of past incidents this one resembles.

A section the template does not have is left out; a rule with nothing recorded
writes nothing, so an empty section stays empty rather than filled with filler.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from postmortems.metrics import Metric

# Where the prior work goes, in order of preference, for templates without a
# section of that name.
PRIOR_WORK_SECTIONS = ("prevention", "supporting_info", "went_wrong", "root_cause")
CONFIRM_OR_DELETE = "confirm or delete"


@dataclass(frozen=True)
class TimelineFact:
    occurred_at: dt.datetime
    kind: str  # a TimelineKind value
    text: str
    source_label: str
    author: str = ""


@dataclass(frozen=True)
class EvidenceFact:
    kind: str
    title: str
    excerpt: str
    url: str


@dataclass(frozen=True)
class FindingFact:
    analyzer: str
    title: str
    root_cause: str
    confidence: float | None
    verdict: str  # confirmed, partial, refuted or ""
    verdict_by: str = ""
    evidence: Sequence[EvidenceFact] = ()


@dataclass(frozen=True)
class PriorWorkFact:
    incident_reference: str
    incident_title: str
    item_title: str
    category_label: str
    status_label: str
    owner: str = ""
    due_date: dt.date | None = None


@dataclass(frozen=True)
class IncidentFacts:
    reference: str
    title: str
    severity_label: str
    team: str
    services: Sequence[str]
    lifecycle: dict[str, dt.datetime | None]
    metrics: Sequence[Metric]
    timeline: Sequence[TimelineFact] = ()
    findings: Sequence[FindingFact] = ()
    prior_work: Sequence[PriorWorkFact] = ()
    # Teams owning the services involved, besides the incident's own team.
    other_teams: Sequence[str] = ()


@dataclass(frozen=True)
class DraftFactor:
    kind: str  # a ContributingFactorKind value
    description: str
    drafted_from: str


@dataclass(frozen=True)
class DraftHypothesis:
    text: str
    test: str
    drafted_from: str


@dataclass
class Draft:
    sections: dict[str, str] = field(default_factory=dict)
    factors: list[DraftFactor] = field(default_factory=list)
    hypotheses: list[DraftHypothesis] = field(default_factory=list)


def _when(value: dt.datetime | None) -> str:
    return _time(value) if value else ""


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _join(names: Sequence[str]) -> str:
    names = [name for name in names if name]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def _from(finding: FindingFact) -> str:
    return f"from analyzer {finding.analyzer}"


def _confidence(finding: FindingFact) -> str:
    if finding.confidence is None:
        return ""
    return f", confidence {round(finding.confidence * 100)}%"


def summary(facts: IncidentFacts) -> str:
    services = _join(facts.services)
    where = f" on {services}" if services else ""
    lines = [
        f"{facts.reference} ({facts.severity_label}): {facts.title}{where}, "
        f"owned by {facts.team}."
    ]
    steps = [
        (label, facts.lifecycle.get(name))
        for name, label in (
            ("started_at", "Impact began"),
            ("detected_at", "detected"),
            ("mitigated_at", "mitigated"),
            ("resolved_at", "resolved"),
        )
    ]
    recorded = [f"{label} {_when(value)}" for label, value in steps if value]
    if recorded:
        lines.append("; ".join(recorded) + ".")
    return " ".join(lines)


def impact(facts: IncidentFacts) -> str:
    lines = []
    ttm = next((m for m in facts.metrics if m.abbr == "TTM"), None)
    if ttm is not None and ttm.duration is not None:
        lines.append(f"Users were affected for {ttm.display} ({ttm.formula}).")
    if facts.services:
        lines.append(f"Services involved: {_join(facts.services)}.")
    if facts.other_teams:
        lines.append(
            f"Teams involved besides {facts.team}: {_join(facts.other_teams)}."
        )
    figures = [
        (finding, evidence)
        for finding in facts.findings
        if finding.verdict != "refuted"
        for evidence in finding.evidence
        if evidence.kind == "metric" and (evidence.excerpt or evidence.title)
    ]
    if figures:
        lines.append("")
        lines.append("Figures the analyzers reported:")
        lines.append("")
        for finding, evidence in figures:
            label = evidence.title or "Metric"
            value = _one_line(evidence.excerpt)
            link = f" ([source]({evidence.url}))" if evidence.url else ""
            lines.append(
                f"- {label}: {value}{link}, {_from(finding)}"
                if value
                else f"- {label}{link}, {_from(finding)}"
            )
    return "\n".join(lines).strip()


def detection(facts: IncidentFacts) -> str:
    lines = []
    alerts = sorted(
        (e for e in facts.timeline if e.kind in ("alert", "detection")),
        key=lambda e: e.occurred_at,
    )
    if alerts:
        first = alerts[0]
        lines.append(
            f"First signal: {_time(first.occurred_at)}, {_one_line(first.text)} "
            f"({first.source_label.lower()})."
        )
        lines.append("")
    recorded = [m for m in facts.metrics if m.duration is not None]
    if recorded:
        lines.append("Response times, from the incident's timestamps:")
        lines.append("")
        lines.extend(f"- {m.name}: {m.formula}" for m in recorded)
    return "\n".join(lines).strip()


def _confirmed(facts: IncidentFacts) -> list[FindingFact]:
    confirmed = [
        f for f in facts.findings if f.verdict == "confirmed" and f.root_cause.strip()
    ]
    # Highest confidence first; findings without a confidence last, stable.
    return sorted(confirmed, key=lambda f: -(f.confidence or 0.0))


def root_cause(facts: IncidentFacts) -> str:
    confirmed = _confirmed(facts)
    if not confirmed:
        return ""
    candidate = confirmed[0]
    by = f", confirmed by {candidate.verdict_by}" if candidate.verdict_by else ""
    return (
        f"{_one_line(candidate.root_cause)}\n\n"
        f"*Candidate root cause {_from(candidate)}{_confidence(candidate)}{by}: "
        f"{CONFIRM_OR_DELETE}. Then ask what in the system allowed it.*"
    )


def factors(facts: IncidentFacts) -> list[DraftFactor]:
    confirmed = _confirmed(facts)
    rest = confirmed[1:] + [
        f for f in facts.findings if f.verdict == "partial" and f.root_cause.strip()
    ]
    return [
        DraftFactor(
            kind="technical",
            description=f"{_one_line(finding.root_cause)} "
            f"({_from(finding)}: {CONFIRM_OR_DELETE})",
            drafted_from=finding.analyzer,
        )
        for finding in rest
    ]


def trigger(facts: IncidentFacts) -> str:
    lines = [
        f"- {_time(e.occurred_at)}: {_one_line(e.text)}"
        for e in sorted(facts.timeline, key=lambda e: e.occurred_at)
        if e.kind == "change"
    ]
    changes = [
        (finding, evidence)
        for finding in facts.findings
        if finding.verdict in ("confirmed", "partial")
        for evidence in finding.evidence
        if evidence.kind in ("deploy", "config_change")
    ]
    for finding, evidence in changes:
        title, excerpt = _one_line(evidence.title), _one_line(evidence.excerpt)
        if title and excerpt and title not in excerpt:
            text = f"{title}: {excerpt}"
        else:
            text = excerpt or title
        link = f" ([change]({evidence.url}))" if evidence.url else ""
        lines.append(f"- {text}{link}, {_from(finding)}")
    if not lines:
        return ""
    return "Changes recorded around the incident:\n\n" + "\n".join(lines)


def resolution(facts: IncidentFacts) -> str:
    steps = [
        e
        for e in sorted(facts.timeline, key=lambda e: e.occurred_at)
        if e.kind in ("mitigation", "recovery")
    ]
    if not steps:
        return ""
    lines = ["Steps from the timeline:", ""]
    for entry in steps:
        who = f" ({entry.author})" if entry.author else ""
        lines.append(f"- {_time(entry.occurred_at)}: {_one_line(entry.text)}{who}")
    return "\n".join(lines)


def hypotheses(facts: IncidentFacts) -> list[DraftHypothesis]:
    refuted = [f for f in facts.findings if f.verdict == "refuted"]
    return [
        DraftHypothesis(
            text=_one_line(finding.root_cause or finding.title),
            test=f"Refuted by {finding.verdict_by} on review."
            if finding.verdict_by
            else "Refuted on review.",
            drafted_from=finding.analyzer,
        )
        for finding in refuted
    ]


def prior_work(facts: IncidentFacts) -> str:
    if not facts.prior_work:
        return ""
    lines = [
        "Prior work: open action items of past incidents that looked like this.",
        "",
    ]
    for work in facts.prior_work:
        owner = f", owner {work.owner}" if work.owner else ""
        due = f", due {work.due_date.isoformat()}" if work.due_date else ""
        lines.append(
            f"- {work.incident_reference} ({_one_line(work.incident_title)}): "
            f"{work.category_label.lower()} item “{_one_line(work.item_title)}” "
            f"is {work.status_label.lower()}{owner}{due}."
        )
    return "\n".join(lines)


SECTION_RULES = {
    "summary": summary,
    "impact": impact,
    "detection": detection,
    "root_cause": root_cause,
    "trigger": trigger,
    "resolution": resolution,
}


def draft_postmortem(facts: IncidentFacts, section_keys: Sequence[str]) -> Draft:
    """The drafted text for each of ``section_keys`` a rule has something for."""
    draft = Draft()
    for key in section_keys:
        rule = SECTION_RULES.get(key)
        text = rule(facts) if rule else ""
        if text:
            draft.sections[key] = text
    prior = prior_work(facts)
    if prior:
        target = next((k for k in PRIOR_WORK_SECTIONS if k in section_keys), None)
        if target is None and section_keys:
            target = section_keys[-1]
        if target is not None:
            existing = draft.sections.get(target, "")
            draft.sections[target] = f"{existing}\n\n{prior}".strip()
    draft.factors = factors(facts)
    draft.hypotheses = hypotheses(facts)
    return draft
