"""A Markdown ``## Timeline``: timed lines, their kinds, the SRE outage markers."""

import datetime as dt
import re

from postmortems.importer.dates import _DATE, _TIME, _ZONE, _combine
from postmortems.importer.records import TimelineRecord, _Problems
from postmortems.importer.sections import _Block

# What one timeline may hold (the command takes KB_IMPORT_MAX_* settings instead).
MAX_TIMELINE_LINES = 2000


# Words in a timeline line -> timeline entry kind.
TIMELINE_KINDS = (
    ("outage ends", "recovery"),
    ("outage mitigated", "mitigation"),
    ("alert", "alert"),
    ("pager", "alert"),
    ("detected", "detection"),
    ("noticed", "detection"),
    ("declare", "escalation"),
    ("paged", "escalation"),
    ("page ", "escalation"),
    ("escalat", "escalation"),
    ("roll back", "mitigation"),
    ("rollback", "mitigation"),
    ("rolled back", "mitigation"),
    ("revert", "mitigation"),
    ("mitigat", "mitigation"),
    ("deploy", "change"),
    ("push", "change"),
    ("recover", "recovery"),
    ("resolved", "recovery"),
    ("status page", "communication"),
    ("announce", "communication"),
    ("notified", "communication"),
    ("investigat", "diagnosis"),
    ("diagnos", "diagnosis"),
    ("root cause", "diagnosis"),
)


_BULLET = r"^\s*(?:[-*+]\s+)?"


_SEPARATOR = r"\s*(?:[:|–—-]\s*|\s)"


TIMELINE_DATETIME_RE = re.compile(
    _BULLET
    + rf"\**(?P<date>{_DATE})[T ]\s*(?P<time>{_TIME})(?P<zone>{_ZONE})\**"
    + _SEPARATOR
    + r"(?P<text>.*\S)"
)


TIMELINE_TIME_RE = re.compile(
    _BULLET
    + rf"\**(?P<time>{_TIME})(?P<zone>{_ZONE})\**"
    + _SEPARATOR
    + r"(?P<text>.*\S)"
)


TIMELINE_DAY_RE = re.compile(rf"^\s*(?:#+\s*)?\**(?P<date>{_DATE})\**(?:\s.*)?$")


BULLET_RE = re.compile(r"^\s*[-*+]\s+")


def _kind_for(text: str) -> str:
    lowered = text.lower()
    for needle, kind in TIMELINE_KINDS:
        if needle in lowered:
            return kind
    return "other"


def _marker(entry: TimelineRecord) -> str:
    upper = entry.text.upper()
    for marker in ("BEGINS", "MITIGATED", "ENDS"):
        if f"OUTAGE {marker}" in upper:
            return marker.lower()
    return ""


def _parse_timeline(
    block: _Block, start_day: dt.date | None, problems: _Problems, *, max_lines: int
) -> list[TimelineRecord]:
    entries: list[TimelineRecord] = []
    day = start_day
    written = [(number, raw) for number, raw in block.lines if raw.strip()]
    if len(written) > max_lines:
        problems.error(
            written[max_lines][0],
            f"the timeline has {len(written)} lines; at most {max_lines} are "
            "read per incident: split it or keep the key moments",
        )
        return entries
    for number, raw in block.lines:
        if not raw.strip():
            continue
        match = TIMELINE_DATETIME_RE.match(raw)
        if match:
            parsed = _date(match, number, problems)
            if parsed is not None:
                day = parsed
                _append_entry(entries, day, match, number, problems)
            continue
        match = TIMELINE_TIME_RE.match(raw)
        if match:
            if day is None:
                problems.error(
                    number,
                    "timeline time without a date: put a date line such as "
                    "`2025-10-21 (all times UTC)` above it, or a `date:` in the "
                    "front matter",
                )
                continue
            _append_entry(entries, day, match, number, problems)
            continue
        match = TIMELINE_DAY_RE.match(raw)
        if match:
            # A line that is no date leaves the day before it in force.
            day = _date(match, number, problems) or day
            continue
        if BULLET_RE.match(raw) or not entries:
            problems.error(
                number,
                "timeline line has no time: write `- 14:51 what happened` or "
                "`- 2025-10-21 14:51 what happened`",
            )
            continue
        # A wrapped line continues the entry above it.
        entries[-1].text = f"{entries[-1].text}\n{raw.strip()}"
    entries.sort(key=lambda entry: (entry.occurred_at, entry.line))
    return entries


def _date(match, number: int, problems) -> dt.date | None:
    """The date a timeline line names; None (and a problem) when it is no date."""
    try:
        return dt.date.fromisoformat(match["date"])
    except ValueError:
        problems.error(number, f"not a date: {match['date']!r}")
        return None


def _append_entry(
    entries: list, day: dt.date, match: re.Match, number: int, problems: _Problems
) -> None:
    try:
        occurred_at = _combine(day, match["time"], match["zone"] or "")
    except ValueError as exc:
        problems.error(number, f"not a valid time {match['time']!r}: {exc}")
        return
    text = match["text"].strip()
    entries.append(TimelineRecord(occurred_at, _kind_for(text), text, number))
