"""``bench/run_all.py``: a partial run replaces only its own sections."""

import pytest

from bench import run_all


def result(value: float) -> dict:
    return {
        "benchmark": "x",
        "results": [
            {
                "metric": "single posts",
                "value": value,
                "unit": "findings/s",
                "target": 300,
                "better": "higher",
                "reference": None,
                "note": "",
            }
        ],
    }


@pytest.fixture
def bench_root(tmp_path, monkeypatch):
    (tmp_path / "bench").mkdir()
    for name in ("actions", "findings", "faults"):
        (tmp_path / "bench" / f"{name}_bench.py").write_text("")
    monkeypatch.setattr(run_all, "ROOT", tmp_path)
    figures = {"actions": 120.0, "findings": 250.0, "faults": 3.0}

    def fake_run(script):
        name = script.stem.removesuffix("_bench")
        return result(figures[name]), "", 1.0

    monkeypatch.setattr(run_all, "run", fake_run)
    return tmp_path, figures


def test_a_partial_run_keeps_the_other_sections(bench_root, monkeypatch):
    root, figures = bench_root
    monkeypatch.setattr("sys.argv", ["run_all.py"])
    assert run_all.main() == 0
    before = run_all.existing_sections((root / "BENCHMARKS.md").read_text())

    figures["findings"] = 351.0
    monkeypatch.setattr("sys.argv", ["run_all.py", "findings"])
    assert run_all.main() == 0
    text = (root / "BENCHMARKS.md").read_text()
    after = run_all.existing_sections(text)

    assert list(after) == ["actions", "faults", "findings"]
    assert after["actions"] == before["actions"]
    assert after["faults"] == before["faults"]
    assert "| single posts | 351.00 findings/s | ≥ 300 findings/s | 1.17 |" in text
    assert "250.00" not in text
    assert text.startswith("# Benchmarks\n")


def test_an_unknown_benchmark_name_is_refused_and_nothing_is_written(
    bench_root, monkeypatch, capsys
):
    root, _ = bench_root
    monkeypatch.setattr("sys.argv", ["run_all.py", "findngs"])
    assert run_all.main() == 2
    assert "No such benchmark: findngs" in capsys.readouterr().err
    assert not (root / "BENCHMARKS.md").exists()


def test_a_failed_benchmark_is_reported_in_its_section(bench_root, monkeypatch):
    root, _ = bench_root
    monkeypatch.setattr(run_all, "run", lambda script: (None, "Traceback: boom", 2.0))
    monkeypatch.setattr("sys.argv", ["run_all.py", "faults"])
    assert run_all.main() == 1
    text = (root / "BENCHMARKS.md").read_text()
    assert "**Failed:** `Traceback: boom`" in text


HAND_WRITTEN = """## Test suite time

Measured by hand: CI took 14 min 48 s.
"""
# A hand-written section whose text starts like a benchmark's own.
HAND_WRITTEN_LIKE_A_BENCHMARK = """## Test suite time

`python bench/findings_bench.py` is not how this was measured: CI took 14 min.
"""


@pytest.mark.parametrize("hand", [HAND_WRITTEN, HAND_WRITTEN_LIKE_A_BENCHMARK])
@pytest.mark.parametrize("argv", [[], ["findings"]], ids=["full run", "partial run"])
def test_a_hand_written_section_survives_every_run(bench_root, monkeypatch, argv, hand):
    """GIVEN a BENCHMARKS.md with a section no benchmark writes WHEN make bench
    (or a partial run) rewrites the file THEN that section is kept, after the
    benchmarks' own."""
    root, _ = bench_root
    monkeypatch.setattr("sys.argv", ["run_all.py"])
    assert run_all.main() == 0
    path = root / "BENCHMARKS.md"
    path.write_text(path.read_text() + "\n" + hand)

    monkeypatch.setattr("sys.argv", ["run_all.py", *argv])
    assert run_all.main() == 0
    after = run_all.existing_sections(path.read_text())

    assert after["Test suite time"] == hand
    assert list(after) == ["actions", "faults", "findings", "Test suite time"]


def test_a_rerun_drops_the_note_under_its_own_table_and_says_so(
    bench_root, monkeypatch, capsys
):
    """GIVEN a note written under the findings table WHEN findings is rerun THEN
    the note (about figures no longer shown) goes, and the run says it went."""
    root, figures = bench_root
    monkeypatch.setattr("sys.argv", ["run_all.py", "findings"])
    assert run_all.main() == 0
    path = root / "BENCHMARKS.md"
    path.write_text(path.read_text() + "\nSlow because the machine was busy.\n")

    figures["findings"] = 400.0
    assert run_all.main() == 0

    assert "machine was busy" not in path.read_text()
    assert "hand-written text under 'findings' was dropped" in capsys.readouterr().out


def test_a_removed_benchmarks_section_goes_and_the_run_says_so(
    bench_root, monkeypatch, capsys
):
    """GIVEN a section written by a benchmark that no longer exists WHEN the
    benchmarks run THEN its stale figures are dropped, with a line saying so,
    while a hand-written section stays."""
    root, _ = bench_root
    monkeypatch.setattr("sys.argv", ["run_all.py"])
    assert run_all.main() == 0
    path = root / "BENCHMARKS.md"
    (root / "bench" / "faults_bench.py").unlink()
    path.write_text(path.read_text() + "\n" + HAND_WRITTEN)

    monkeypatch.setattr("sys.argv", ["run_all.py", "findings"])
    assert run_all.main() == 0

    assert list(run_all.existing_sections(path.read_text())) == [
        "actions",
        "findings",
        "Test suite time",
    ]
    assert "dropped 'faults', which no benchmark writes" in capsys.readouterr().out
