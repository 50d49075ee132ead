"""Run every benchmark in bench/ and write BENCHMARKS.md (``make bench``).

Each ``*_bench.py`` runs in its own process; its last stdout line is the JSON
described in bench/report.py. A benchmark that fails is reported as failed, and the
run exits non-zero, but the others still run.
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


def render(rows: list[tuple[str, dict | None, str, float]]) -> str:
    out = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine()}.",
        "",
        "Ratios compare a figure with its target (or with the in-run reference "
        "named beside it); a ratio of 1.0 or more means the target is met.",
        "",
    ]
    for name, data, error, elapsed in rows:
        out.append(f"## {name}")
        out.append("")
        out.append(f"`python bench/{name}_bench.py` ({elapsed:.0f} s)")
        out.append("")
        if data is None:
            out.append(f"**Failed:** `{error.strip()[:500]}`")
            out.append("")
            continue
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
        out.append("")
    return "\n".join(out)


def main() -> int:
    scripts = sorted((ROOT / "bench").glob("*_bench.py"))
    only = set(sys.argv[1:])
    rows = []
    for script in scripts:
        name = script.stem.removesuffix("_bench")
        if only and name not in only:
            continue
        print(f"== {name}", flush=True)
        data, error, elapsed = run(script)
        print("   ok" if data else f"   FAILED: {error.strip()[-300:]}", flush=True)
        rows.append((name, data, error, elapsed))
    (ROOT / "BENCHMARKS.md").write_text(render(rows) + "\n")
    print("Wrote BENCHMARKS.md")
    return 0 if all(data for _, data, _, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
