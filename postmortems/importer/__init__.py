"""Parse postmortems written elsewhere: Markdown in the Google SRE template, JSONL.

Pure: text in, plain records out, no ORM. Every problem names the file and the line
so that the person importing can fix it; a file with any problem is not imported
at all (``postmortems.services.imports`` enforces that).

One module per stage: ``front_matter`` and ``sections`` (headings, via
markdown-it) feed ``markdown``, with ``timeline`` and ``actions`` reading their
sections; ``jsonl`` reads the other format; ``records`` holds what both produce.

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

from pathlib import PurePath

from postmortems.importer.actions import (
    ACTION_CATEGORIES,
    CHECKBOX_RE,
    DEFAULT_ACTION_CATEGORY,
)
from postmortems.importer.dates import (
    parse_when,
)
from postmortems.importer.front_matter import (
    METADATA_KEYS,
    METADATA_RE,
    ROLES,
    STATUSES,
)
from postmortems.importer.jsonl import (
    JSONL_KEYS,
    JSONL_SECTION_KEYS,
    JSONL_SUFFIXES,
    MAX_ENTRIES_PER_FILE,
    parse_jsonl,
)
from postmortems.importer.markdown import (
    MARKDOWN_SUFFIXES,
    parse_markdown,
)
from postmortems.importer.records import (
    SEVERITIES,
    TITLE_MAX,
    ActionRecord,
    ImportProblem,
    ParsedFile,
    PostmortemRecord,
    TimelineRecord,
)
from postmortems.importer.sections import (
    ACTION_HEADINGS,
    EXPORT_HEADINGS,
    LESSON_HEADINGS,
    LESSONS_HEADINGS,
    NOT_WRITTEN,
    REQUIRED_SECTIONS,
    SECTION_HEADINGS,
    TIMELINE_HEADINGS,
)
from postmortems.importer.timeline import (
    BULLET_RE,
    MAX_TIMELINE_LINES,
    TIMELINE_DATETIME_RE,
    TIMELINE_DAY_RE,
    TIMELINE_KINDS,
    TIMELINE_TIME_RE,
)

__all__ = [
    "ACTION_CATEGORIES",
    "ACTION_HEADINGS",
    "ActionRecord",
    "BULLET_RE",
    "CHECKBOX_RE",
    "DEFAULT_ACTION_CATEGORY",
    "EXPORT_HEADINGS",
    "ImportProblem",
    "JSONL_KEYS",
    "JSONL_SECTION_KEYS",
    "JSONL_SUFFIXES",
    "LESSONS_HEADINGS",
    "LESSON_HEADINGS",
    "MARKDOWN_SUFFIXES",
    "MAX_ENTRIES_PER_FILE",
    "MAX_TIMELINE_LINES",
    "METADATA_KEYS",
    "METADATA_RE",
    "NOT_WRITTEN",
    "ParsedFile",
    "PostmortemRecord",
    "REQUIRED_SECTIONS",
    "ROLES",
    "SECTION_HEADINGS",
    "SEVERITIES",
    "STATUSES",
    "TIMELINE_DATETIME_RE",
    "TIMELINE_DAY_RE",
    "TIMELINE_HEADINGS",
    "TIMELINE_KINDS",
    "TIMELINE_TIME_RE",
    "TITLE_MAX",
    "TimelineRecord",
    "parse_file",
    "parse_jsonl",
    "parse_markdown",
    "parse_when",
]


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
