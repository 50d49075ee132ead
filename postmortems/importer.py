"""Parse postmortems written elsewhere: Markdown in the Google SRE template, JSONL.

Pure: text in, plain records out, no ORM. Every problem names the file and the line
so that the person importing can fix it; a file with any problem is not imported
at all (``postmortems.services.imports`` enforces that).

Markdown (one postmortem per file)::

    ---                                   optional front matter, ``key: value``
    title: Checkout outage                (or a ``# Title`` line)
    date: 2025-10-21 14:51                (or a ``Date: ...`` line before ``##``)
    severity: SEV1
    team: payments
    services: checkout, payments-api
    ---
    ## Summary / ## Impact / ## Root Causes / ## Trigger / ## Resolution /
    ## Detection / ## Action Items / ## Lessons Learned (### What went well,
    ### What went wrong, ### Where we got lucky) / ## Timeline /
    ## Supporting information

Summary, Impact and Root Causes are required. Timeline lines are
``- 2025-10-21 14:51 text`` or ``- 14:51 text`` under a date line such as
``2025-10-21 (all times UTC)``; times without an offset are UTC. The SRE book's
markers ``OUTAGE BEGINS``, ``OUTAGE MITIGATED`` and ``OUTAGE ENDS`` set the
incident's start, mitigation and resolution times.

JSONL (one postmortem per line)::

    {"title": str, "date": ISO date or date-time, "text": Markdown summary,
     optional "severity", "team", "services" (list or comma-separated),
     "root_cause", "trigger", "impact", "resolution", "detection", "id",
     "resolved_at", "action_items" (list of str)}
"""

import datetime as dt
import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import PurePath

import yaml
from markdown_it import MarkdownIt

from kb import safejson
from postmortems.choices import PostmortemStatus, Severity

SEVERITIES = tuple(Severity.values)
REQUIRED_SECTIONS = {
    "summary": "## Summary",
    "impact": "## Impact",
    "root_cause": "## Root Causes",
}
MARKDOWN_SUFFIXES = (".md", ".markdown")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
TITLE_MAX = 200
# What one file may hold (the command takes KB_IMPORT_MAX_* settings instead).
MAX_ENTRIES_PER_FILE = 1000
MAX_TIMELINE_LINES = 2000

# Google SRE headings (normalised) -> section keys of the google-sre template.
SECTION_HEADINGS = {
    "summary": "summary",
    "impact": "impact",
    "root cause": "root_cause",
    "root causes": "root_cause",
    "trigger": "trigger",
    "resolution": "resolution",
    "detection": "detection",
    "supporting information": "supporting_info",
    "supporting info": "supporting_info",
}
LESSON_HEADINGS = {
    "what went well": "went_well",
    "what went wrong": "went_wrong",
    "where we got lucky": "got_lucky",
}
ACTION_HEADINGS = {"action items", "action item"}
TIMELINE_HEADINGS = {"timeline"}
LESSONS_HEADINGS = {"lessons learned", "lessons learnt"}
# What postmortems.export writes after the sections, as Markdown for people; the
# front matter holds the same as data, which is what is imported.
EXPORT_HEADINGS = {
    "five whys": "five_whys",
    "contributing factors": "contributing_factors",
    "investigation log": "hypotheses",
}
NOT_WRITTEN = "_Not written._"
STATUSES = tuple(PostmortemStatus.values)
ROLES = ("commander", "comms_lead", "ops_lead", "scribe")

METADATA_KEYS = {
    "title",
    "date",
    "severity",
    "team",
    "services",
    "status",
    "authors",
    "started",
    "started_at",
    "detected",
    "detected_at",
    "mitigated",
    "mitigated_at",
    "resolved",
    "resolved_at",
    "id",
}
JSONL_KEYS = {
    "id",
    "title",
    "date",
    "text",
    "severity",
    "team",
    "services",
    "root_cause",
    "trigger",
    "impact",
    "resolution",
    "detection",
    "resolved_at",
    "action_items",
}
JSONL_SECTION_KEYS = ("root_cause", "trigger", "impact", "resolution", "detection")

# What an action item's "Type" column says -> action item category.
ACTION_CATEGORIES = (
    ("prevent", "prevention"),
    ("mitigat", "mitigation"),
    ("detect", "detection"),
    ("monitor", "detection"),
    ("alert", "detection"),
    ("process", "process"),
    ("doc", "documentation"),
    ("train", "documentation"),
)
DEFAULT_ACTION_CATEGORY = "prevention"

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

_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME = r"\d{1,2}:\d{2}(?::\d{2})?"
_ZONE = r"(?:\s*(?:UTC|GMT|Z)|\s*[+-]\d{2}:?\d{2})?"
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
METADATA_RE = re.compile(
    r"^\s*(?:[-*]\s+)?\**(?P<key>[A-Za-z][A-Za-z _-]{0,30}?)\**\s*:\s*\**\s*"
    r"(?P<value>.*?)\s*$"
)
CHECKBOX_RE = re.compile(r"^\s*[-*+]\s+(?:\[(?P<mark>[ xX])\]\s*)?(?P<text>.*\S)")


@dataclass(frozen=True)
class ImportProblem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class TimelineRecord:
    occurred_at: dt.datetime
    kind: str
    text: str
    line: int
    author: str = ""


@dataclass
class ActionRecord:
    title: str
    category: str
    owner: str
    done: bool
    line: int
    # From an exported file's front matter (empty: the importer's defaults).
    status: str = ""
    priority: str = ""
    description: str = ""
    team: str = ""
    due_date: dt.date | None = None


@dataclass
class PostmortemRecord:
    """One postmortem as read from a file, before it meets the database."""

    path: str
    line: int
    key: str
    title: str
    started_at: dt.datetime
    severity: str = ""
    team: str = ""
    services: list[str] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)
    detected_at: dt.datetime | None = None
    mitigated_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    timeline: list[TimelineRecord] = field(default_factory=list)
    action_items: list[ActionRecord] = field(default_factory=list)
    # The rest of an exported file's front matter (postmortems.export); empty or
    # None when the file does not give it.
    template: str = ""
    status: str = ""
    author: str = ""
    reviewers: list[str] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)
    acknowledged_at: dt.datetime | None = None
    published_at: dt.datetime | None = None
    failure_class: str = ""
    near_miss: bool = False
    impact: dict = field(default_factory=dict)
    five_whys: list[str] = field(default_factory=list)
    contributing_factors: list[dict] = field(default_factory=list)
    hypotheses: list[dict] = field(default_factory=list)


@dataclass
class ParsedFile:
    path: str
    records: list[PostmortemRecord] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Problems:
    """Collects the problems and warnings of one file."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[ImportProblem] = []
        self.warnings: list[ImportProblem] = []

    def error(self, line: int, message: str) -> None:
        self.problems.append(ImportProblem(self.path, line, message))

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(ImportProblem(self.path, line, message))


def parse_file(
    path: str,
    text: str,
    *,
    max_entries: int = MAX_ENTRIES_PER_FILE,
    max_timeline_lines: int = MAX_TIMELINE_LINES,
    templates: list[dict] | None = None,
) -> ParsedFile:
    """Parse one file by its suffix (``.md``/``.markdown`` or ``.jsonl``).

    ``templates`` are the known postmortem templates as plain data
    (``{"slug", "name", "sections": [(key, title), ...]}``): a Markdown file's
    headings are read as the sections of the template it names.
    """
    suffix = PurePath(path).suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        return parse_markdown(
            text,
            path=path,
            max_timeline_lines=max_timeline_lines,
            templates=templates,
        )
    if suffix in JSONL_SUFFIXES:
        return parse_jsonl(text, path=path, max_entries=max_entries)
    parsed = ParsedFile(path=path)
    parsed.problems.append(
        ImportProblem(path, 1, "unknown file type: use .md/.markdown or .jsonl")
    )
    return parsed


# --- Dates -------------------------------------------------------------------------


def parse_when(value: str) -> dt.datetime | None:
    """A date or date-time; without an offset it is UTC. None if unreadable."""
    value = value.strip().strip("*").strip()
    if not value:
        return None
    value = re.sub(r"\s*\((?:all times )?UTC\)\s*$", "", value, flags=re.IGNORECASE)
    value = re.sub(r"\s*(?:UTC|GMT)$", "Z", value)
    candidate = value.replace(" ", "T", 1) if re.match(_DATE + " ", value) else value
    try:
        if re.fullmatch(_DATE, candidate):
            parsed = dt.datetime.combine(dt.date.fromisoformat(candidate), dt.time())
        else:
            parsed = dt.datetime.fromisoformat(candidate.replace("TZ", "T"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _combine(day: dt.date, time_text: str, zone: str) -> dt.datetime:
    parts = [int(part) for part in time_text.split(":")]
    hour, minute, second = (parts + [0])[:3]
    moment = dt.datetime.combine(day, dt.time(hour, minute, second))
    zone = zone.strip().replace(":", "")
    if zone in ("", "UTC", "GMT", "Z"):
        return moment.replace(tzinfo=dt.UTC)
    sign = 1 if zone[0] == "+" else -1
    offset = dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
    return moment.replace(tzinfo=dt.timezone(sign * offset)).astimezone(dt.UTC)


def _key_for(title: str, started_at: dt.datetime, given: str = "") -> str:
    # A stable identity, so importing the same file twice skips what is there.
    if given:
        return given.strip()[:400]
    digest = hashlib.sha256(f"{title.strip()}|{started_at.isoformat()}".encode())
    return digest.hexdigest()[:24]


def _severity(value: str, line: int, problems: _Problems) -> str:
    if not value:
        return ""
    normalised = value.strip().upper().replace(" ", "")
    if normalised in ("0", "1", "2", "3"):
        normalised = f"SEV{normalised}"
    if normalised not in SEVERITIES:
        problems.error(
            line, f"unknown severity {value!r}: use SEV0, SEV1, SEV2 or SEV3"
        )
        return ""
    return normalised


def _split_list(value) -> list[str]:
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    return [item.strip() for item in str(value).split(",") if item.strip()]


def _kind_for(text: str) -> str:
    lowered = text.lower()
    for needle, kind in TIMELINE_KINDS:
        if needle in lowered:
            return kind
    return "other"


def _category_for(text: str) -> str:
    lowered = text.lower()
    for needle, category in ACTION_CATEGORIES:
        if needle in lowered:
            return category
    return DEFAULT_ACTION_CATEGORY


# --- Markdown ----------------------------------------------------------------------


def _normalise_heading(text: str) -> str:
    text = re.sub(r"[*_`:#]", "", text).strip().lower()
    return re.sub(r"\s+", " ", text)


@dataclass
class _Block:
    heading: str
    key: str
    line: int
    lines: list[tuple[int, str]] = field(default_factory=list)


def _unstorable_lines(lines: list[str], problems: _Problems) -> None:
    # What could not be stored must not reach the database: a NUL fails on
    # PostgreSQL, and a lone surrogate breaks every page that shows the text.
    for number, raw in enumerate(lines, start=1):
        problem = safejson.text_problem(raw)
        if problem:
            problems.error(number, f"the line {problem}")


def parse_markdown(
    text: str,
    *,
    path: str,
    max_timeline_lines: int = MAX_TIMELINE_LINES,
    templates: list[dict] | None = None,
) -> ParsedFile:
    """One postmortem from a Markdown file with the Google SRE template's headings."""
    problems = _Problems(path)
    lines = text.splitlines()
    _unstorable_lines(lines, problems)
    metadata: dict[str, tuple[int, object]] = {}
    index = _read_front_matter(lines, metadata, problems)
    structured = _structured(metadata, problems)

    template = _template_for(metadata, templates, problems)
    titles = {
        _normalise_heading(title): key for key, title in template.get("sections", ())
    }
    # Headings come from markdown-it's tokens, so a "## " line inside a code block
    # or a quoted example is text, not a section.
    headings = _headings(lines, index)
    title = ""
    title_line = 1
    blocks: list[_Block] = []
    lessons_open = False
    skip_until = 0
    for number, raw in enumerate(lines[index:], start=index + 1):
        if number < skip_until:
            continue
        heading_at = headings.get(number)
        if heading_at is not None:
            level, text, end = heading_at
            if level == 1 and not blocks and not title:
                title, title_line, skip_until = text, number, end
                continue
            if level == 2:
                heading = _normalise_heading(text)
                lessons_open = heading in LESSONS_HEADINGS
                blocks.append(_Block(text, _block_key(heading, titles), number))
                skip_until = end
                continue
            if level == 3 and lessons_open:
                heading = _normalise_heading(text)
                if heading in LESSON_HEADINGS:
                    blocks.append(_Block(text, LESSON_HEADINGS[heading], number))
                    skip_until = end
                    continue
        if not blocks:
            match = METADATA_RE.match(raw)
            if match:
                key = match["key"].strip().lower().replace(" ", "_")
                if key in METADATA_KEYS and key not in metadata:
                    metadata[key] = (number, match["value"])
            continue
        blocks[-1].lines.append((number, raw))

    if "title" in metadata:
        title_line, title = metadata["title"]
    title = title.strip()
    if not title:
        problems.error(1, "no title: add `title:` front matter or a `# Title` line")
    elif len(title) > TITLE_MAX:
        problems.error(title_line, f"title is longer than {TITLE_MAX} characters")

    sections: dict[str, str] = {}
    seen: dict[str, int] = {}
    timeline_block = actions_block = None
    extra: list[str] = []
    for block in blocks:
        if block.key in seen:
            problems.error(
                block.line,
                f"section “{block.heading}” appears twice "
                f"(first at line {seen[block.key]})",
            )
            continue
        seen[block.key] = block.line
        body = _body(block.lines)
        if body == NOT_WRITTEN:
            body = ""
        if block.key in ("timeline", "action_items") and block.key in structured:
            continue  # the front matter holds it, as data
        if block.key.startswith("export:"):
            if block.key.removeprefix("export:") in structured:
                continue
            block.key = f"unknown:{block.heading}"
        if block.key == "timeline":
            timeline_block = block
        elif block.key == "action_items":
            actions_block = block
        elif block.key == "lessons":
            if body:
                extra.append(f"### Lessons learned\n\n{body}")
        elif block.key.startswith("unknown:"):
            problems.warn(
                block.line,
                f"“## {block.heading}” is not a Google SRE heading; kept under "
                "Supporting information",
            )
            if body:
                extra.append(f"### {block.heading}\n\n{body}")
        elif body:
            sections[block.key] = body
    if extra:
        sections["supporting_info"] = "\n\n".join(
            part for part in [sections.get("supporting_info", ""), *extra] if part
        )

    missing = [heading for key, heading in REQUIRED_SECTIONS.items() if key not in seen]
    if missing:
        problems.error(
            title_line,
            "missing required section(s): " + ", ".join(missing),
        )
    for key, heading in REQUIRED_SECTIONS.items():
        if key in seen and key not in sections:
            problems.error(seen[key], f"{heading} is empty")

    date_line, date_text = metadata.get("date", (title_line, ""))
    started_line, started_text = _first(metadata, "started_at", "started")
    day = parse_when(date_text) if date_text else None
    if date_text and day is None:
        problems.error(
            date_line, f"cannot read the date {date_text!r} (use 2025-10-21)"
        )

    timeline = []
    if timeline_block is not None:
        start_day = day.date() if day else None
        timeline = _parse_timeline(
            timeline_block, start_day, problems, max_lines=max_timeline_lines
        )

    started_at = None
    if started_text:
        started_at = parse_when(started_text)
        if started_at is None:
            problems.error(started_line, f"cannot read the start time {started_text!r}")
    markers: dict[str, TimelineRecord] = {}
    for entry in timeline:
        marker = _marker(entry)
        if marker:
            markers.setdefault(marker, entry)
    if started_at is None and "begins" in markers:
        started_at = markers["begins"].occurred_at
    if started_at is None and day is not None:
        has_time = bool(re.search(_TIME, date_text))
        if not has_time and timeline:
            started_at = timeline[0].occurred_at
        else:
            started_at = day
    if started_at is None and timeline:
        started_at = timeline[0].occurred_at
    if started_at is None and not date_text:
        problems.error(
            title_line, "no date: add `date: 2025-10-21` to the front matter"
        )

    times = {}
    for name, marker in (
        ("detected_at", None),
        ("mitigated_at", "mitigated"),
        ("resolved_at", "ends"),
    ):
        line, value = _first(metadata, name, name.removesuffix("_at"))
        if value:
            when = parse_when(value)
            if when is None:
                problems.error(
                    line, f"cannot read {name.removesuffix('_at')} {value!r}"
                )
            times[name] = when
        elif marker and marker in markers:
            times[name] = markers[marker].occurred_at

    if "timeline" in structured:
        timeline = structured.pop("timeline")
    severity_line, severity_text = metadata.get("severity", (1, ""))
    severity = _severity(severity_text, severity_line, problems)
    actions = _parse_actions(actions_block, problems) if actions_block else []
    if "action_items" in structured:
        actions = structured.pop("action_items")
    if template.get("slug"):
        structured["template"] = template["slug"]

    parsed = ParsedFile(
        path=path, problems=problems.problems, warnings=problems.warnings
    )
    if problems.problems or started_at is None:
        return parsed
    parsed.records.append(
        PostmortemRecord(
            path=path,
            line=title_line,
            key=_key_for(title, started_at, metadata.get("id", (0, ""))[1]),
            title=title,
            started_at=started_at,
            severity=severity,
            team=metadata.get("team", (0, ""))[1].strip(),
            services=_split_list(metadata.get("services", (0, ""))[1]),
            sections=sections,
            timeline=timeline,
            action_items=actions,
            **times,
            **structured,
        )
    )
    return parsed


def _first(metadata: dict, *names: str) -> tuple[int, str]:
    for name in names:
        if name in metadata:
            return metadata[name]
    return (1, "")


def _marker(entry: TimelineRecord) -> str:
    upper = entry.text.upper()
    for marker in ("BEGINS", "MITIGATED", "ENDS"):
        if f"OUTAGE {marker}" in upper:
            return marker.lower()
    return ""


def _read_front_matter(lines: list[str], metadata: dict, problems: _Problems) -> int:
    """Read ``---`` YAML front matter into ``metadata`` (key -> (line, value));
    return the index of the line after it."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or lines[first].strip() != "---":
        return 0
    end = next(
        (i for i in range(first + 1, len(lines)) if lines[i].strip() == "---"), None
    )
    if end is None:
        problems.error(first + 1, "front matter is not closed by a `---` line")
        return len(lines)
    try:
        data = yaml.safe_load("\n".join(lines[first + 1 : end]))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first + 2 + mark.line if mark is not None else first + 1
        problem = getattr(exc, "problem", None) or "not YAML"
        problems.error(line, f"the front matter is not valid YAML: {problem}")
        return end + 1
    if data is None:
        return end + 1
    if not isinstance(data, dict):
        problems.error(first + 2, "the front matter must be `key: value` lines")
        return end + 1
    key_lines = {}
    for number in range(first + 1, end):
        match = re.match(r"([A-Za-z_][\w -]*?)\s*:", lines[number])
        if match:
            key_lines.setdefault(match[1].strip().lower(), number + 1)
    for key, value in data.items():
        name = str(key).strip().lower()
        metadata[name] = (key_lines.get(name, first + 1), _yaml_value(value))
    return end + 1


def _yaml_value(value):
    """Scalars as text (dates as ISO 8601), lists and mappings as they are."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return value
    return str(value).strip()


def _template_for(
    metadata: dict, templates: list[dict] | None, problems: _Problems
) -> dict:
    """The template the file names (by slug or name), or the Google SRE one."""
    known = templates or []
    line, wanted = metadata.get("template", (1, ""))
    if wanted and isinstance(wanted, str):
        for template in known:
            if wanted.lower() in (template["slug"].lower(), template["name"].lower()):
                return template
        if known:
            names = ", ".join(t["slug"] for t in known)
            problems.error(line, f"unknown template {wanted!r} (templates: {names})")
        return {}
    return next((t for t in known if t["slug"] == "google-sre"), {})


def _structured(metadata: dict, problems: _Problems) -> dict:
    """What an exported file's front matter holds beyond the basics, checked, as
    PostmortemRecord fields (only those the file gives)."""
    out: dict = {}

    def text(name: str) -> str:
        line, value = metadata[name]
        if not isinstance(value, str):
            problems.error(line, f"“{name}” must be text")
            return ""
        return value

    def text_list(name: str) -> list[str]:
        line, value = metadata[name]
        if not isinstance(value, list) or not all(
            isinstance(item, str) for item in value
        ):
            problems.error(line, f"“{name}” must be a list of text")
            return []
        return value

    def rows(name: str) -> list[dict]:
        line, value = metadata[name]
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            problems.error(line, f"“{name}” must be a list of mappings")
            return []
        return value

    def when(name: str, value, line: int) -> dt.datetime | None:
        if value in (None, ""):
            return None
        parsed = parse_when(str(value))
        if parsed is None:
            problems.error(line, f"cannot read {name} {value!r}")
        return parsed

    if "status" in metadata:
        status = text("status")
        if status and status not in STATUSES:
            problems.error(
                metadata["status"][0],
                f"unknown status {status!r}: use " + ", ".join(STATUSES),
            )
        elif status:
            out["status"] = status
    for name, key in (("author", "author"), ("root_cause_class", "failure_class")):
        if name in metadata and text(name):
            out[key] = text(name)
    if "near_miss" in metadata:
        # YAML scalars arrive as text: true/false (or yes/no), nothing else.
        line, value = metadata["near_miss"]
        flag = str(value).strip().lower()
        if flag in ("true", "yes", "false", "no", ""):
            out["near_miss"] = flag in ("true", "yes")
        else:
            problems.error(line, f"“near_miss” must be true or false, not {value!r}")
    if "reviewers" in metadata and metadata["reviewers"][1] != "":
        out["reviewers"] = text_list("reviewers")
    if "roles" in metadata and metadata["roles"][1] != "":
        line, roles = metadata["roles"]
        if not isinstance(roles, dict) or set(roles) - set(ROLES):
            problems.error(line, "“roles” must map " + ", ".join(ROLES) + " to people")
        else:
            out["roles"] = {k: str(v) for k, v in roles.items() if v}
    for name in ("acknowledged", "published"):
        line, value = _first(metadata, f"{name}_at", name)
        if value:
            out[f"{name}_at"] = when(name, value, line)
    if "impact" in metadata and metadata["impact"][1] != "":
        out["impact"] = _impact(metadata["impact"], problems)
    if "five_whys" in metadata:
        out["five_whys"] = text_list("five_whys")
    if "contributing_factors" in metadata:
        out["contributing_factors"] = [
            {
                "kind": str(row.get("kind") or ""),
                "description": str(row.get("description") or ""),
            }
            for row in rows("contributing_factors")
        ]
    if "hypotheses" in metadata:
        line = metadata["hypotheses"][0]
        out["hypotheses"] = [
            {
                "track": str(row.get("track") or ""),
                "status": str(row.get("status") or ""),
                "text": str(row.get("text") or ""),
                "test": str(row.get("test") or ""),
                "settled_by": str(row.get("settled_by") or ""),
                "settled_at": when("settled_at", row.get("settled_at"), line),
            }
            for row in rows("hypotheses")
        ]
    if "timeline" in metadata and isinstance(metadata["timeline"][1], list):
        line = metadata["timeline"][0]
        entries = []
        for row in rows("timeline"):
            at = when("a timeline time", row.get("at"), line)
            if at is not None:
                entry_text = str(row.get("text") or "")
                entries.append(
                    TimelineRecord(
                        occurred_at=at,
                        kind=str(row.get("kind") or _kind_for(entry_text)),
                        text=entry_text,
                        line=line,
                        author=str(row.get("author") or ""),
                    )
                )
        out["timeline"] = entries
    if "action_items" in metadata and isinstance(metadata["action_items"][1], list):
        line = metadata["action_items"][0]
        items = []
        for row in rows("action_items"):
            title = str(row.get("title") or "").strip()
            if not title:
                problems.error(line, "an action item has no title")
                continue
            due = row.get("due_date")
            due_day = None
            if due not in (None, ""):
                due_when = when("due_date", due, line)
                due_day = due_when.date() if due_when else None
            status = str(row.get("status") or "")
            items.append(
                ActionRecord(
                    title=title[:TITLE_MAX],
                    category=str(row.get("category") or _category_for(title)),
                    owner=str(row.get("owner") or ""),
                    done=status == "done",
                    line=line,
                    status=status,
                    priority=str(row.get("priority") or ""),
                    description=str(row.get("description") or ""),
                    team=str(row.get("team") or ""),
                    due_date=due_day,
                )
            )
        out["action_items"] = items
    return out


def _impact(entry: tuple[int, object], problems: _Problems) -> dict:
    line, value = entry
    if not isinstance(value, dict):
        problems.error(line, "“impact” must be a mapping")
        return {}
    impact = {}
    for name in ("users_affected", "revenue_usd", "error_budget_pct"):
        number = value.get(name)
        if number is None:
            impact[name] = None
        elif isinstance(number, int | float) and not isinstance(number, bool):
            impact[name] = number
        else:
            problems.error(line, f"impact “{name}” must be a number")
    regions = value.get("regions") or []
    if not isinstance(regions, list):
        problems.error(line, "impact “regions” must be a list")
        regions = []
    impact["regions"] = [str(region) for region in regions]
    return impact


def _headings(lines: list[str], index: int) -> dict[int, tuple[int, str, int]]:
    """Line number of each ATX or setext heading after ``index`` -> (level, text,
    first line after it), from markdown-it's block tokens."""
    tokens = _markdown().parse("\n".join(lines[index:]))
    found = {}
    for token, inline in zip(tokens, tokens[1:], strict=False):
        if token.type == "heading_open" and token.map:
            start, end = token.map
            found[start + index + 1] = (
                int(token.tag[1]),
                inline.content.strip(),
                end + index + 1,
            )
    return found


@functools.cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark")


def _block_key(heading: str, titles: dict[str, str] | None = None) -> str:
    if titles and heading in titles:
        return titles[heading]
    if heading in SECTION_HEADINGS:
        return SECTION_HEADINGS[heading]
    if heading in ACTION_HEADINGS:
        return "action_items"
    if heading in TIMELINE_HEADINGS:
        return "timeline"
    if heading in LESSONS_HEADINGS:
        return "lessons"
    if heading in EXPORT_HEADINGS:
        return f"export:{EXPORT_HEADINGS[heading]}"
    return f"unknown:{heading}"


def _body(lines: list[tuple[int, str]]) -> str:
    return "\n".join(raw for _, raw in lines).strip()


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
            try:
                day = dt.date.fromisoformat(match["date"])
            except ValueError:
                problems.error(number, f"not a date: {match['date']!r}")
                continue
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
            try:
                day = dt.date.fromisoformat(match["date"])
            except ValueError:
                problems.error(number, f"not a date: {match['date']!r}")
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


def _parse_actions(block: _Block, problems: _Problems) -> list[ActionRecord]:
    rows = [(number, raw.strip()) for number, raw in block.lines if raw.strip()]
    if rows and rows[0][1].startswith("|"):
        return _parse_action_table(rows, problems)
    actions = []
    for number, raw in rows:
        match = CHECKBOX_RE.match(raw)
        if not match:
            continue
        title = match["text"].strip()
        owner = ""
        owner_match = re.search(r"\((?:owner:\s*)?@?([\w.-]+)\)\s*$", title)
        if owner_match:
            owner = owner_match[1]
            title = title[: owner_match.start()].strip()
        actions.append(
            ActionRecord(
                title=title[:TITLE_MAX],
                category=_category_for(title),
                owner=owner,
                done=(match["mark"] or "").lower() == "x",
                line=number,
            )
        )
    return actions


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _parse_action_table(rows, problems: _Problems) -> list[ActionRecord]:
    header_line, header = rows[0]
    columns = [_normalise_heading(cell) for cell in _cells(header)]
    title_col = next(
        (i for i, name in enumerate(columns) if "action" in name or name == "item"),
        None,
    )
    if title_col is None:
        problems.error(header_line, "the action item table has no “Action Item” column")
        return []
    type_col = next(
        (i for i, n in enumerate(columns) if n in ("type", "category")), None
    )
    owner_col = next((i for i, n in enumerate(columns) if n == "owner"), None)
    status_col = next(
        (i for i, n in enumerate(columns) if n in ("status", "bug")), None
    )
    actions = []
    for number, row in rows[1:]:
        if not row.startswith("|"):
            continue
        cells = _cells(row)
        if all(set(cell) <= set("-: ") for cell in cells):
            continue  # the |---|---| separator
        if len(cells) != len(columns):
            problems.error(
                number,
                f"action item row has {len(cells)} cells, "
                f"the header has {len(columns)}",
            )
            continue
        title = cells[title_col]
        if not title:
            continue
        status = cells[status_col].lower() if status_col is not None else ""
        actions.append(
            ActionRecord(
                title=title[:TITLE_MAX],
                category=_category_for(cells[type_col])
                if type_col is not None
                else _category_for(title),
                owner=cells[owner_col].lstrip("@") if owner_col is not None else "",
                done="done" in status or "fixed" in status,
                line=number,
            )
        )
    return actions


# --- JSONL -------------------------------------------------------------------------


def parse_jsonl(
    text: str, *, path: str, max_entries: int = MAX_ENTRIES_PER_FILE
) -> ParsedFile:
    """One postmortem per line: ``{"title", "date", "text", ...}``."""
    problems = _Problems(path)
    records = []
    entries = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        entries += 1
        if entries > max_entries:
            problems.error(
                number,
                f"more than {max_entries} postmortems in one file: split the file",
            )
            break
        try:
            data = safejson.loads(raw)
        except safejson.JsonRefused as exc:
            where = f" (column {exc.column})" if exc.column else ""
            problems.error(number, f"{exc}{where}")
            continue
        if not isinstance(data, dict):
            problems.error(number, "each line must be a JSON object {...}")
            continue
        record = _jsonl_record(data, number, path, problems)
        if record is not None:
            records.append(record)
    if not records and not problems.problems:
        problems.error(1, "the file has no postmortems")
    return ParsedFile(
        path=path,
        records=records if not problems.problems else [],
        problems=problems.problems,
        warnings=problems.warnings,
    )


def _text_field(data: dict, name: str, number: int, problems: _Problems) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.error(number, f"“{name}” must be a string")
        return ""
    return value.strip()


def _jsonl_record(data: dict, number: int, path: str, problems: _Problems):
    before = len(problems.problems)
    title = _text_field(data, "title", number, problems)
    text = _text_field(data, "text", number, problems)
    date_value = data.get("date")
    for name, value in (("title", title), ("date", date_value), ("text", text)):
        if not value:
            problems.error(number, f"“{name}” is missing or empty")
    if len(title) > TITLE_MAX:
        problems.error(number, f"“title” is longer than {TITLE_MAX} characters")
    started_at = None
    if date_value:
        started_at = parse_when(str(date_value))
        if started_at is None:
            problems.error(
                number, f"cannot read the date {date_value!r} (use 2025-10-21)"
            )
    resolved_at = None
    if data.get("resolved_at"):
        resolved_at = parse_when(str(data["resolved_at"]))
        if resolved_at is None:
            problems.error(number, f"cannot read resolved_at {data['resolved_at']!r}")
    severity = _severity(str(data.get("severity") or ""), number, problems)
    services = data.get("services") or []
    if not isinstance(services, list | str):
        problems.error(number, "“services” must be a list or a comma-separated string")
        services = []
    items = data.get("action_items") or []
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        problems.error(number, "“action_items” must be a list of strings")
        items = []
    sections = {"summary": text}
    for name in JSONL_SECTION_KEYS:
        value = _text_field(data, name, number, problems)
        if value:
            sections[name] = value
    unknown = sorted(set(data) - JSONL_KEYS)
    if unknown:
        problems.warn(number, "ignored field(s): " + ", ".join(unknown))
    if len(problems.problems) > before or started_at is None:
        return None
    return PostmortemRecord(
        path=path,
        line=number,
        key=_key_for(title, started_at, str(data.get("id") or "")),
        title=title,
        started_at=started_at,
        severity=severity,
        team=str(data.get("team") or "").strip(),
        services=_split_list(services),
        sections=sections,
        resolved_at=resolved_at,
        action_items=[
            ActionRecord(
                item.strip()[:TITLE_MAX], _category_for(item), "", False, number
            )
            for item in items
            if item.strip()
        ],
    )
