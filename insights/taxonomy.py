"""The starter taxonomy of failure classes, shipped as ``taxonomy.json``.

Each class names one of two things, its ``axis``: the ``change`` that set the
incident off (a configuration change, a deploy, a schema migration, an
operator's command) or the ``mechanism`` by which things failed (capacity ran
out, a resource leaked, retries piled up). A postmortem's trigger statement is
where a change is written down; its root cause and contributing factors
describe mechanisms.

Each class also ships example cause statements (``examples``): eight per class,
written from the class's description alone (by someone who had not read the
demo or test corpora), as postmortems across the field word such failures.
Three that came within cosine 0.65 of a demo statement were rewritten, so the
demo stays a fair test of them.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

TAXONOMY_PATH = Path(__file__).with_name("taxonomy.json")


@cache
def _load() -> tuple[dict, ...]:
    with open(TAXONOMY_PATH, encoding="utf-8") as handle:
        return tuple(json.load(handle))


def load_taxonomy() -> list[dict]:
    """Starter classes as ``{"slug", "name", "axis", "description",
    "examples"}`` dicts, in file order. ``examples`` are typical cause
    statements of the class, written for it without reading any evaluation
    corpus; the classifier learns from them as from labelled statements."""
    return [dict(entry) for entry in _load()]
