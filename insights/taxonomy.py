"""The starter taxonomy of failure classes, shipped as ``taxonomy.json``."""

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
    """Starter classes as ``{"slug", "name", "description"}`` dicts, in file order."""
    return [dict(entry) for entry in _load()]
