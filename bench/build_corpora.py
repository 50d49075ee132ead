"""Rebuild the labelled development corpora from fetched public snapshots.

The quality benchmark (bench/insights_quality_bench.py) reads every
``*.jsonl`` in ``KB_INSIGHTS_CORPORA_DIR``: records ``{"id", "text",
"labels"}``. The corpora are real incident reports with the cause category
their own curators gave them; their text is not ours to redistribute, so they
live outside the repository and this script rebuilds them from a snapshot of
the public repository that holds them (brought onto the machine as a bare git
directory, e.g. by the session tool ``fetch``).

Labels are kept as the curators wrote them (whitespace stripped, upper case):
nothing is mapped to Hindsight's taxonomy. Records the curators left without
a cause (empty or UNKNOWN), with empty text, or repeating another record's
text are dropped, and counted.

Never add ``danluu/post-mortems``, ``icco/postmortems``,
``IntelligentDDS/Post-mortems-Analysis`` or anything derived from them: they
are reserved for independent evaluation.

Usage: ``python bench/build_corpora.py [--mirrors DIR] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import ast
import csv
import html
import io
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_CHARS = 2000
# Where a report's own account of its cause starts, and the sections that
# follow it (how it was mitigated, what happens next, who was affected).
CAUSE_START = re.compile(
    r"(?im)^(?:preliminary |detailed |summary )?"
    r"(?:root cause|what went wrong,? and why)\b[ \t]*[:?]?[ \t]*"
)
DESCRIPTION_START = re.compile(r"(?im)^description:[ \t]*")
SECTION_AFTER_CAUSE = re.compile(
    r"(?im)^(?:mitigation|next steps|how did we respond|remediation and "
    r"prevention|provide feedback|detailed timeline|how are we making|what "
    r"happens next|workaround|additional (?:details|information)|customer "
    r"impact|affected services)\b"
)
CAUSE_HEADING = re.compile(
    r"(?i)(root cause|what went wrong|how did we get here|cause:)"
)


@dataclass(frozen=True)
class Source:
    """A fetched public collection; ``views`` name the corpora built from it,
    each a way of reading one report (title, body) as the text insights reads."""

    repository: str
    commit: str
    licence: str
    about: str
    # (id, title, body, label) per report, from a reader of the snapshot's files
    records: Callable[[Callable[[str], str]], Iterator[tuple[str, str, str, str]]]
    views: dict[str, Callable[[str, str], str]]


def squeeze(text: str) -> str:
    text = text.replace("\r", "")
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def strip_html(text: str) -> str:
    text = re.sub(r"(?is)<(script|style|svg)[^>]*>.*?</\1>", " ", text)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</li>|</div>|</h\d>", "\n", text)
    return html.unescape(re.sub(r"(?s)<[^>]+>", " ", text))


def trim(text: str, limit: int = MAX_CHARS) -> str:
    """At most ``limit`` characters: a long report keeps its opening summary
    and its root-cause section, which is what a postmortem's reader wants."""
    if len(text) <= limit:
        return text
    heading = CAUSE_HEADING.search(text, 200)
    if heading and heading.start() > limit // 3:
        head = text[: limit // 3].rsplit(" ", 1)[0]
        room = limit - len(head) - 5
        tail = text[heading.start() : heading.start() + room].rsplit(" ", 1)[0]
        return f"{head}\n…\n{tail}"
    return text[:limit].rsplit(" ", 1)[0]


def whole_report(title: str, body: str) -> str:
    """The report as filed, title first (trimmed to its summary and cause)."""
    return trim(f"{title}\n\n{body}".strip())


def cause_section(title: str, body: str) -> str:
    """What a postmortem's root-cause section would hold: the report's own
    root-cause section (or its description, in a short report that has
    none), else the whole report."""
    start = CAUSE_START.search(body) or DESCRIPTION_START.search(body)
    if not start:
        return whole_report(title, body)
    rest = body[start.end() :]
    end = SECTION_AFTER_CAUSE.search(rest)
    return trim(squeeze(rest[: end.start()] if end else rest)) or whole_report(
        title, body
    )


def _azure_report(description: str) -> tuple[str, str]:
    """An Azure status-history entry's title and body, without its date and
    tracking-id lines."""
    lines = [line.strip() for line in squeeze(strip_html(description)).split("\n")]
    lines = [
        line
        for line in lines
        if line
        and not re.fullmatch(r"\d{2}/\d{2}/\d{4}", line)
        and not line.startswith("Tracking ID:")
    ]
    return (lines[0], squeeze("\n".join(lines[1:]))) if lines else ("", "")


def _gcp_report(description: str) -> str:
    """The longest of a Google Cloud incident's updates: its incident report
    or final summary. The column holds a Python repr of the update list."""
    literal = re.sub(r",\s*dtype=object\)", ")", re.sub(r"array\(", "(", description))
    try:
        updates = [u for u in ast.literal_eval(literal) if isinstance(u, dict)]
        texts = [u.get("text") or "" for u in updates]
    except (ValueError, SyntaxError):
        texts = [
            ast.literal_eval(quoted)
            for quoted in re.findall(
                r"'text': ('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")", description
            )
        ]
    if not texts:
        return ""
    return squeeze(re.sub(r"\*\*|__|^#+\s*", "", max(texts, key=len), flags=re.M))


def cloud_rca_records(
    show: Callable[[str], str],
) -> Iterator[tuple[str, str, str, str]]:
    for vendor in ("azure", "gcp"):
        rows = csv.DictReader(
            io.StringIO(show(f"data/4_label_data/{vendor}_label.csv"))
        )
        for number, row in enumerate(rows):
            label = row.get("label_root_cause_category") or ""
            if vendor == "azure":
                title, body = _azure_report(row["description"])
                tracking = re.search(
                    r"Tracking ID:?\s*([A-Z0-9_-]+)", row["description"]
                )
                key = tracking.group(1) if tracking else f"row{number}"
            else:
                title = (row.get("external_description") or "").strip()
                body = _gcp_report(row["description"])
                key = (row.get("") or "").strip() or f"row{number}"
            yield f"{vendor}-{key}", title, body, label


SOURCES = (
    Source(
        repository="atlarge-research/llm-cloud-incident-extraction",
        commit="64c1ce51a66b90c49f75b8aef5c20455a43435f9",
        licence="CC0-1.0 (the reports' text is Microsoft's and Google's)",
        about=(
            "Azure RCA / post-incident reviews and Google Cloud incident "
            "reports, their root-cause category labelled by hand by the "
            "authors of arXiv 2603.16818 (CONFIG, DEPLOY, EXTERNAL, MAINTAIN, "
            "OVERLOAD, OTHERS)"
        ),
        records=cloud_rca_records,
        views={"cloud_rca_reports": whole_report, "cloud_rca_causes": cause_section},
    ),
)


def build(source: Source, mirror: Path) -> tuple[dict[str, list[dict]], Counter]:
    """Each of the source's views as records, and what was dropped, by reason."""
    if not mirror.exists():
        raise SystemExit(
            f"{source.repository}: no snapshot at {mirror}; fetch "
            f"github:{source.repository} first (or pass --mirrors)"
        )

    def show(path: str) -> str:
        done = subprocess.run(
            ["git", "--git-dir", str(mirror), "show", f"{source.commit}:{path}"],
            capture_output=True,
        )
        if done.returncode:
            raise SystemExit(
                f"{source.repository}: {source.commit[:8]}:{path} is not in {mirror}: "
                f"{done.stderr.decode(errors='replace').strip()}"
            )
        return done.stdout.decode("utf-8", errors="replace")

    csv.field_size_limit(sys.maxsize)
    corpora, dropped, seen = {name: [] for name in source.views}, Counter(), set()
    for record_id, title, body, label in source.records(show):
        label = label.strip().upper()
        if not label or label == "UNKNOWN":
            dropped["no cause given"] += 1
            continue
        if not body:
            dropped["empty text"] += 1
            continue
        # One report filed twice (under another title, or for another cloud,
        # the same cause section) is one record, in every view.
        texts = {name: view(title, body) for name, view in source.views.items()}
        fingerprints = {
            re.sub(r"\W+", "", text.lower()) for text in [body, *texts.values()]
        }
        if fingerprints & seen:
            dropped["repeated report"] += 1
            continue
        seen |= fingerprints
        for name, text in texts.items():
            corpora[name].append({"id": record_id, "text": text, "labels": [label]})
    return corpora, dropped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--mirrors",
        default=os.environ.get("KB_CORPORA_MIRRORS", "/work/.mirror"),
        help="folder of fetched snapshots, one owner+name/repo git dir each",
    )
    parser.add_argument("--out", help="default: the KB_INSIGHTS_CORPORA_DIR setting")
    args = parser.parse_args()
    if args.out:
        out = Path(args.out)
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings")
        from django.conf import settings

        out = Path(settings.KB_INSIGHTS_CORPORA_DIR)
    out.mkdir(parents=True, exist_ok=True)
    for source in SOURCES:
        mirror = Path(args.mirrors) / source.repository.replace("/", "+") / "repo"
        corpora, dropped = build(source, mirror)
        print(f"{source.repository}@{source.commit[:8]}, {source.licence}")
        print(f"  dropped: {dict(dropped) or 'none'}")
        for name, records in corpora.items():
            path = out / f"{name}.jsonl"
            with open(path, "w", encoding="utf-8") as handle:
                for record in records:
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            labels = Counter(r["labels"][0] for r in records)
            print(f"  {name}: {len(records)} records -> {path}")
            print("    " + ", ".join(f"{k} {n}" for k, n in labels.most_common()))


if __name__ == "__main__":
    main()
