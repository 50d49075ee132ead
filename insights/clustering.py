"""Vectors (and plain data) in, failure-class labels out.

Pure module: no ORM, ``sklearn`` imported inside functions.

Each item gets at most one class, decided in this order:

1. ``confirmed``: a person's confirmed class always wins.
2. ``classifier``: classes with confirmed examples form nearest-centroid
   prototypes (the class's description vector, when it has one, counts as one
   more example). An item whose best prototype similarity reaches
   ``classifier_threshold`` takes that class.
3. ``taxonomy``: classes with a description but no confirmed examples classify
   zero-shot, when the raw cosine similarity between the item and the
   class's description vector reaches ``zero_shot_threshold``.
4. ``cluster``: the rest keep the proposed class they had last run (sticky, so
   adding items never reshuffles existing classes), join an existing proposed
   class whose centroid is close enough, or are clustered (agglomerative,
   average linkage, cosine distance) into new proposed classes named by their
   distinctive terms (c-TF-IDF). Items that still fit nothing stay unassigned.

A class's description vector is the normalised mean of its embedded
description and example statements (``KnownClass``).

Prototype matching and clustering happen in a "profiled" space: each vector is
concatenated with its soft similarity profile over the class descriptions. The
descriptions then act as semantic anchors, so two root causes worded differently
but describing the same failure mode land closer together.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from insights.choices import ClassificationSource
from insights.embeddings import normalise_rows

logger = logging.getLogger(__name__)

# How a postmortem got its class, as plain strings (ClassificationSource).
CONFIRMED = ClassificationSource.CONFIRMED.value
CLASSIFIER = ClassificationSource.CLASSIFIER.value
TAXONOMY = ClassificationSource.TAXONOMY.value
CLUSTER = ClassificationSource.CLUSTER.value

PROPOSED_SLUG_PREFIX = "proposed-"


@dataclass(frozen=True)
class Params:
    """Tunable parameters; part of a run's fingerprint."""

    zero_shot_threshold: float = 0.55
    classifier_threshold: float = 0.35
    profile_temperature: float = 0.05
    profile_weight: float = 2.0
    # None: each run picks the cut (cosine distance) with the best silhouette
    # within cluster_threshold_range; density differs between corpora.
    cluster_distance_threshold: float | None = None
    cluster_threshold_range: tuple[float, float] = (0.45, 0.7)
    # Used when there are too few leftovers for a silhouette to mean anything.
    default_distance_threshold: float = 0.6
    silhouette_sample: int = 2000
    min_cluster_size: int = 2
    join_threshold: float = 0.7
    min_corrections: int = 2
    match_threshold: float = 0.8
    name_terms: int = 3

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class KnownClass:
    """A class the pipeline can assign: taxonomy, accepted or proposed.

    ``description_vector`` is the class's prototype (taxonomy and accepted
    classes): the normalised mean of its embedded description and examples,
    whose texts ``anchor_texts`` and vectors ``anchor_vectors`` hold, the
    description first; ``centroid`` is a proposed class's stored centroid, in
    the profiled space as returned by :func:`classify`.
    """

    slug: str
    proposed: bool = False
    description_vector: np.ndarray | None = None
    centroid: np.ndarray | None = None
    anchor_texts: tuple[str, ...] = ()
    anchor_vectors: np.ndarray | None = None


@dataclass(frozen=True)
class Assignment:
    item_id: Hashable
    slug: str | None
    source: str
    confidence: float


@dataclass(frozen=True)
class ProposedClass:
    """A proposed class after this run: existing ones keep slug and name."""

    slug: str
    name: str
    terms: tuple[str, ...]
    centroid: np.ndarray
    member_ids: tuple
    is_new: bool


@dataclass
class Result:
    assignments: list[Assignment]
    proposed: list[ProposedClass] = field(default_factory=list)

    def labels(self) -> dict:
        return {a.item_id: a.slug for a in self.assignments}


def _soft_profile(similarities: np.ndarray, temperature: float) -> np.ndarray:
    if similarities.shape[1] == 0:
        return similarities
    shifted = (similarities - similarities.max(axis=1, keepdims=True)) / temperature
    weights = np.exp(shifted)
    return weights / weights.sum(axis=1, keepdims=True)


def profile(
    vectors: np.ndarray, anchors: np.ndarray, params: Params = Params()
) -> np.ndarray:
    """Map vectors into the profiled space.

    ``[v ; w * max(0, best) * softmax(v @ anchors.T / t)]``: the soft profile is
    scaled by the best anchor similarity, so an item unlike every description
    gets little pull from the anchor it happens to be least unlike.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(anchors) < 2:
        # A profile over one anchor is a constant: it would only add noise.
        return normalise_rows(vectors)
    similarities = vectors @ anchors.T
    soft = _soft_profile(similarities, params.profile_temperature)
    scale = params.profile_weight * np.clip(similarities.max(axis=1), 0.0, 1.0)
    return normalise_rows(np.hstack([vectors, scale[:, None] * soft]))


def anchors_of(classes: Sequence[KnownClass]) -> np.ndarray:
    """Description vectors (prototypes of description and examples) of the
    classes that have one, in slug order."""
    rows = [
        c.description_vector
        for c in sorted(classes, key=lambda c: c.slug)
        if c.description_vector is not None
    ]
    if not rows:
        return np.zeros((0, 0), dtype=np.float32)
    return normalise_rows(np.vstack(rows))


def classify(
    *,
    ids: Sequence[Hashable],
    vectors: np.ndarray,
    texts: Sequence[str],
    classes: Sequence[KnownClass],
    confirmed: Mapping[Hashable, str] | None = None,
    previous: Mapping[Hashable, str] | None = None,
    params: Params = Params(),
    supervised: Mapping[Hashable, tuple[str | None, float]] | None = None,
) -> Result:
    """Assign each item a class (or none); see the module docstring.

    ``supervised`` (item id -> (class or None when it abstained, confidence))
    comes from the validated classifier (:mod:`insights.classifier`). Its
    classes are taken first; an item it abstained on goes through the stages
    above as before (on the benchmark the two together beat either alone).
    """
    confirmed = dict(confirmed or {})
    previous = dict(previous or {})
    n = len(ids)
    if n == 0:
        return Result(assignments=[])
    # Inputs are sorted by id so that the caller's order never matters.
    order = sorted(range(n), key=lambda i: ids[i])
    ids = [ids[i] for i in order]
    texts = [texts[i] for i in order]
    vectors = normalise_rows(np.asarray(vectors)[order])

    classes = sorted(classes, key=lambda c: c.slug)
    anchors = anchors_of(classes)
    profiled = profile(vectors, anchors, params)

    slugs: list[str | None] = [None] * n
    sources = [""] * n
    confidence = np.zeros(n)

    for i, item_id in enumerate(ids):
        slug = confirmed.get(item_id)
        if slug is not None:
            slugs[i], sources[i], confidence[i] = slug, CONFIRMED, 1.0

    if supervised is not None:
        for i, item_id in enumerate(ids):
            slug, score = supervised.get(item_id, (None, 0.0))
            if slugs[i] is None and slug is not None:
                slugs[i], sources[i], confidence[i] = slug, CLASSIFIER, score
    _classify_by_prototypes(
        vectors,
        profiled,
        slugs,
        sources,
        confidence,
        classes,
        params,
    )
    proposed = _cluster_rest(
        ids, texts, profiled, slugs, sources, confidence, classes, previous, params
    )
    assignments = [
        Assignment(ids[i], slugs[i], sources[i], round(float(confidence[i]), 6))
        for i in range(n)
    ]
    return Result(assignments=assignments, proposed=proposed)


def _classify_by_prototypes(
    vectors, profiled, slugs, sources, confidence, classes, params, learned=True
):
    """Classifier and zero-shot stages (2 and 3 of the module docstring).

    ``learned=False``: the prototype classifier is replaced by a supervised one
    the caller already applied; only the zero-shot stage runs.
    """
    known = [c for c in classes if not c.proposed]
    examples: dict[str, list[int]] = {}
    for i, (slug, source) in enumerate(zip(slugs, sources, strict=True)):
        if source == CONFIRMED:
            examples.setdefault(slug, []).append(i)
    pending = [i for i, s in enumerate(slugs) if s is None]
    if not pending:
        return
    anchors = anchors_of(classes)
    # One prototype per class with a description and/or confirmed examples;
    # the description counts as one example.
    by_slug = {c.slug: c for c in known}
    corrected = _corrected_classes(vectors, slugs, sources, known, examples, params)
    names = sorted(
        {c.slug for c in known if c.description_vector is not None} - corrected
        | set(examples)
    )
    rows = []
    for slug in names:
        total = np.zeros(profiled.shape[1])
        if slug in examples:
            total = total + profiled[examples[slug]].sum(axis=0)
        description = getattr(by_slug.get(slug), "description_vector", None)
        if description is not None:
            total = total + profile(description[None, :], anchors, params)[0]
        rows.append(total)
    if not rows:
        return
    prototypes = normalise_rows(np.vstack(rows))
    taught = np.array([slug in examples for slug in names])
    sims = profiled[pending] @ prototypes.T
    described = [i for i, slug in enumerate(names) if not taught[i]]
    raw = None
    if described:
        descriptions = normalise_rows(
            np.vstack([by_slug[names[j]].description_vector for j in described])
        )
        raw = vectors[pending] @ descriptions.T
    for row, i in enumerate(pending):
        best = int(sims[row].argmax())
        if learned and taught[best] and sims[row, best] >= params.classifier_threshold:
            slugs[i], sources[i], confidence[i] = (
                names[best],
                CLASSIFIER,
                sims[row, best],
            )
            continue
        if raw is not None:
            zero_shot = int(raw[row].argmax())
            if raw[row, zero_shot] >= params.zero_shot_threshold:
                slug = names[described[zero_shot]]
                slugs[i], sources[i], confidence[i] = (
                    slug,
                    TAXONOMY,
                    raw[row, zero_shot],
                )
                continue
        if learned and taught.any():
            scores = np.where(taught, sims[row], -np.inf)
            best = int(scores.argmax())
            if scores[best] >= params.classifier_threshold:
                slugs[i], sources[i], confidence[i] = (
                    names[best],
                    CLASSIFIER,
                    scores[best],
                )


def _corrected_classes(vectors, slugs, sources, known, examples, params):
    """Untaught described classes that people's confirmations have overruled.

    A description is only a prior. When at least ``min_corrections`` confirmed
    items would go zero-shot to a class nobody has confirmed, and people put
    them in other classes, the users' scheme covers that ground: the class stops
    taking items zero-shot until someone confirms an example of it.
    """
    described = [
        c for c in known if c.description_vector is not None and c.slug not in examples
    ]
    confirmed = [i for i, source in enumerate(sources) if source == CONFIRMED]
    if not described or not confirmed:
        return set()
    descriptions = normalise_rows(np.vstack([c.description_vector for c in described]))
    best = (vectors[confirmed] @ descriptions.T).argmax(axis=1)
    counts: dict[str, int] = {}
    for row in best:
        counts[described[row].slug] = counts.get(described[row].slug, 0) + 1
    return {slug for slug, n in counts.items() if n >= params.min_corrections}


def _cluster_rest(
    ids, texts, profiled, slugs, sources, confidence, classes, previous, params
):
    existing = {c.slug: c for c in classes if c.proposed}
    # Sticky: an item keeps the proposed class it had, so adding postmortems
    # never moves existing ones between proposed classes.
    for i, item_id in enumerate(ids):
        slug = previous.get(item_id)
        if slugs[i] is None and slug in existing:
            slugs[i], sources[i] = slug, CLUSTER
    centroids = _existing_centroids(existing, profiled, slugs)
    if centroids:
        names = sorted(centroids)
        matrix = normalise_rows(np.vstack([centroids[s] for s in names]))
        for i in range(len(ids)):
            if slugs[i] is None:
                sims = matrix @ profiled[i]
                best = int(sims.argmax())
                if sims[best] >= params.join_threshold:
                    slugs[i], sources[i] = names[best], CLUSTER

    rest = [i for i, s in enumerate(slugs) if s is None]
    groups = _agglomerate(profiled, rest, params)
    taken = {c.slug for c in classes}
    new_groups: list[list[int]] = []
    for group in groups:
        centroid = normalise_rows(profiled[group].mean(axis=0)[None, :])[0]
        match = _match_existing(centroid, centroids, params.match_threshold)
        if match is not None:
            for i in group:
                slugs[i], sources[i] = match, CLUSTER
        else:
            new_groups.append(group)

    # Name the new groups against every other group so their terms are
    # distinctive (with none, as in most runs after the first, nothing to name).
    terms, targets = [], []
    if new_groups:
        documents, targets = _class_documents(texts, slugs, new_groups)
        terms = class_terms(documents, params.name_terms)
    new_slugs = {}
    for k, group in enumerate(new_groups):
        group_terms = terms[targets[k]] if targets[k] is not None else ()
        slug = _unique_slug(group_terms, taken)
        taken.add(slug)
        new_slugs[slug] = group_terms
        for i in group:
            slugs[i], sources[i] = slug, CLUSTER

    proposed = []
    for slug in sorted(set(existing) | set(new_slugs)):
        members = [
            i for i, s in enumerate(slugs) if s == slug and sources[i] != CONFIRMED
        ]
        if not members and slug not in existing:
            continue
        if members:
            centroid = normalise_rows(profiled[members].mean(axis=0)[None, :])[0]
            sims = profiled[members] @ centroid
            for i, sim in zip(members, sims, strict=True):
                confidence[i] = sim
        else:
            centroid = existing[slug].centroid
        is_new = slug in new_slugs
        group_terms = new_slugs.get(slug, ())
        name = name_from_terms(group_terms) if is_new else ""
        proposed.append(
            ProposedClass(
                slug=slug,
                name=name,
                terms=tuple(group_terms),
                centroid=centroid.astype(np.float32),
                member_ids=tuple(ids[i] for i in members),
                is_new=is_new,
            )
        )
    return proposed


def _existing_centroids(existing, profiled, slugs):
    centroids = {}
    for slug, known in existing.items():
        members = [i for i, s in enumerate(slugs) if s == slug]
        if known.centroid is not None and len(known.centroid) == profiled.shape[1]:
            centroids[slug] = np.asarray(known.centroid, dtype=np.float32)
        elif members:
            centroids[slug] = profiled[members].mean(axis=0)
    return centroids


def _match_existing(centroid, centroids, threshold):
    best, best_sim = None, threshold
    for slug in sorted(centroids):
        other = normalise_rows(np.asarray(centroids[slug])[None, :])[0]
        sim = float(other @ centroid)
        if sim >= best_sim:
            best, best_sim = slug, sim
    return best


def _agglomerate(profiled, rest, params) -> list[list[int]]:
    """Group the leftover items; returns groups ordered by their first item."""
    if len(rest) < max(2, params.min_cluster_size):
        return []
    from scipy.cluster.hierarchy import fcluster, linkage

    points = np.asarray(profiled[rest], dtype=np.float64)
    tree = linkage(points, method="average", metric="cosine")
    threshold = params.cluster_distance_threshold
    if threshold is None:
        threshold = cut_by_silhouette(points, tree, params)
    labels = fcluster(tree, t=threshold, criterion="distance")
    groups: dict[int, list[int]] = {}
    for i, label in zip(rest, labels, strict=True):
        groups.setdefault(int(label), []).append(i)
    kept = [g for g in groups.values() if len(g) >= params.min_cluster_size]
    return sorted(kept, key=lambda g: g[0])


def cut_by_silhouette(points: np.ndarray, tree: np.ndarray, params: Params) -> float:
    """The cut of the average-linkage tree with the best cosine silhouette.

    Candidates are every 0.025 within ``cluster_threshold_range``; the silhouette
    is computed on a fixed sample of at most ``silhouette_sample`` points, so the
    choice is deterministic and cheap. Too few points: the default cut.
    """
    from scipy.cluster.hierarchy import fcluster
    from sklearn.metrics import silhouette_score

    n = len(points)
    if n < 10:
        return params.default_distance_threshold
    index = np.arange(n)
    if n > params.silhouette_sample:
        rng = np.random.default_rng(0)
        index = np.sort(rng.choice(n, size=params.silhouette_sample, replace=False))
    sample = normalise_rows(points[index]).astype(np.float64)
    distances = np.clip(1.0 - sample @ sample.T, 0.0, 2.0)
    np.fill_diagonal(distances, 0.0)
    low, high = params.cluster_threshold_range
    best, best_score = params.default_distance_threshold, -np.inf
    for threshold in np.round(np.arange(low, high + 1e-9, 0.025), 3):
        labels = fcluster(tree, t=threshold, criterion="distance")[index]
        if not 2 <= len(set(labels)) <= len(index) - 1:
            continue
        score = silhouette_score(distances, labels, metric="precomputed")
        if score > best_score:
            best, best_score = float(threshold), score
    return best


def _class_documents(texts, slugs, new_groups):
    """One document per class present (new groups first) for c-TF-IDF."""
    documents: list[str] = []
    targets: list[int | None] = []
    for group in new_groups:
        targets.append(len(documents))
        documents.append(" ".join(texts[i] for i in group))
    others: dict[str, list[str]] = {}
    grouped = {i for g in new_groups for i in g}
    for i, slug in enumerate(slugs):
        if i not in grouped:
            others.setdefault(slug or "", []).append(texts[i])
    for slug in sorted(others):
        documents.append(" ".join(others[slug]))
    return documents, targets


_WORD_PATTERN = r"(?u)\b[a-zA-Z][a-zA-Z0-9_-]{2,}\b"


def class_terms(documents: Sequence[str], top: int = 3) -> list[tuple[str, ...]]:
    """Most distinctive terms of each class document by c-TF-IDF.

    c-TF-IDF (as in BERTopic): ``tf(t, c) * log(1 + A / f(t))`` where ``tf`` is
    the term's frequency in class ``c`` (L1-normalised), ``A`` the average number
    of words per class and ``f(t)`` the term's frequency over all classes.
    """
    if not documents:
        return []
    from sklearn.feature_extraction.text import CountVectorizer

    try:
        counts = CountVectorizer(
            stop_words="english", token_pattern=_WORD_PATTERN, lowercase=True
        ).fit(documents)
    except ValueError:  # only stop words
        return [() for _ in documents]
    matrix = counts.transform(documents).toarray().astype(np.float64)
    vocabulary = counts.get_feature_names_out()
    term_totals = matrix.sum(axis=0)
    words_per_class = matrix.sum(axis=1)
    average_words = words_per_class.mean()
    tf = matrix / np.maximum(words_per_class[:, None], 1.0)
    idf = np.log(1.0 + average_words / np.maximum(term_totals, 1.0))
    scores = tf * idf
    result = []
    for row in scores:
        # Stable sort: ties broken alphabetically via the vocabulary order.
        ranked = np.argsort(-row, kind="stable")
        result.append(tuple(str(vocabulary[j]) for j in ranked[:top] if row[j] > 0))
    return result


def name_from_terms(terms: Sequence[str]) -> str:
    """Human-readable name of a proposed class from its terms."""
    if not terms:
        return "Unnamed proposed class"
    return ", ".join(terms).capitalize()


def _unique_slug(terms: Sequence[str], taken: set[str]) -> str:
    words = "-".join(terms[:2]) or "class"
    base = PROPOSED_SLUG_PREFIX + re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-")
    base = base[:50].rstrip("-")
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug
