"""A Markdown ``## Action Items``: a checklist or a table."""

import re

from postmortems.importer.records import TITLE_MAX, ActionRecord, _Problems
from postmortems.importer.sections import _Block, _normalise_heading

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


CHECKBOX_RE = re.compile(r"^\s*[-*+]\s+(?:\[(?P<mark>[ xX])\]\s*)?(?P<text>.*\S)")


def _category_for(text: str) -> str:
    lowered = text.lower()
    for needle, category in ACTION_CATEGORIES:
        if needle in lowered:
            return category
    return DEFAULT_ACTION_CATEGORY


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
