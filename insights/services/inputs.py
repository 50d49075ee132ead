"""What the pipeline reads: texts, the embedder, cached vectors, classes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable, Sequence

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from insights import clustering, extensions
from insights.embeddings import Embedder, text_hash
from insights.evaluation import anchor_texts, classes_from_anchors
from insights.models import (
    ClassStatus,
    EmbeddingCache,
    FailureClass,
)
from postmortems.models import ContributingFactor, Postmortem

logger = logging.getLogger(__name__)

SECTION_KEYS = ("root_cause", "trigger")

# What the pipeline does with the same inputs: bump it when a rule changes
# (which statement a confirmation labels, how each kind is validated), so the
# first full run after a deploy recomputes instead of being skipped.
# 2: triggers read for classes of change; labels derived from postmortems.
# 3: classes' example statements teach the classifier; a surer change in the
# trigger is the primary class.
# 4: a class people made adopts a described class's examples; the blend is
# the simplest within half a standard error of the best.
RULES_VERSION = 4

# One embedder per (class, model name, path) in this process.
_embedders: dict[tuple[str, str, str], Embedder] = {}


def postmortem_text(sections: dict, factors: Sequence[str]) -> str:
    """Root cause and trigger sections, then the other texts (factors, findings)."""
    parts = [str((sections or {}).get(key) or "").strip() for key in SECTION_KEYS]
    parts += [f.strip() for f in factors]
    return "\n\n".join(p for p in parts if p)


def get_embedder() -> Embedder:
    """The process-wide embedder ``KB_EMBEDDER`` names (its model loads lazily)."""
    dotted = settings.KB_EMBEDDER
    key = (dotted, settings.KB_EMBEDDING_MODEL, settings.KB_EMBEDDING_MODEL_PATH)
    embedder = _embedders.get(key)
    if embedder is None:
        try:
            embedder_class = import_string(dotted)
        except ImportError as exc:
            raise ImproperlyConfigured(f"KB_EMBEDDER {dotted!r}: {exc}") from exc
        embedder = embedder_class.from_settings(settings)
        _embedders[key] = embedder
    return embedder


def current_params() -> clustering.Params:
    """Pipeline parameters: the defaults, overridable in settings."""
    return clustering.Params(**getattr(settings, "KB_INSIGHTS_PARAMS", {}))


def postmortem_texts(postmortem_ids: Sequence[int] | None = None) -> dict[int, str]:
    """The text insights reads per postmortem (by pk): root cause, trigger,
    contributing factors and the root causes of its incident's confirmed findings.
    """
    postmortems = Postmortem.objects.order_by("pk")
    factors_query = ContributingFactor.objects.order_by(
        "postmortem_id", "position", "pk"
    )
    if postmortem_ids is not None:
        postmortems = postmortems.filter(pk__in=postmortem_ids)
        factors_query = factors_query.filter(postmortem_id__in=postmortem_ids)
    extra: dict[int, list[str]] = {}
    for pk, description in factors_query.values_list("postmortem_id", "description"):
        extra.setdefault(pk, []).append(description)
    # More text from the apps built on insights (findings: confirmed root causes).
    for source in extensions.text_sources:
        for pk, text in source(postmortem_ids=postmortem_ids):
            extra.setdefault(pk, []).append(text)
    return {
        pk: postmortem_text(sections, extra.get(pk, []))
        for pk, sections in postmortems.values_list("pk", "sections")
    }


def _inputs() -> list[tuple[int, str]]:
    """(postmortem id, text) of every postmortem with something to read, by pk."""
    return [(pk, text) for pk, text in postmortem_texts().items() if text]


def _known_classes() -> list[FailureClass]:
    return list(
        FailureClass.objects.exclude(status=ClassStatus.MERGED).order_by("slug")
    )


def class_reading(failure_class: FailureClass) -> list:
    """What the classifier reads of a class, as the fingerprint hashes it: its
    status (merged and proposed classes teach differently), its name (embedded
    with its description), description, axis and examples. A change to any
    of them queues a full run (curation, the admin)."""
    return [
        failure_class.status,
        failure_class.name,
        failure_class.description,
        failure_class.axis,
        list(failure_class.examples),
    ]


def fingerprint(
    *,
    model_name: str,
    params: dict,
    version: int = 1,
    classes: Sequence[FailureClass],
    confirmed: dict[int, str],
    items: Sequence[tuple[int, str]],
    statements: Sequence = (),
    statement_labels: Sequence = (),
) -> str:
    """Hash of everything a full run's result depends on, the pipeline's rules
    included."""
    payload = {
        "model": model_name,
        "version": version,
        "rules": RULES_VERSION,
        "params": params,
        # Proposed classes are the pipeline's own output: only people's classes
        # (and their edits) are inputs. A class's axis says which statements
        # are read for it; its examples teach the classifier.
        "classes": [[c.slug, *class_reading(c)] for c in classes if not c.is_proposed],
        "confirmed": sorted(confirmed.items()),
        "items": [[pk, digest] for pk, digest in items],
        "statements": [list(s) for s in statements],
        "statement_labels": [list(s) for s in statement_labels],
    }
    return _digest(payload)


def _digest(payload: dict) -> str:
    """SHA-256 of a JSON payload, independent of key order."""
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def similar_digest(
    *, model_name: str, version: int, items: Sequence[tuple[int, str]], k: int
) -> str:
    """Hash of what a full run's similar incidents depend on: the model and
    every postmortem's text, nothing else. A run after a confirmation (labels
    changed, no text) finds the same neighbours, so it keeps the stored ones."""
    payload = {
        "model": model_name,
        "version": version,
        "rules": RULES_VERSION,
        "k": k,
        "items": sorted([pk, digest] for pk, digest in items),
    }
    return _digest(payload)


def _chunks(values: Sequence, size: int):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def cached_vectors(
    *,
    texts: Sequence[str],
    embedder: Embedder,
    on_progress: Callable[[int, int], None] | None = None,
    hashes: Sequence[str] | None = None,
) -> tuple[np.ndarray, list[EmbeddingCache], int]:
    """Vectors of ``texts``, embedding only those not cached for this model.

    Returns (matrix, cache rows, number newly embedded). New vectors are saved
    batch by batch, so a run killed half-way keeps what it already computed.
    ``hashes``: the texts' :func:`text_hash`, when the caller has them.
    """
    hashes = list(hashes) if hashes is not None else [text_hash(t) for t in texts]
    wanted = list(dict.fromkeys(hashes))
    rows: dict[str, EmbeddingCache] = {}
    for batch in _chunks(wanted, 500):
        for row in EmbeddingCache.objects.filter(
            model_name=embedder.model_name,
            version=embedder.version,
            text_hash__in=batch,
        ):
            rows[row.text_hash] = row
    first_text = dict(zip(hashes, texts, strict=True))
    missing = [h for h in wanted if h not in rows]
    batch_size = max(1, settings.KB_INSIGHTS_BATCH_SIZE)
    done = 0
    for batch in _chunks(missing, batch_size):
        vectors = embedder.encode([first_text[h] for h in batch])
        EmbeddingCache.objects.bulk_create(
            [
                EmbeddingCache(
                    model_name=embedder.model_name,
                    version=embedder.version,
                    text_hash=h,
                    dimension=vectors.shape[1],
                    vector=vectors[i].astype(np.float32).tobytes(),
                )
                for i, h in enumerate(batch)
            ],
            ignore_conflicts=True,  # a parallel run may have cached the same text
        )
        for row in EmbeddingCache.objects.filter(
            model_name=embedder.model_name,
            version=embedder.version,
            text_hash__in=batch,
        ):
            rows[row.text_hash] = row
        done += len(batch)
        if on_progress:
            on_progress(done, len(missing))
    ordered = [rows[h] for h in hashes]
    if not ordered:
        # Width 0: nothing to stack, and reading the model's width would load it.
        return np.zeros((0, 0), np.float32), [], len(missing)
    matrix = np.vstack([row.as_array() for row in ordered])
    return matrix, ordered, len(missing)


def class_inputs(
    classes: Sequence[FailureClass], embedder: Embedder
) -> list[clustering.KnownClass]:
    """Known classes for the pipeline: described ones embedded (description and
    examples), proposed ones with their stored centroids."""
    described = [
        c
        for c in classes
        if (c.description.strip() or c.examples) and not c.is_proposed
    ]
    groups = [
        anchor_texts(
            {"name": c.name, "description": c.description, "examples": c.examples}
        )
        for c in described
    ]
    vectors, _, _ = cached_vectors(
        texts=[text for group in groups for text in group], embedder=embedder
    )
    by_slug = {
        k.slug: k
        for k in classes_from_anchors([c.slug for c in described], groups, vectors)
    }
    return [
        dataclasses.replace(
            by_slug[c.slug], proposed=c.is_proposed, centroid=c.centroid_vector
        )
        if c.slug in by_slug
        else clustering.KnownClass(
            slug=c.slug, proposed=c.is_proposed, centroid=c.centroid_vector
        )
        for c in classes
    ]
