"""``import_postmortems`` with hostile files: each is refused with its reason, the
valid files beside it are imported, and nothing of a refused file is stored.

What could not be stored safely (a lone surrogate, a NUL) used to be stored, and
that postmortem's pages, export and API answered 500 from then on; a deeply nested
line aborted the whole run; a FIFO blocked it forever and a link to /dev/zero ran
it out of memory.
"""

import json
import os
import shutil
import threading
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postmortems.models import Incident, Postmortem, TimelineEntry
from tests import factories

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
GOOD_LINE = {"title": "Card timeouts", "date": "2025-03-04", "text": "Payments slow."}
SRE = (DATA / "sre_good.md").read_text()


@pytest.fixture
def org(team, admin_user):
    factories.ServiceFactory(slug="checkout", name="Checkout", team=team)
    return admin_user


def _run(*paths) -> tuple[str, str, CommandError | None]:
    out, err = StringIO(), StringIO()
    try:
        call_command(
            "import_postmortems",
            *map(str, paths),
            "--team",
            "payments",
            stdout=out,
            stderr=err,
        )
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def _jsonl_with(value_json: str, field: str = "title") -> bytes:
    marker = "@@hostile@@"
    line = json.dumps({**GOOD_LINE, "title": "Hostile", field: marker})
    return line.replace(json.dumps(marker), value_json).encode() + b"\n"


# Name -> (file name, bytes, what the refusal must say).
HOSTILE_FILES = {
    "jsonl-lone-surrogate": (
        "x.jsonl",
        _jsonl_with('"\\ud800 broken"', "text"),
        ":1: text: the text contains a lone surrogate",
    ),
    "jsonl-nul": ("x.jsonl", _jsonl_with('"a\\u0000b"', "root_cause"), "NUL"),
    "jsonl-nul-key": ("x.jsonl", _jsonl_with('{"\\u0000": 1}', "extra"), "NUL"),
    "jsonl-deep-nesting": (
        "x.jsonl",
        _jsonl_with("[" * 5000 + "]" * 5000, "extra"),
        ":1: the JSON is nested more than",
    ),
    "jsonl-nesting-past-the-limit": (
        "x.jsonl",
        _jsonl_with("[" * 70 + "]" * 70, "extra"),
        ":1: extra[0]",
    ),
    "jsonl-integer-2**70": ("x.jsonl", _jsonl_with(str(2**70), "id"), "64-bit"),
    "jsonl-number-1e400": ("x.jsonl", _jsonl_with("1e400", "id"), "infinity"),
    "markdown-nul": (
        "x.md",
        SRE.replace("Shakespeare Search was", "Shakespeare\x00 Search was").encode(),
        ":11: the line contains a NUL character",
    ),
    "markdown-surrogate-bytes": (
        "x.md",
        SRE.replace("Impact", "Imp\ud800act", 1).encode("utf-8", "surrogatepass"),
        "not UTF-8 text",
    ),
    "not-utf8": ("x.jsonl", b'{"title": "caf\xe9"}\n', "not UTF-8 text"),
}


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_import_refuses_a_hostile_file_and_imports_the_good_one_beside_it(
    org, tmp_path, name
):
    """GIVEN a directory with a valid file and a hostile one
    WHEN it is imported
    THEN the hostile file is reported with its reason and nothing of it is stored,
    and the valid file is imported."""
    file_name, content, reason = HOSTILE_FILES[name]
    shutil.copy(DATA / "sre_good.md", tmp_path / "good.md")
    bad = tmp_path / f"bad-{file_name}"
    bad.write_bytes(content)

    out, err, exc = _run(tmp_path)

    assert exc is not None, out
    assert f"{bad}: NOT imported, nothing written" in err
    assert reason in err, err
    assert "2 file(s): 1 postmortem(s) imported, 0 already there, 1 file(s) failed" in (
        str(exc)
    )
    assert [i.title for i in Incident.objects.all()] == ["Shakespeare search outage"]


def _unblock_fifo_later(path: Path) -> threading.Timer:
    # If the importer opens the FIFO and waits for a writer, this writer ends the
    # wait (an empty read), so a regression fails the assertions instead of hanging.
    def write_nothing():
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return  # nobody is reading it: the importer did not block
        os.close(descriptor)

    timer = threading.Timer(20, write_nothing)
    timer.start()
    return timer


@pytest.mark.parametrize("kind", ["fifo", "link-to-dev-zero", "link-to-a-fifo"])
def test_import_reads_regular_files_only(org, tmp_path, kind):
    shutil.copy(DATA / "sre_good.md", tmp_path / "good.md")
    bad = tmp_path / "bad.md"
    timer = None
    if kind == "fifo":
        os.mkfifo(bad)
        timer = _unblock_fifo_later(bad)
    elif kind == "link-to-dev-zero":
        bad.symlink_to("/dev/zero")
    else:
        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        bad.symlink_to(fifo)
        timer = _unblock_fifo_later(fifo)
    try:
        out, err, exc = _run(tmp_path / "good.md", bad)
    finally:
        if timer is not None:
            timer.cancel()

    assert exc is not None, out
    assert f"{bad}: NOT imported, nothing written: not a regular file" in err
    assert Incident.objects.count() == 1


def test_import_refuses_a_file_over_the_size_limit(org, tmp_path, settings):
    settings.KB_IMPORT_MAX_FILE_BYTES = 1000
    big = tmp_path / "big.md"
    big.write_text(SRE + "\n" + "padding " * 200)

    _, err, exc = _run(big)

    assert exc is not None
    assert "files over 1,000 bytes are not read" in err
    assert not Incident.objects.exists()


def test_import_refuses_a_jsonl_file_with_too_many_entries(org, tmp_path, settings):
    settings.KB_IMPORT_MAX_ENTRIES = 3
    path = tmp_path / "many.jsonl"
    path.write_text(
        "".join(
            json.dumps({**GOOD_LINE, "title": f"Outage {n}"}) + "\n" for n in range(4)
        )
    )

    _, err, exc = _run(path)

    assert exc is not None
    assert f"{path}:4: more than 3 postmortems in one file" in err
    assert not Incident.objects.exists()


def test_import_refuses_a_timeline_longer_than_the_limit(org, tmp_path, settings):
    settings.KB_IMPORT_MAX_TIMELINE_LINES = 5
    lines = "\n".join(f"- 2015-10-21 14:{n:02d} step {n}" for n in range(6))
    path = tmp_path / "long.md"
    path.write_text(SRE.split("## Timeline")[0] + "## Timeline\n" + lines + "\n")

    _, err, exc = _run(path)

    assert exc is not None
    assert "the timeline has 6 lines; at most 5 are read per incident" in err
    assert not TimelineEntry.objects.exists()


# -- Property: generated hostile lines ----------------------------------------------

hostile_json_values = st.one_of(
    st.tuples(
        st.text(max_size=8),
        st.sampled_from(["\\ud800", "\\udfff", "\\u0000"]),
        st.text(max_size=8),
    ).map(lambda p: json.dumps(p[0])[:-1] + p[1] + json.dumps(p[2])[1:]),
    st.integers(min_value=2**63).map(str),
    st.integers(max_value=-(2**63) - 1).map(str),
    st.integers(min_value=65, max_value=3000).map(lambda d: "[" * d + "]" * d),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999"]),
)


def test_import_generated_hostile_jsonl_lines_are_refused_with_nothing_stored(
    org, tmp_path
):
    """GIVEN a JSONL file whose second line carries a generated hostile value in
    any field WHEN it is imported THEN the command fails naming that line, and no
    postmortem of the file is stored."""

    @settings(
        max_examples=40,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        field=st.sampled_from(["title", "date", "text", "id", "services", "extra"]),
        value=hostile_json_values,
    )
    def check(field, value):
        path = tmp_path / "hostile.jsonl"
        path.write_bytes(
            (json.dumps(GOOD_LINE) + "\n").encode() + _jsonl_with(value, field)
        )
        _, err, exc = _run(path)
        assert exc is not None
        assert f"{path}:2: " in err, err
        assert not Postmortem.objects.exists()

    check()
