"""Quality of the classification pipeline against a labelled corpus.

Pure module behind ``manage.py evaluate_insights``: records in, metrics out. It
runs the product's path (:func:`insights.classifier.fit_predict` on people's
confirmations, then :func:`insights.clustering.classify`) with the starter
taxonomy, and never touches the database.

:func:`compare` scores it beside plain baselines on the same vectors in the
same run: k-means at the true number of classes and at its best silhouette,
agglomerative (Ward) clustering, HDBSCAN, BERTopic, tf-idf + k-means, and
zero-shot against the taxonomy (the nearest of its descriptions and example
statements, and of its descriptions only); with confirmed items, logistic regression and
k-nearest neighbours trained on the same items. Unsupervised labels are matched
to classes one-to-one (Hungarian) for accuracy and macro-F1.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from insights import classifier, clustering
from insights.embeddings import Embedder, normalise_rows
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


def description_text(entry: dict) -> str:
    """A class's first anchor text: its name and description."""
    return f"{entry['name']}. {entry.get('description', '')}".strip()


def anchor_texts(entry: dict) -> list[str]:
    """A described class's texts, each embedded on its own: its description
    (with its name), then its example cause statements."""
    examples = entry.get("examples") or []
    if isinstance(examples, str):  # one example, not a list of them
        examples = [examples]
    examples = [str(e).strip() for e in examples]
    return [description_text(entry)] + [e for e in examples if e]


def class_anchors(
    slug: str, texts: Sequence[str], vectors: np.ndarray
) -> clustering.KnownClass:
    """One described class for the pipeline, from its :func:`anchor_texts` and
    their vectors: its prototype is the normalised mean of them all (so one
    phrasing does not stand for the class)."""
    unit = normalise_rows(np.asarray(vectors, dtype=np.float32))
    return clustering.KnownClass(
        slug=slug,
        description_vector=normalise_rows(unit.mean(axis=0, keepdims=True))[0],
        anchor_texts=tuple(texts),
        anchor_vectors=unit,
    )


def classes_from_anchors(
    slugs: Sequence[str], groups: Sequence[Sequence[str]], vectors: np.ndarray
) -> list[clustering.KnownClass]:
    """:func:`class_anchors` for each class, its texts' vectors given one after
    the other in ``groups`` order (one encode call for them all)."""
    known, start = [], 0
    for slug, group in zip(slugs, groups, strict=True):
        known.append(class_anchors(slug, group, vectors[start : start + len(group)]))
        start += len(group)
    return known


def known_examples(known: Sequence[clustering.KnownClass]) -> list[classifier.Example]:
    """Described classes as classifier examples, one per anchor text: the
    description (a zero-shot prior), then each example statement as a
    labelled text. Proposed classes have none."""
    return [
        classifier.Example(slug=k.slug, vector=vector, text=text, description=i == 0)
        for k in known
        if k.anchor_vectors is not None and not k.proposed
        for i, (text, vector) in enumerate(
            zip(k.anchor_texts, k.anchor_vectors, strict=True)
        )
    ]


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
    labels, _ = hindsight_labels(
        ids=ids,
        vectors=vectors,
        texts=[r["text"] for r in records],
        embedder=embedder,
        confirmed=confirmed,
        params=params,
    )
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


def taxonomy_examples(
    embedder: Embedder,
) -> tuple[list[clustering.KnownClass], list[classifier.Example]]:
    """The starter taxonomy as known classes and as classifier examples."""
    taxonomy = load_taxonomy()
    texts = [anchor_texts(entry) for entry in taxonomy]
    vectors = embedder.encode([t for group in texts for t in group])
    known = classes_from_anchors([e["slug"] for e in taxonomy], texts, vectors)
    return known, known_examples(known)


def hindsight_labels(
    *,
    ids: Sequence,
    vectors: np.ndarray,
    texts: Sequence[str],
    embedder: Embedder,
    confirmed: dict,
    params: clustering.Params | None = None,
    model_params: classifier.Params | None = None,
) -> tuple[dict, dict]:
    """The product's classes per id, and the classes it is sure of (None
    where the classifier's confidence is below its validated threshold).

    As a full run does for a postmortem: the validated classifier where it is
    sure, then the prototype, zero-shot and clustering stages.
    """
    known, examples = taxonomy_examples(embedder)
    outcome = classifier.fit_predict(
        ids=ids,
        vectors=vectors,
        texts=texts,
        labels=confirmed,
        examples=examples,
        params=model_params or classifier.Params(),
    )
    supervised = None
    if outcome.threshold is not None:
        supervised = {p.item_id: (p.slug, p.confidence) for p in outcome.predictions}
    result = clustering.classify(
        ids=ids,
        vectors=vectors,
        texts=texts,
        classes=known,
        confirmed=confirmed,
        params=params or clustering.Params(),
        supervised=supervised,
    )
    shown = result.labels()
    sure = dict(shown)
    if outcome.threshold is not None:
        for p in outcome.predictions:
            if p.item_id not in confirmed and p.slug is None:
                sure[p.item_id] = None
    return shown, sure


def scores(y_true: Sequence[str], y_pred: Sequence, *, match: bool) -> dict:
    """AMI, ARI, accuracy and macro-F1. ``match``: predicted labels are
    anonymous clusters, matched one-to-one to classes (Hungarian) first."""
    from scipy.optimize import linear_sum_assignment
    from sklearn import metrics

    y_pred = [NOISE_LABEL if p is None else str(p) for p in y_pred]
    out = {
        "ami": metrics.adjusted_mutual_info_score(y_true, y_pred),
        "ari": metrics.adjusted_rand_score(y_true, y_pred),
    }
    mapped = list(y_pred)
    if match:
        classes = sorted(set(y_true))
        clusters = sorted(set(y_pred))
        table = np.zeros((len(clusters), len(classes)))
        for t, p in zip(y_true, y_pred, strict=True):
            table[clusters.index(p), classes.index(t)] += 1
        rows, cols = linear_sum_assignment(-table)
        assigned = {clusters[r]: classes[c] for r, c in zip(rows, cols, strict=True)}
        mapped = [assigned.get(p, NOISE_LABEL) for p in y_pred]
    out["accuracy"] = metrics.accuracy_score(y_true, mapped)
    out["macro_f1"] = metrics.f1_score(
        y_true, mapped, labels=sorted(set(y_true)), average="macro", zero_division=0
    )
    return out


def _kmeans(x, k, seed):
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(x)


def _best_silhouette_kmeans(x, k_true, seed):
    from sklearn.metrics import silhouette_score

    best, best_score = None, -np.inf
    for k in range(2, max(3, min(2 * k_true + 1, len(x) // 2))):
        labels = _kmeans(x, k, seed)
        score = silhouette_score(x, labels, metric="cosine")
        if score > best_score:
            best, best_score = labels, score
    return best


def baseline_labels(
    name: str,
    *,
    vectors: np.ndarray,
    texts: Sequence[str],
    k: int,
    seed: int,
    anchors: np.ndarray | None = None,
    anchor_slugs: Sequence[str] = (),
    anchor_descriptions: Sequence[bool] = (),
) -> list:
    """One unsupervised baseline's labels (same vectors, fixed seed)."""
    x = normalise_rows(vectors)
    if name == "k-means (true k)":
        return list(_kmeans(x, k, seed))
    if name == "k-means (best silhouette k)":
        return list(_best_silhouette_kmeans(x, k, seed))
    if name == "agglomerative (Ward, true k)":
        from sklearn.cluster import AgglomerativeClustering

        return list(AgglomerativeClustering(n_clusters=k).fit_predict(x))
    if name == "HDBSCAN":
        from sklearn.cluster import HDBSCAN

        return list(HDBSCAN(min_cluster_size=5, copy=True).fit_predict(x))
    if name == "tf-idf + k-means (true k)":
        from sklearn.feature_extraction.text import TfidfVectorizer

        words = TfidfVectorizer(stop_words="english", sublinear_tf=True)
        return list(_kmeans(words.fit_transform(texts), k, seed))
    if name == "zero-shot (taxonomy)":
        # Nearest of every anchor text: descriptions and example statements.
        return [anchor_slugs[j] for j in (x @ normalise_rows(anchors).T).argmax(axis=1)]
    if name == "zero-shot (descriptions only)":
        keep = [j for j, described in enumerate(anchor_descriptions) if described]
        sims = x @ normalise_rows(anchors[keep]).T
        return [anchor_slugs[keep[j]] for j in sims.argmax(axis=1)]
    if name == "BERTopic":
        from bertopic import BERTopic
        from umap import UMAP

        umap = UMAP(
            n_neighbors=min(15, len(x) - 1),
            n_components=5,
            min_dist=0.0,
            metric="cosine",
            random_state=seed,
        )
        model = BERTopic(
            umap_model=umap, min_topic_size=5, calculate_probabilities=False
        )
        topics, _ = model.fit_transform(list(texts), embeddings=x)
        return list(topics)
    raise ValueError(name)


UNSUPERVISED_BASELINES = (
    "k-means (true k)",
    "k-means (best silhouette k)",
    "agglomerative (Ward, true k)",
    "HDBSCAN",
    "BERTopic",
    "tf-idf + k-means (true k)",
    "zero-shot (taxonomy)",
    "zero-shot (descriptions only)",
)
SUPERVISED_BASELINES = (
    "logistic regression",
    "1-nearest neighbour",
    "5-nearest neighbours",
)


def supervised_baseline(name, x_train, y_train, x_test):
    if name == "logistic regression":
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(max_iter=2000)
    else:
        from sklearn.neighbors import KNeighborsClassifier

        model = KNeighborsClassifier(
            n_neighbors=1 if name.startswith("1-") else 5, metric="cosine"
        )
    return list(model.fit(x_train, y_train).predict(x_test))


def compare(
    records: Sequence[dict],
    embedder: Embedder,
    *,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    train_fraction: float | None = None,
    baselines: Sequence[str] | None = None,
    model_params: classifier.Params | None = None,
) -> dict:
    """Hindsight beside the baselines, per seed: ``{method: [scores per seed]}``.

    Unsupervised (no ``train_fraction``): every record scored. With
    ``train_fraction``, each seed confirms a different random fraction, and
    every method (Hindsight, logistic regression, k-NN) is scored on the rest.
    """
    from threadpoolctl import threadpool_limits

    records = single_label_records(records)
    ids = [str(r["id"]) for r in records]
    texts = [r["text"] for r in records]
    truth = [r["labels"][0] for r in records]
    vectors = normalise_rows(embedder.encode(texts))
    k = len(set(truth))
    _, examples = taxonomy_examples(embedder)
    anchors = np.vstack([e.vector for e in examples])
    anchor_slugs = [e.slug for e in examples]
    anchor_descriptions = [e.description for e in examples]
    results: dict[str, list[dict]] = {}

    def add(name, row):
        results.setdefault(name, []).append(row)

    for seed in seeds:
        confirmed: dict[str, str] = {}
        test = list(range(len(records)))
        if train_fraction:
            rng = np.random.default_rng(seed)
            n_train = int(round(train_fraction * len(records)))
            chosen = sorted(rng.choice(len(records), size=n_train, replace=False))
            confirmed = {ids[i]: truth[i] for i in chosen}
            test = [i for i in range(len(records)) if ids[i] not in confirmed]
        y_true = [truth[i] for i in test]
        with threadpool_limits(limits=1, user_api="blas"):
            shown, best = hindsight_labels(
                ids=ids,
                vectors=vectors,
                texts=texts,
                embedder=embedder,
                confirmed=confirmed,
                model_params=model_params,
            )
        add(
            "Hindsight",
            scores(y_true, [shown[ids[i]] for i in test], match=not train_fraction),
        )
        if train_fraction:
            kept = [i for i in test if best[ids[i]] is not None]
            if kept:
                row = scores(
                    [truth[i] for i in kept], [best[ids[i]] for i in kept], match=False
                )
                row["coverage"] = len(kept) / len(test)
                add("Hindsight, above its abstention threshold only", row)
            train = [i for i in range(len(records)) if ids[i] in confirmed]
            for name in baselines or SUPERVISED_BASELINES:
                if name not in SUPERVISED_BASELINES:
                    continue
                predicted = supervised_baseline(
                    name, vectors[train], [truth[i] for i in train], vectors[test]
                )
                add(name, scores(y_true, predicted, match=False))
            continue
        for name in baselines or UNSUPERVISED_BASELINES:
            if name not in UNSUPERVISED_BASELINES:
                continue
            try:
                labels = baseline_labels(
                    name,
                    vectors=vectors,
                    texts=texts,
                    k=k,
                    seed=seed,
                    anchors=anchors,
                    anchor_slugs=anchor_slugs,
                    anchor_descriptions=anchor_descriptions,
                )
            except ImportError as exc:  # BERTopic is a bench-only dependency
                results.setdefault(f"{name} (not run: {exc.name} missing)", [])
                continue
            add(name, scores(y_true, labels, match=True))
    return {
        "n": len(records),
        "classes": k,
        "train_fraction": train_fraction,
        "seeds": list(seeds),
        "methods": results,
    }


def learnability(
    records: Sequence[dict],
    embedder: Embedder,
    *,
    folds: int = 5,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
) -> tuple[float, float, float]:
    """How well the corpus's labels can be learnt from these vectors by a
    plain model given most of them: logistic regression's accuracy with
    (folds - 1)/folds of the records labelled (stratified cross-validation,
    mean and standard deviation over ``seeds`` shuffles), and the share of
    the commonest label (what always answering it scores). A reference, not
    a ceiling: a method that knows more (the taxonomy's examples) can pass
    it. Near that share, 25% confirmed cannot tell methods apart."""
    from collections import Counter

    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    records = single_label_records(records)
    truth = [r["labels"][0] for r in records]
    vectors = normalise_rows(embedder.encode([r["text"] for r in records]))
    scores = [
        cross_val_score(
            LogisticRegression(max_iter=2000),
            vectors,
            truth,
            cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
        ).mean()
        for seed in seeds
    ]
    majority = Counter(truth).most_common(1)[0][1] / len(truth)
    return float(np.mean(scores)), float(np.std(scores)), majority


def summarise(comparison: dict) -> dict:
    """Mean and standard deviation over seeds of every score of every method."""
    out = {}
    for name, rows in comparison["methods"].items():
        if not rows:
            continue
        out[name] = {
            key: {
                "mean": round(float(np.mean([r[key] for r in rows])), 4),
                "sd": round(float(np.std([r[key] for r in rows])), 4),
            }
            for key in rows[0]
        }
    return out
