"""Front matter: ``---`` YAML or ``Key: value`` lines, the template a file
names, and what an exported file's front matter holds as data."""

import datetime as dt
import re

import yaml

from postmortems.choices import PostmortemStatus
from postmortems.importer.actions import _category_for
from postmortems.importer.dates import parse_when
from postmortems.importer.records import (
    TITLE_MAX,
    ActionRecord,
    TimelineRecord,
    _Problems,
)
from postmortems.importer.timeline import _kind_for

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


METADATA_RE = re.compile(
    r"^\s*(?:[-*]\s+)?\**(?P<key>[A-Za-z][A-Za-z _-]{0,30}?)\**\s*:\s*\**\s*"
    r"(?P<value>.*?)\s*$"
)


STATUSES = tuple(PostmortemStatus.values)


ROLES = ("commander", "comms_lead", "ops_lead", "scribe")


def _first(metadata: dict, *names: str) -> tuple[int, str]:
    for name in names:
        if name in metadata:
            return metadata[name]
    return (1, "")


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
