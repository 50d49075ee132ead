"""Supervised classification of cause statements: plain data in, predictions out.

Pure module: no ORM; ``sklearn`` and ``scipy`` are imported inside functions.

What a person confirms teaches it. The classifier is a multinomial logistic
regression over the sentence embedding and, beside it, tf-idf word and word-pair
features (people name failures with words a small embedding blurs: "TOAST",
"NXDOMAIN", "MTU"). Class descriptions count as extra, down-weighted examples, so
a class with no confirmation yet is not unknown. Label spreading over every
statement, labelled or not, then lets the unlabelled ones vote: its class
distribution is blended with the regression's.

Each class's example statements are labelled items like people's confirmations
(weighted as its description), so a class nobody has confirmed yet is learnt
from them, and they spread their class to their neighbours too.

Abstention is decided by validation, never by hand: people's confirmations are
cross-validated (the example statements too, until people have confirmed
``min_examples`` items; such a threshold is reported as validated on the
examples), and the confidence threshold kept is the one that maximises
(right answers − ``abstain_cost`` × wrong answers) among the predictions it
lets through (Chow's rule with a validated, not assumed, calibration). Below it
the classifier abstains and the statement is left to the zero-shot and
clustering stages.

``teach_scores`` orders the statements whose confirmation would teach the most:
uncertainty (one minus the margin between the two best classes) weighted by how
many other uncertain statements sit close to it (information density, Settles
and Craven 2008), so one answer settles a neighbourhood, not one outlier.
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from insights.embeddings import normalise_rows

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
# Blend weights (regression, prototype, prior) tried by cross-validation: a
# simplex grid in steps of 0.25, and the softmax temperatures.
BLEND_STEP = 0.25
TEMPERATURES = (0.02, 0.05, 0.1)
# Items sampled to estimate a neighbourhood's density beyond this many items.
DENSITY_SAMPLE = 4096
# Beyond this many unlabelled items, label spreading links each item to its
# nearest anchors (labelled items and this many others), not to every item.
SPREAD_ANCHORS = 2048


@dataclass(frozen=True)
class Params:
    """Classifier parameters (chosen by bench/insights_quality_bench.py across
    every development corpus, never on one)."""

    # Inverse regularisation: unit-length embeddings need a weak penalty.
    C: float = 10.0
    lexical_weight: float = 0.5
    description_weight: float = 0.5
    spread_weight: float = 0.3
    spread_neighbours: int = 7
    spread_alpha: float = 0.2
    # Cost of a wrong class shown to people, in right answers (Chow's rule).
    # 2: a wrong "this came back" headline is worse than none. Against 1, on
    # the synthetic corpus (25% confirmed, 5 seeds) accuracy went 0.504 ->
    # 0.513 and above the threshold 0.74 -> 0.88 (coverage 0.29 -> 0.12); on
    # the demo, wrong-class headlines 2 of 6 -> 0 of 5, primary classes in
    # their intended class 9 -> 8 of 23.
    abstain_cost: float = 2.0
    folds: int = 5
    # Fewer labelled items than this (people's and example statements): no
    # validation is possible, so the classifier abstains on everything and the
    # other stages decide. People's labels alone validate from this many on.
    min_examples: int = 4
    # A class people made themselves, with no example statements of its own,
    # adopts the examples of a described class when more of people's
    # statements nearest that class are in it than this pseudo-count plus
    # those in the described class itself (see _adopt_examples).
    adopt_prior: float = 1.0
    density_threshold: float = 0.6
    # How many standard errors of cross-validated accuracy a richer blend
    # must win by (_choose_blend). On the quality benchmark, 0 (the best
    # score wins) did worse unsupervised on the synthetic corpus and the demo;
    # 0.5 and 1 (Breiman's rule) tie there and on the cloud reports, and only
    # the demo as the product runs it tells them apart: 1 put 3 of 9 "came
    # back" headlines on a wrong class and 13 (not 15) of 23 primaries right.
    # A choice on one corpus's fragile figures, said as such in BENCHMARKS.md.
    blend_tolerance: float = 0.5
    # The class descriptions' zero-shot distribution blended in as a prior:
    # weight and softmax temperature. None: chosen by cross-validation among
    # the blend grid below (a single run passes the full run's choice).
    prior_weight: float | None = None
    prior_temperature: float | None = None
    # Nearest-prototype distribution (class centroid of the confirmed items,
    # the description counted as one of them), blended the same way.
    proto_weight: float | None = None
    proto_temperature: float | None = None

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Prediction:
    """One statement's outcome. ``slug`` is None when the classifier abstained;
    ``best`` is its best guess either way."""

    item_id: Hashable
    slug: str | None
    best: str | None
    confidence: float
    runner_up: str | None
    margin: float

    @property
    def abstained(self) -> bool:
        return self.slug is None


@dataclass
class Outcome:
    predictions: list[Prediction]
    threshold: float | None
    # Cross-validation of the labelled items that chose the threshold
    # (``validated_on``: "people" or "examples").
    validation: dict = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)
    # Each confirmed item's cross-validated (confidence, right answer): what a
    # caller needs to validate a subset of the items on its own.
    cross_validated: dict = field(default_factory=dict)

    def by_id(self) -> dict:
        return {p.item_id: p for p in self.predictions}


@dataclass(frozen=True, order=True)
class _ExampleId:
    """The id of a labelled example among the items (never a caller's id)."""

    index: int
    # A text people confirmed: it weighs as their label does.
    confirmed: bool = False


@dataclass(frozen=True)
class Example:
    """A labelled text outside the items: a class description (a zero-shot
    prior, weighted as ``description_weight``), one of a class's example
    statements, or a statement people confirmed (both become labelled items)."""

    slug: str
    vector: np.ndarray
    text: str
    # A class description (also a zero-shot prior), or a labelled text: one
    # of the class's example statements, or one people confirmed.
    description: bool = True
    confirmed: bool = False


def _lexical(texts: Sequence[str]):
    """tf-idf word and word-pair features of ``texts`` (None when no text has
    a usable word)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        return TfidfVectorizer(
            ngram_range=(1, 2),
            min_df=1,
            sublinear_tf=True,
            stop_words="english",
            token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9_.-]+\b",
        ).fit_transform(texts)
    except ValueError:  # no usable word at all
        return None


@dataclass(frozen=True)
class _Features:
    """Rows of features kept apart: the unit embedding (dense) and the
    weighted tf-idf words of the same texts (sparse, or None). Stacking them
    for every item cost more than the whole regression; only the few training
    rows are ever stacked."""

    dense: np.ndarray
    words: object | None

    def rows(self, index):
        """The stacked rows ``index`` (sparse), to train on."""
        from scipy import sparse

        dense = sparse.csr_matrix(self.dense[index])
        if self.words is None:
            return dense
        return sparse.hstack([dense, self.words[index]], format="csr")

    def all_rows(self):
        return self.rows(np.arange(len(self.dense)))


def _features(vectors, words, params) -> _Features:
    """The embedding beside the (weighted) tf-idf rows ``words`` of the same
    texts, or the embedding alone."""
    if words is None or params.lexical_weight <= 0:
        return _Features(normalise_rows(vectors), None)
    return _Features(normalise_rows(vectors), words * params.lexical_weight)


def _fit_proba(train_x, train_y, train_w, test: _Features, classes, params):
    """Class probabilities of the ``test`` rows (columns in ``classes`` order)."""
    from scipy.special import expit, softmax
    from sklearn.linear_model import LogisticRegression

    present = sorted(set(train_y))
    out = np.zeros((len(test.dense), len(classes)))
    column = {c: j for j, c in enumerate(classes)}
    if len(present) == 1:
        out[:, column[present[0]]] = 1.0
        return out
    model = LogisticRegression(C=params.C, max_iter=2000)
    with warnings.catch_warnings():
        # Few examples per class is the normal case here, not a mistake.
        warnings.simplefilter("ignore", UserWarning)
        model.fit(train_x, train_y, sample_weight=train_w)
    # predict_proba's own sums over the two blocks of features, without
    # stacking them for every item: the softmax of the decision function, or
    # with two classes the logistic of its one column.
    width = test.dense.shape[1]
    decision = test.dense @ model.coef_[:, :width].T + model.intercept_
    if test.words is not None:
        decision = decision + np.asarray(test.words @ model.coef_[:, width:].T)
    if len(model.classes_) > 2:
        proba = softmax(decision, axis=1)
    else:
        positive = expit(decision[:, 0])
        proba = np.column_stack([1.0 - positive, positive])
    for j, label in enumerate(model.classes_):
        out[:, column[label]] = proba[:, j]
    return out


@dataclass(frozen=True)
class _Inputs:
    """What every fit of one call shares, computed once: the items' and the
    descriptions' features, and the items' kNN graph for label spreading
    (None when spreading does not apply)."""

    x_items: _Features
    x_examples: _Features | None
    example_slugs: list[str]
    graph: object | None


def _prepare(vectors, texts, labels, examples, params) -> _Inputs:
    from scipy import sparse

    words = None
    if params.lexical_weight > 0:
        words = _lexical(list(texts) + [e.text for e in examples])
    n = len(texts)
    labelled = [i for i, label in enumerate(labels) if label is not None]
    if words is not None:
        # Only words some labelled text uses can get a weight (L2 keeps every
        # other at exactly zero), so the regression is fitted on those alone:
        # the same model, on a few thousand columns instead of every word and
        # word pair of every statement.
        words = words.tocsr()
        training = [words[labelled]] + ([words[n:]] if examples else [])
        used = np.unique(sparse.vstack(training, format="csr").indices)
        words = words[:, used]
    x_items = _features(vectors, words[:n] if words is not None else None, params)
    x_examples = None
    if examples:
        x_examples = _features(
            np.vstack([e.vector for e in examples]),
            words[n:] if words is not None else None,
            params,
        )
    graph = None
    if params.spread_weight > 0 and len(vectors) > params.spread_neighbours:
        graph = _knn_graph(normalise_rows(vectors), labelled, params.spread_neighbours)
    return _Inputs(
        x_items=x_items,
        x_examples=x_examples,
        example_slugs=[e.slug for e in examples],
        graph=graph,
    )


def _knn_graph(unit: np.ndarray, labelled: Sequence[int], k: int):
    """The kNN connectivity graph label spreading runs on, built once for the
    final fit and every cross-validation fold (only the labels differ).

    Up to ``SPREAD_ANCHORS`` unlabelled items it is the graph
    ``LabelSpreading(kernel="knn")`` builds. Beyond, each item links to its
    ``k`` nearest among anchors: every labelled item and a fixed sample of the
    others. Labels then spread anchor to anchor and reach every item, and the
    cost grows with the items times the anchors, not with the square of the
    items. It is an approximation, not the exact graph: only anchors pass
    labels on, and the normalisation by in-degree over all items weakens
    anchor-to-anchor spreading (a reviewer's scaled-down check, 3,000 items and 360
    anchors, gave 0.929 accuracy on the unlabelled items against 0.926 for the
    exact graph).
    """
    from scipy import sparse
    from sklearn.neighbors import NearestNeighbors

    n = len(unit)
    if n <= SPREAD_ANCHORS + len(labelled):
        return (
            NearestNeighbors(n_neighbors=k)
            .fit(unit)
            .kneighbors_graph(unit, k, mode="connectivity")
        )
    others = np.setdiff1d(np.arange(n), labelled)
    sample = np.random.default_rng(0).choice(others, SPREAD_ANCHORS, replace=False)
    anchors = np.union1d(np.asarray(labelled, dtype=int), sample)
    nearest = (
        NearestNeighbors(n_neighbors=k)
        .fit(unit[anchors])
        .kneighbors(unit, return_distance=False)
    )
    columns = anchors[nearest].ravel()
    rows = np.repeat(np.arange(n), k)
    return sparse.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(n, n))


def _spread(inputs: _Inputs, labels, classes, params) -> np.ndarray | None:
    """Label spreading over all items (kNN graph); None when not applicable."""
    known = [i for i, label in enumerate(labels) if label is not None]
    if inputs.graph is None or not known:
        return None
    from sklearn.semi_supervised import LabelSpreading

    column = {c: j for j, c in enumerate(classes)}
    y = np.full(len(labels), -1)
    for i in known:
        y[i] = column[labels[i]]
    graph = inputs.graph
    model = LabelSpreading(
        kernel=lambda _x, _y: graph,
        alpha=params.spread_alpha,
        max_iter=100,
    )
    # The kernel ignores the features: one column is enough to fit on.
    model.fit(np.zeros((len(labels), 1)), y)
    out = np.zeros((len(labels), len(classes)))
    distributions = np.nan_to_num(model.label_distributions_)
    for j, label in enumerate(model.classes_):
        out[:, int(label)] = distributions[:, j]
    sums = out.sum(axis=1, keepdims=True)
    sums[sums == 0] = 1.0
    return out / sums


def _probabilities(inputs: _Inputs, labels, classes, params, weights):
    """Regression and label-spreading probabilities for every item (the
    second None when spreading does not apply); :func:`_blend` mixes them.

    ``weights``: each item's weight as a training example (a class's example
    statement counts as its description does; a person's label fully)."""
    from scipy import sparse

    known = [i for i, label in enumerate(labels) if label is not None]
    rows = [inputs.x_items.rows(known)]
    y = [labels[i] for i in known]
    w = [float(weights[i]) for i in known]
    if inputs.x_examples is not None:
        rows.append(inputs.x_examples.all_rows())
        y += inputs.example_slugs
        w += [params.description_weight] * len(inputs.example_slugs)
    train_x = sparse.vstack(rows, format="csr")
    proba = _fit_proba(train_x, y, np.asarray(w), inputs.x_items, classes, params)
    return proba, _spread(inputs, labels, classes, params)


def choose_threshold(
    confidences: Sequence[float], correct: Sequence[bool], cost: float
) -> tuple[float, dict]:
    """The confidence threshold that maximises right − cost × wrong answers kept.

    Candidates are the observed confidences (accept at or above); ties go to the
    lower threshold, which keeps more answers. Returns (threshold, figures).
    """
    conf = np.asarray(confidences, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    if len(conf) == 0:
        return 1.0, {"validated": 0}
    order = np.argsort(-conf, kind="stable")
    gains = np.where(ok[order], 1.0, -cost)
    cumulative = np.cumsum(gains)
    # Only cut between distinct confidences.
    sorted_conf = conf[order]
    best_gain, best_k = 0.0, 0
    for k in range(1, len(conf) + 1):
        if k < len(conf) and sorted_conf[k] == sorted_conf[k - 1]:
            continue
        if cumulative[k - 1] > best_gain:
            best_gain, best_k = cumulative[k - 1], k
    if best_k == 0:
        threshold = float(np.nextafter(sorted_conf[0], np.inf))
    else:
        threshold = float(sorted_conf[best_k - 1])
    kept = conf >= threshold
    figures = {
        "validated": int(len(conf)),
        "accuracy": round(float(ok.mean()), 4),
        "coverage": round(float(kept.mean()), 4),
        "precision": round(float(ok[kept].mean()), 4) if kept.any() else None,
    }
    return threshold, figures


def _validate(inputs, vectors, labels, examples, classes, params, weights, held):
    """Cross-validated class probabilities of the ``held`` items (labelled
    ones, in item order), and their indexes; the other labelled items always
    stay in training."""
    from sklearn.model_selection import KFold, StratifiedKFold

    known = np.asarray(held)
    folds = min(params.folds, len(known))
    cv = np.zeros((len(labels), len(classes)))
    cv_spread = None
    proto = np.zeros((len(labels), len(classes)))
    truth = [labels[i] for i in known]
    # Stratified where some class has a label per fold: every fold then holds
    # out its share of each class, so the threshold does not hang on which
    # class a shuffle happened to hold out whole.
    if max(Counter(truth).values()) >= folds:
        splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    else:
        splitter = KFold(folds, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # classes of few labels
        splits = list(splitter.split(known, truth))
    for _train, test in splits:
        masked = list(labels)
        for i in known[test]:
            masked[i] = None
        proba, spread = _probabilities(inputs, masked, classes, params, weights)
        cv[known[test]] = proba[known[test]]
        if spread is not None:
            if cv_spread is None:
                cv_spread = np.zeros_like(cv)
            cv_spread[known[test]] = spread[known[test]]
        proto[known[test]] = _prototype_sims(vectors, masked, examples, classes)[
            known[test]
        ]
    spread_known = cv_spread[known] if cv_spread is not None else None
    return (cv[known], spread_known), proto[known], known


def _prior_sims(vectors, examples, classes) -> np.ndarray | None:
    """Cosine to each class's description (-inf without one); None when no
    class has a description."""
    described = [e for e in examples if e.description]
    if not described:
        return None
    column = {c: j for j, c in enumerate(classes)}
    anchors = normalise_rows(np.vstack([e.vector for e in described]))
    sims = normalise_rows(vectors) @ anchors.T
    per_class = np.full((len(vectors), len(classes)), -np.inf)
    for k, e in enumerate(described):
        j = column[e.slug]
        per_class[:, j] = np.maximum(per_class[:, j], sims[:, k])
    return per_class


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    logits = scores / temperature
    logits = logits - np.max(
        np.where(np.isfinite(logits), logits, -np.inf), axis=1, keepdims=True
    )
    weights = np.where(np.isfinite(logits), np.exp(logits), 0.0)
    sums = weights.sum(axis=1, keepdims=True)
    sums[sums == 0] = 1.0
    return weights / sums


def _prototype_sims(vectors, labels, examples, classes) -> np.ndarray:
    """Cosine to each class's prototype: the normalised sum of its labelled
    items (people's and example statements) and description(s); -inf for a
    class with neither."""
    column = {c: j for j, c in enumerate(classes)}
    totals = np.zeros((len(classes), vectors.shape[1]))
    unit = normalise_rows(vectors)
    for i, label in enumerate(labels):
        if label is not None:
            totals[column[label]] += unit[i]
    for e in examples:
        totals[column[e.slug]] += normalise_rows(np.asarray(e.vector)[None, :])[0]
    present = np.linalg.norm(totals, axis=1) > 0
    sims = unit @ normalise_rows(totals).T
    sims[:, ~present] = -np.inf
    return sims


def _blend(model, proto_sims, prior_sims, choice) -> np.ndarray:
    """``model`` is (regression, spreading or None); ``choice`` is (spreading's
    share of the model, prototype weight, its temperature, prior weight, its
    temperature)."""
    w_spread, w_proto, t_proto, w_prior, t_prior = choice
    lr, spread = model
    if w_spread and spread is not None:
        lr = (1 - w_spread) * lr + w_spread * spread
    out = (1 - w_proto - w_prior) * lr
    if w_proto:
        out = out + w_proto * _softmax(proto_sims, t_proto)
    if w_prior and prior_sims is not None:
        out = out + w_prior * _softmax(prior_sims, t_prior)
    return out


def _fixed_blend(params) -> tuple:
    return (
        params.spread_weight,
        params.proto_weight or 0.0,
        params.proto_temperature or TEMPERATURES[0],
        params.prior_weight or 0.0,
        params.prior_temperature or TEMPERATURES[0],
    )


def _choose_blend(model, proto_sims, prior_sims, truth, classes, params):
    """The blend (see :func:`_blend`) chosen by cross-validated accuracy, by
    a standard-error rule: the simplest candidate whose accuracy is within
    ``blend_tolerance`` standard errors of the best one's. Few labels cannot
    tell a richer blend from noise (a grid of them, scored on thirty labels,
    picks whichever was lucky on them); then the plain regression is kept.
    Simpler means fewer parts mixed in (spreading, prototypes, prior), then
    less prototype and prior weight, then no spreading; among equals, the
    sharper softmax temperature first."""
    if params.proto_weight is not None or params.prior_weight is not None:
        return _fixed_blend(params)
    steps = np.round(np.arange(0, 1 + 1e-9, BLEND_STEP), 2)
    spreads = [0.0]
    if model[1] is not None and params.spread_weight > 0:
        spreads.append(params.spread_weight)
    candidates = []
    for w_spread in spreads:
        for w_proto in steps:
            for w_prior in steps:
                if w_proto + w_prior > 1 + 1e-9 or (w_prior and prior_sims is None):
                    continue
                for t_proto in TEMPERATURES if w_proto else TEMPERATURES[:1]:
                    for t_prior in TEMPERATURES if w_prior else TEMPERATURES[:1]:
                        candidates.append(
                            (w_spread, float(w_proto), t_proto, float(w_prior), t_prior)
                        )
    candidates.sort(
        key=lambda c: (sum(1 for w in (c[0], c[1], c[3]) if w), c[1] + c[3], c[0])
    )
    truth = np.asarray(truth)
    names = np.asarray(classes)
    accuracy = np.array(
        [
            float(
                np.mean(
                    names[_blend(model, proto_sims, prior_sims, c).argmax(axis=1)]
                    == truth
                )
            )
            for c in candidates
        ]
    )
    best = float(accuracy.max())
    standard_error = np.sqrt(best * (1 - best) / max(1, len(truth)))
    within = accuracy >= best - params.blend_tolerance * standard_error - 1e-9
    return candidates[int(np.argmax(within))]


def fit_predict(
    *,
    ids: Sequence[Hashable],
    vectors: np.ndarray,
    texts: Sequence[str],
    labels: Mapping[Hashable, str],
    examples: Sequence[Example] = (),
    params: Params = Params(),
    threshold: float | None = None,
    allowed: Mapping[Hashable, Collection[str]] | None = None,
) -> Outcome:
    """Train on the labelled items (and ``examples``), predict every item.

    ``labels`` maps item ids to people's classes. With ``threshold`` given (a
    single-postmortem run reusing the last full run's), no validation is done.
    ``allowed`` restricts some items to some classes: such an item takes the
    allowed class the model finds likeliest, with that class's own probability
    (never renormalised over the allowed ones, so an item the model puts
    elsewhere stays below the threshold). Items are ordered by id first, so the
    caller's order never matters.
    """
    n = len(ids)
    order = sorted(range(n), key=lambda i: ids[i])
    ids = [ids[i] for i in order]
    texts = [texts[i] for i in order]
    vectors = np.asarray(vectors, dtype=np.float32)[order] if n else vectors
    item_labels = [labels.get(item_id) for item_id in ids]
    # A labelled text (not a description) is one more labelled item: it is
    # cross-validated with people's labels and spreads its class to its
    # neighbours. Its predictions are dropped again below.
    labelled = sorted(
        (e for e in examples if not e.description),
        key=lambda e: (e.slug, e.text, e.confirmed),
    )
    examples = [e for e in examples if e.description]
    labelled = _adopt_examples(
        labelled,
        examples,
        vectors,
        item_labels,
        params,
        restricted=[allowed.get(i) for i in ids] if allowed else None,
    )
    if n and labelled:
        ids = ids + [_ExampleId(k, e.confirmed) for k, e in enumerate(labelled)]
        texts = texts + [e.text for e in labelled]
        vectors = np.vstack([vectors, np.vstack([e.vector for e in labelled])])
        item_labels = item_labels + [e.slug for e in labelled]
    known = [i for i, label in enumerate(item_labels) if label is not None]
    classes = sorted(
        {label for label in item_labels if label} | {e.slug for e in examples}
    )
    # A threshold given was validated elsewhere (the last full run): the labels
    # may then all be in ``examples``.
    too_few = threshold is None and len(known) < params.min_examples
    if n == 0 or too_few or len(classes) < 2:
        return Outcome(
            predictions=[Prediction(i, None, None, 0.0, None, 0.0) for i in ids[:n]],
            threshold=None,
            validation={"validated": len(known), "reason": "too few confirmed"},
            classes=classes,
        )
    # Many small solver steps: BLAS threads only contend with each other (and
    # with the web and worker processes); one thread was 6x faster here.
    from threadpoolctl import threadpool_limits

    mask = np.ones((len(ids), len(classes)), dtype=bool)
    for i, item_id in enumerate(ids):
        if allowed and item_id in allowed:
            mask[i] = [c in allowed[item_id] for c in classes]
    with threadpool_limits(limits=1, user_api="blas"):
        outcome = _fit_predict(
            ids, vectors, texts, item_labels, examples, classes, params, threshold, mask
        )
    if labelled:
        outcome.predictions = [
            p for p in outcome.predictions if not isinstance(p.item_id, _ExampleId)
        ]
        outcome.cross_validated = {
            k: v
            for k, v in outcome.cross_validated.items()
            if not isinstance(k, _ExampleId)
        }
    return outcome


def _adopt_examples(
    labelled, descriptions, vectors, item_labels, params, restricted=None
):
    """Example statements relabelled to the classes people use for them.

    A team that files its incidents under classes of its own (no description,
    no examples) confirms into those, and a starter class's examples would
    otherwise keep teaching a class nobody picks. Each statement people
    labelled is placed at the nearest described class (the normalised mean of
    its description and examples); a described class whose placed statements
    people put more often in one such class of their own than in itself (plus
    ``adopt_prior``) lends its examples to that class; on a tie between two
    such classes, to neither. Nothing moves between described classes: their
    examples are theirs.

    ``restricted`` (per item, the classes it may take, or None) keeps
    examples where the items that need them can still go: a restricted item
    (a trigger, which may take only classes of change) is placed among its
    classes only, and a class never lends to one such an item may not take
    (a class of change keeps its examples from a team's class of mechanism).
    """
    own = {e.slug for e in labelled if not e.confirmed} | {e.slug for e in descriptions}
    restricted = restricted or [None] * len(item_labels)
    people = [
        (vector, label, may)
        for vector, label, may in zip(vectors, item_labels, restricted, strict=True)
        if label is not None
    ] + [(e.vector, e.slug, None) for e in labelled if e.confirmed]
    if not own or not any(label not in own for _, label, _ in people):
        return labelled
    slugs = sorted(own)
    # Each described class's prototype: its description and examples alone.
    anchors = list(descriptions) + [e for e in labelled if not e.confirmed]
    sims = _prototype_sims(
        np.vstack([np.asarray(v, dtype=np.float32) for v, _, _ in people]),
        [None] * len(people),
        anchors,
        slugs,
    )
    counts: dict[str, Counter] = {slug: Counter() for slug in slugs}
    for row, (_, label, may) in zip(sims, people, strict=True):
        if may is not None:
            row = np.where([slug in may for slug in slugs], row, -np.inf)
            if not np.isfinite(row).any():
                continue
        counts[slugs[int(row.argmax())]][label] += 1
    limits = {frozenset(may) for may in restricted if may is not None}

    def may_lend(slug, label):
        return all(label in limit for limit in limits if slug in limit)

    adopted = {}
    for slug, tally in counts.items():
        theirs = sorted(
            ((n, label) for label, n in tally.items() if label not in own),
            reverse=True,
        )
        if not theirs or (len(theirs) > 1 and theirs[1][0] == theirs[0][0]):
            continue
        n, label = theirs[0]
        if n > params.adopt_prior + tally[slug] and may_lend(slug, label):
            adopted[slug] = label
    if not adopted:
        return labelled
    return [
        replace(e, slug=adopted[e.slug]) if not e.confirmed and e.slug in adopted else e
        for e in labelled
    ]


def _fit_predict(
    ids, vectors, texts, item_labels, examples, classes, params, threshold, mask
):
    inputs = _prepare(vectors, texts, item_labels, examples, params)
    validation: dict = {}
    cross_validated: dict = {}
    prior_sims = _prior_sims(vectors, examples, classes)
    choice = _fixed_blend(params)
    is_example = np.array([isinstance(i, _ExampleId) and not i.confirmed for i in ids])
    weights = np.where(is_example, params.description_weight, 1.0)
    if threshold is None:
        # People's labels validate once there are enough of them; before
        # that, the classes' example statements do (they are cleaner than
        # what people write, so such a threshold is only ever shown, never
        # counted: a statement kind is validated on people's labels alone).
        labelled = [i for i, label in enumerate(item_labels) if label is not None]
        people = [i for i in labelled if not is_example[i]]
        held = people if len(people) >= params.min_examples else labelled
        cv, proto_cv, known = _validate(
            inputs, vectors, item_labels, examples, classes, params, weights, held
        )
        truth = [item_labels[i] for i in known]
        prior_cv = prior_sims[known] if prior_sims is not None else None
        choice = _choose_blend(cv, proto_cv, prior_cv, truth, classes, params)
        blended = np.where(mask[known], _blend(cv, proto_cv, prior_cv, choice), -1)
        picked = blended.argmax(axis=1)
        confidences = np.clip(blended[np.arange(len(known)), picked], 0.0, None)
        right = [classes[j] == t for j, t in zip(picked, truth, strict=True)]
        threshold, validation = choose_threshold(
            confidences, right, params.abstain_cost
        )
        cross_validated = {
            ids[i]: (float(c), bool(ok))
            for i, c, ok in zip(known, confidences, right, strict=True)
        }
        validation.update(
            spread_weight=choice[0],
            proto_weight=choice[1],
            proto_temperature=choice[2],
            prior_weight=choice[3],
            prior_temperature=choice[4],
            validated_on="people" if held is people else "examples",
        )
    proba = _blend(
        _probabilities(inputs, item_labels, classes, params, weights),
        _prototype_sims(vectors, item_labels, examples, classes),
        prior_sims,
        choice,
    )
    predictions = []
    for i, item_id in enumerate(ids):
        ranked = np.argsort(-proba[i], kind="stable")
        if not mask[i].all():
            ranked = ranked[mask[i, ranked]]
        if not len(ranked):  # no class it may take is known here
            predictions.append(Prediction(item_id, None, None, 0.0, None, 0.0))
            continue
        best = classes[ranked[0]]
        top = float(proba[i, ranked[0]])
        second = float(proba[i, ranked[1]]) if len(ranked) > 1 else 0.0
        predictions.append(
            Prediction(
                item_id=item_id,
                slug=best if top >= threshold else None,
                best=best,
                confidence=round(top, 6),
                runner_up=classes[ranked[1]] if len(ranked) > 1 else None,
                margin=round(top - second, 6),
            )
        )
    return Outcome(
        predictions=predictions,
        threshold=round(float(threshold), 6),
        validation=validation,
        classes=classes,
        cross_validated=cross_validated,
    )


def teach_scores(
    vectors: np.ndarray,
    margins: Sequence[float],
    confirmed: Sequence[bool],
    *,
    density_threshold: float = 0.6,
    block: int = 2048,
    sample: int = DENSITY_SAMPLE,
) -> np.ndarray:
    """How much confirming each item would teach (0 for confirmed items).

    ``(1 − margin) × (1 + Σ (1 − margin_j) over unconfirmed neighbours j with
    cosine ≥ density_threshold)``: an uncertain item whose uncertain neighbours
    would follow its answer scores highest. Beyond ``sample`` items the sum is
    estimated on a fixed sample of ``sample`` of them, scaled up: every item
    against every other grew with the square of the statements (13 s of a 20 s
    full run at 10,000 postmortems), and the order only needs the estimate.
    """
    vectors = normalise_rows(np.asarray(vectors, dtype=np.float32))
    uncertainty = 1.0 - np.clip(np.asarray(margins, dtype=float), 0.0, 1.0)
    open_ = ~np.asarray(confirmed, dtype=bool)
    weights = np.where(open_, uncertainty, 0.0)
    n = len(vectors)
    columns = np.arange(n)
    if n > sample:
        rng = np.random.default_rng(0)
        columns = np.sort(rng.choice(n, size=sample, replace=False))
    anchors = vectors[columns]
    anchor_weights = weights[columns].astype(np.float32)
    density = np.zeros(n)
    for start in range(0, n, block):
        close = vectors[start : start + block] @ anchors.T >= density_threshold
        density[start : start + block] = close.astype(np.float32) @ anchor_weights
    # Never one's own neighbour (a unit vector is always close to itself).
    density[columns] -= weights[columns]
    density = np.clip(density, 0.0, None) * (n / len(columns) if n else 1.0)
    return np.where(open_, uncertainty * (1.0 + density), 0.0)
