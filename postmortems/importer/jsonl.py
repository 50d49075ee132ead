"""Postmortems from a JSONL file, one per line."""

from kb import safejson
from postmortems.importer.actions import _category_for
from postmortems.importer.dates import parse_when
from postmortems.importer.records import (
    TITLE_MAX,
    ActionRecord,
    ParsedFile,
    PostmortemRecord,
    _key_for,
    _Problems,
    _severity,
    _split_list,
)

JSONL_SUFFIXES = (".jsonl", ".ndjson")


# What one file may hold (the command takes KB_IMPORT_MAX_* settings instead).
MAX_ENTRIES_PER_FILE = 1000


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
