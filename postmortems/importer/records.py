"""What a file is read into: records and problems, and the fields both formats
share (identity, severity, lists)."""

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from postmortems.choices import Severity

SEVERITIES = tuple(Severity.values)


TITLE_MAX = 200


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
