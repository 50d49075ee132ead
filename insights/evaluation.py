"""Quality of the classification pipeline against a labelled corpus.

Pure module behind ``manage.py evaluate_insights``: records in, metrics out. It
runs the same :func:`insights.clustering.classify` the product runs, with the
starter taxonomy, and never touches the database.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from insights import clustering
from insights.embeddings import Embedder
from insights.taxonomy import load_taxonomy

NOISE_LABEL = "__unassigned__"


def read_corpus(path: str | Path) -> list[dict]:
    """Read a JSON-lines corpus of ``{"id", "text", "labels": [...]}`` records."""
    records = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                records.append(json.loads(line))
    return records


def single_label_records(records: Iterable[dict]) -> list[dict]:
    """Records with exactly one label, ordered by id (the others are ignored)."""
    kept = [r for r in records if len(r.get("labels") or []) == 1]
    return sorted(kept, key=lambda r: str(r["id"]))


def taxonomy_classes(embedder: Embedder) -> list[clustering.KnownClass]:
    """The starter taxonomy as known classes, descriptions embedded."""
    taxonomy = load_taxonomy()
    vectors = embedder.encode([description_text(t) for t in taxonomy])
    return [
        clustering.KnownClass(slug=t["slug"], description_vector=vectors[i])
        for i, t in enumerate(taxonomy)
    ]


def description_text(entry: dict) -> str:
    """Text embedded for a class prototype: its name and description."""
    return f"{entry['name']}. {entry.get('description', '')}".strip()


def evaluate(
    records: Sequence[dict],
    embedder: Embedder,
    *,
    train_fraction: float | None = None,
    seed: int = 0,
    params: clustering.Params | None = None,
) -> dict:
    """Run the pipeline on the corpus texts and score it against their labels.

    With ``train_fraction`` a seeded random fraction of the records is treated as
    confirmed by people; all metrics are then computed on the other records only.
    Unassigned items count as one cluster of their own.
    """
    from sklearn import metrics

    params = params or clustering.Params()
    started = time.perf_counter()
    records = single_label_records(records)
    ids = [str(r["id"]) for r in records]
    truth = [r["labels"][0] for r in records]
    confirmed: dict[str, str] = {}
    if train_fraction:
        rng = np.random.default_rng(seed)
        n_train = int(round(train_fraction * len(records)))
        chosen = sorted(rng.choice(len(records), size=n_train, replace=False))
        # Corpus labels are opaque class names: "confirmed" is their only use.
        confirmed = {ids[i]: truth[i] for i in chosen}
    vectors = embedder.encode([r["text"] for r in records])
    result = clustering.classify(
        ids=ids,
        vectors=vectors,
        texts=[r["text"] for r in records],
        classes=taxonomy_classes(embedder),
        confirmed=confirmed,
        params=params,
    )
    labels = result.labels()
    scored = [i for i, item_id in enumerate(ids) if item_id not in confirmed]
    y_true = [truth[i] for i in scored]
    y_pred = [labels[ids[i]] or NOISE_LABEL for i in scored]
    out = {
        "n": len(scored),
        "classes": len(set(y_true)),
        "clusters": len(set(y_pred)),
        "ami": metrics.adjusted_mutual_info_score(y_true, y_pred),
        "ari": metrics.adjusted_rand_score(y_true, y_pred),
        "nmi": metrics.normalized_mutual_info_score(y_true, y_pred),
        "v_measure": metrics.v_measure_score(y_true, y_pred),
        "noise_fraction": sum(p == NOISE_LABEL for p in y_pred) / max(1, len(y_pred)),
    }
    if train_fraction:
        out["train"] = len(confirmed)
        out["accuracy"] = metrics.accuracy_score(y_true, y_pred)
        out["macro_f1"] = metrics.f1_score(
            y_true, y_pred, labels=sorted(set(y_true)), average="macro", zero_division=0
        )
    out["seconds"] = time.perf_counter() - started
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}
