"""One postmortem from a Markdown file in the Google SRE template."""

import re

from kb import safejson
from postmortems.importer.actions import _parse_actions
from postmortems.importer.dates import _TIME, parse_when
from postmortems.importer.front_matter import (
    METADATA_KEYS,
    METADATA_RE,
    _first,
    _read_front_matter,
    _structured,
    _template_for,
)
from postmortems.importer.records import (
    TITLE_MAX,
    ParsedFile,
    PostmortemRecord,
    TimelineRecord,
    _key_for,
    _Problems,
    _severity,
    _split_list,
)
from postmortems.importer.sections import (
    LESSON_HEADINGS,
    LESSONS_HEADINGS,
    NOT_WRITTEN,
    REQUIRED_SECTIONS,
    _Block,
    _block_key,
    _body,
    _headings,
    _normalise_heading,
)
from postmortems.importer.timeline import MAX_TIMELINE_LINES, _marker, _parse_timeline

MARKDOWN_SUFFIXES = (".md", ".markdown")


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
