"""Markdown headings: found with markdown-it, mapped to the template's sections."""

import functools
import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt

REQUIRED_SECTIONS = {
    "summary": "## Summary",
    "impact": "## Impact",
    "root_cause": "## Root Causes",
}


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


def _normalise_heading(text: str) -> str:
    text = re.sub(r"[*_`:#]", "", text).strip().lower()
    return re.sub(r"\s+", " ", text)


@dataclass
class _Block:
    heading: str
    key: str
    line: int
    lines: list[tuple[int, str]] = field(default_factory=list)


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
