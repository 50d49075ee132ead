"""Readable differences between two versions of a postmortem. Pure: no ORM.

A version is flattened into labelled text fields (one per template section, the
five whys, the impact); each field is compared word by word with difflib so a
reader sees exactly which words were added or removed.
"""

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True)
class DocumentField:
    key: str
    label: str
    text: str


@dataclass
class FieldDiff:
    key: str
    label: str
    old: str
    new: str
    # ("equal" | "add" | "del", text) runs, in reading order.
    ops: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.old != self.new


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Word-level runs turning ``old`` into ``new``; adjacent runs are merged."""
    a = _TOKEN.findall(old or "")
    b = _TOKEN.findall(new or "")
    runs: list[tuple[str, str]] = []

    def emit(kind: str, tokens: Sequence[str]) -> None:
        text = "".join(tokens)
        if not text:
            return
        if runs and runs[-1][0] == kind:
            runs[-1] = (kind, runs[-1][1] + text)
        else:
            runs.append((kind, text))

    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            emit("equal", a[i1:i2])
        else:
            emit("del", a[i1:i2])
            emit("add", b[j1:j2])
    return runs


def document_fields(
    *,
    template_sections: Iterable[dict],
    sections: dict | None,
    five_whys: Iterable[str] | None,
    impact: dict | None,
    list_parts: dict | None = None,
) -> list[DocumentField]:
    """A postmortem version as labelled text fields, in the template's order.

    ``list_parts`` holds the contributing factors and investigation log as lines;
    None (a version from before they were recorded) leaves those fields out.
    """
    sections = sections or {}
    fields = []
    seen = set()
    for section in template_sections:
        key = section["key"]
        seen.add(key)
        fields.append(DocumentField(key, section["title"], sections.get(key) or ""))
    # Text kept under a key the template no longer has is still shown.
    for key in sorted(set(sections) - seen):
        fields.append(
            DocumentField(key, key.replace("_", " ").capitalize(), sections[key] or "")
        )
    whys = "\n".join(
        f"{number}. {why}" for number, why in enumerate(five_whys or [], start=1)
    )
    fields.append(DocumentField("five_whys", "Five whys", whys))
    impact = impact or {}
    impact_lines = [
        f"{label}: {value}"
        for label, value in (
            ("Users affected", impact.get("users_affected")),
            ("Revenue estimate (USD)", impact.get("revenue_usd")),
            ("Error budget consumed (%)", impact.get("error_budget_pct")),
            ("Regions", ", ".join(impact.get("regions") or [])),
        )
        if value not in (None, "")
    ]
    fields.append(
        DocumentField("impact_facts", "Impact figures", "\n".join(impact_lines))
    )
    if list_parts is not None:
        for key, label in LIST_PARTS:
            fields.append(
                DocumentField(key, label, "\n".join(list_parts.get(key) or []))
            )
    return fields


LIST_PARTS = (("factors", "Contributing factors"), ("hypotheses", "Investigation log"))


def document_diff(
    old: Iterable[DocumentField], new: Iterable[DocumentField]
) -> list[FieldDiff]:
    """Field-by-field word diffs; fields only one side has compare with empty."""
    old_by_key = {f.key: f for f in old}
    new_list = list(new)
    # A part one version did not record is unknown there, not empty: leave it out
    # rather than show all of it as added or removed.
    recorded = {f.key for f in new_list} & set(old_by_key)
    unrecorded = {key for key, _label in LIST_PARTS} - recorded
    old_by_key = {k: f for k, f in old_by_key.items() if k not in unrecorded}
    new_list = [f for f in new_list if f.key not in unrecorded]
    keys = [f.key for f in new_list] + [
        k for k in old_by_key if k not in {f.key for f in new_list}
    ]
    new_by_key = {f.key: f for f in new_list}
    diffs = []
    for key in keys:
        before = old_by_key.get(key)
        after = new_by_key.get(key)
        label = (after or before).label
        old_text = before.text if before else ""
        new_text = after.text if after else ""
        diffs.append(
            FieldDiff(
                key=key,
                label=label,
                old=old_text,
                new=new_text,
                ops=word_diff(old_text, new_text),
            )
        )
    return diffs
