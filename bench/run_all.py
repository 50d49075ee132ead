"""Run every benchmark in bench/ and write BENCHMARKS.md (``make bench``).

Each ``*_bench.py`` runs in its own process; its last stdout line is the JSON
described in bench/report.py. A benchmark that fails is reported as failed, and the
run exits non-zero, but the others still run.

``python bench/run_all.py findings faults`` runs only those and replaces only their
sections of BENCHMARKS.md; each section says when it was run.
"""

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        memory = "unknown"
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory} RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def run(script: Path) -> tuple[dict | None, str, float]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True
    )
    elapsed = time.monotonic() - started
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return None, proc.stderr[-2000:] or proc.stdout[-2000:], elapsed
    try:
        return json.loads(lines[-1]), "", elapsed
    except json.JSONDecodeError:
        return None, "last line was not the JSON summary", elapsed


HEADER = [
    "# Benchmarks",
    "",
    "Written by `make bench` (`python bench/run_all.py [NAME ...]` reruns some); "
    "each section says when it ran.",
    "",
    "Ratios compare a figure with its target (or with the in-run reference "
    "named beside it); a ratio of 1.0 or more means the target is met.",
    "",
]


def render(sections: dict[str, str], benchmarks: list[str]) -> str:
    """The whole file: the header, the benchmarks' sections in name order, then
    the hand-written ones."""
    order = sorted(sections, key=lambda name: (name not in benchmarks, name))
    body = [sections[name].rstrip("\n") + "\n\n" for name in order]
    return "\n".join(HEADER) + "\n" + "".join(body).rstrip("\n") + "\n"


def existing_sections(text: str) -> dict[str, str]:
    """``name -> section text`` of a BENCHMARKS.md written by this script."""
    sections: dict[str, str] = {}
    name = None
    for line in text.splitlines(keepends=True):
        if line.startswith("## "):
            name = line[3:].strip()
            sections[name] = ""
        if name is not None:
            sections[name] += line
    return {name: text.rstrip("\n") + "\n" for name, text in sections.items()}


def _command(name: str) -> str:
    """How a section names the benchmark that wrote it."""
    return f"`python bench/{name}_bench.py`"


def _written_by_a_benchmark(name: str, section: str) -> bool:
    """Whether section ``name`` was written by this script (its first line of
    text names that benchmark's command), not by hand."""
    lines = [line for line in section.splitlines()[1:] if line.strip()]
    return bool(lines) and lines[0].startswith(f"{_command(name)} (")


def _has_prose(section: str) -> bool:
    """Whether a written section has text below its table (a hand-written note)."""
    lines = section.rstrip("\n").splitlines()
    table_end = max(
        (i for i, line in enumerate(lines) if line.startswith("|")), default=None
    )
    return table_end is not None and any(
        line.strip() for line in lines[table_end + 1 :]
    )


def render_section(name: str, data: dict | None, error: str, elapsed: float) -> str:
    out = [f"## {name}", ""]
    out.append(
        f"{_command(name)} ({elapsed:.0f} s, "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {machine()})"
    )
    out.append("")
    if data is None:
        out.append(f"**Failed:** `{error.strip()[:500]}`")
        return "\n".join(out) + "\n"
    out.append("| figure | value | target | ratio | in-run reference |")
    out.append("|---|---|---|---|---|")
    for r in data["results"]:
        target = ratio = ""
        if r.get("target") is not None:
            sign = "≤" if r.get("better") == "lower" else "≥"
            target = f"{sign} {r['target']:g} {r['unit']}"
            if r["target"] == 0 or r["value"] == 0:
                # Counts that must be zero (5xx, rows lost): no ratio to show.
                met = (
                    r["value"] <= r["target"]
                    if r.get("better") == "lower"
                    else r["value"] >= r["target"]
                )
                ratio = "met" if met else "**missed**"
            else:
                ratio = (
                    r["target"] / r["value"]
                    if r.get("better") == "lower"
                    else r["value"] / r["target"]
                )
                ratio = f"{ratio:.2f}"
        reference = ""
        if r.get("reference"):
            ref = r["reference"]
            reference = f"{ref['metric']}: {ref['value']:g}"
            if ref.get("ratio") is not None:
                reference += f" (ratio {ref['ratio']:.2f})"
        note = f" ({r['note']})" if r.get("note") else ""
        out.append(
            f"| {r['metric']}{note} | {r['value']:.2f} {r['unit']} | {target} "
            f"| {ratio} | {reference} |"
        )
    return "\n".join(out) + "\n"


def main() -> int:
    scripts = sorted((ROOT / "bench").glob("*_bench.py"))
    names = [script.stem.removesuffix("_bench") for script in scripts]
    only = set(sys.argv[1:])
    unknown = only - set(names)
    if unknown:
        print(f"No such benchmark: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    target = ROOT / "BENCHMARKS.md"
    old = existing_sections(target.read_text()) if target.exists() else {}
    # Sections no benchmark writes (the test suite's time, say) are written by
    # hand and always kept; a partial run keeps the other benchmarks' too.
    sections = {}
    for name, text in old.items():
        if name not in names and _written_by_a_benchmark(name, text):
            # A benchmark since renamed or removed: its figures describe nothing.
            print(f"   note: dropped '{name}', which no benchmark writes any more")
        elif name not in names or only:
            sections[name] = text
    ok = True
    for script, name in zip(scripts, names, strict=True):
        if only and name not in only:
            continue
        print(f"== {name}", flush=True)
        data, error, elapsed = run(script)
        print("   ok" if data else f"   FAILED: {error.strip()[-300:]}", flush=True)
        if _has_prose(old.get(name, "")):
            # Prose under a table explains the figures it was written beside.
            print(f"   note: the hand-written text under '{name}' was dropped")
        sections[name] = render_section(name, data, error, elapsed)
        ok = ok and data is not None
    target.write_text(render(sections, names))
    print("Wrote BENCHMARKS.md")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
