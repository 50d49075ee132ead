"""The supervised classifier: validated abstention, examples, what to confirm next."""

import numpy as np
import pytest

from insights import classifier

PARAMS = classifier.Params(lexical_weight=0.0, spread_weight=0.0)


def _blob(rng, centre, n, spread=0.05):
    return centre + spread * rng.standard_normal((n, len(centre)))


def _three_classes():
    """Three well-separated classes of 6 confirmed items, and three items to
    classify: one near each of two classes, one exactly between two."""
    rng = np.random.default_rng(0)
    centres = np.eye(8)[:3]
    vectors, ids, labels = [], [], {}
    for c, name in enumerate(["cert", "dns", "leak"]):
        for k, row in enumerate(_blob(rng, centres[c], 6)):
            item = f"{name}-{k}"
            ids.append(item)
            vectors.append(row)
            labels[item] = name
    ids += ["near-cert", "near-dns", "between"]
    vectors += [
        centres[0] + 0.05 * rng.standard_normal(8),
        centres[1] + 0.05 * rng.standard_normal(8),
        (centres[0] + centres[1]) / 2,
    ]
    return ids, np.vstack(vectors), labels


def test_fit_predict_classifies_clear_items_and_abstains_on_ambiguous_one():
    """GIVEN three clearly separated confirmed classes
    WHEN an item sits exactly between two of them
    THEN the classifier abstains on it (best guess kept), and classifies the
    clear items, with the threshold chosen by cross-validation."""
    ids, vectors, labels = _three_classes()
    outcome = classifier.fit_predict(
        ids=ids, vectors=vectors, texts=[""] * len(ids), labels=labels, params=PARAMS
    )
    by_id = outcome.by_id()
    assert by_id["near-cert"].slug == "cert"
    assert by_id["near-dns"].slug == "dns"
    between = by_id["between"]
    assert between.abstained and between.best in {"cert", "dns"}
    assert {between.best, between.runner_up} == {"cert", "dns"}
    assert outcome.threshold is not None
    assert outcome.validation["validated"] == 18
    assert outcome.validation["precision"] == 1.0


def test_fit_predict_abstains_on_everything_with_too_few_confirmed():
    ids, vectors, labels = _three_classes()
    few = dict(list(labels.items())[:3])
    outcome = classifier.fit_predict(
        ids=ids, vectors=vectors, texts=[""] * len(ids), labels=few, params=PARAMS
    )
    assert outcome.threshold is None
    assert all(p.abstained for p in outcome.predictions)


def test_fit_predict_learns_a_class_from_its_description_alone():
    """A class nobody confirmed yet is still known through its description."""
    ids, vectors, labels = _three_classes()
    labels = {k: v for k, v in labels.items() if v != "dns"}
    dns = classifier.Example(slug="dns", vector=np.eye(8)[1], text="DNS")
    outcome = classifier.fit_predict(
        ids=ids,
        vectors=vectors,
        texts=[""] * len(ids),
        labels=labels,
        examples=[dns],
        params=classifier.Params(
            lexical_weight=0.0, spread_weight=0.0, description_weight=3.0
        ),
        threshold=0.0,
    )
    assert outcome.by_id()["near-dns"].best == "dns"


def test_fit_predict_ignores_input_order():
    ids, vectors, labels = _three_classes()
    first = classifier.fit_predict(
        ids=ids, vectors=vectors, texts=[""] * len(ids), labels=labels, params=PARAMS
    )
    order = list(reversed(range(len(ids))))
    second = classifier.fit_predict(
        ids=[ids[i] for i in order],
        vectors=vectors[order],
        texts=[""] * len(ids),
        labels=labels,
        params=PARAMS,
    )
    assert first.predictions == second.predictions
    assert first.threshold == second.threshold


@pytest.mark.parametrize(
    ("confidences", "correct", "cost", "expected"),
    [
        # Right answers above 0.7, wrong ones below: cut at 0.7.
        ([0.9, 0.8, 0.7, 0.6, 0.5], [1, 1, 1, 0, 0], 1.0, 0.7),
        # One wrong answer among the sure ones is worth keeping at cost 1 ...
        ([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 1], 1.0, 0.6),
        # ... and at cost 3 only the answer above it is kept.
        ([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 1], 3.0, 0.9),
    ],
)
def test_choose_threshold_maximises_right_minus_cost_times_wrong(
    confidences, correct, cost, expected
):
    threshold, figures = classifier.choose_threshold(
        confidences, [bool(c) for c in correct], cost
    )
    assert threshold == pytest.approx(expected)
    assert figures["validated"] == len(confidences)


def test_choose_threshold_abstains_on_everything_when_every_answer_is_wrong():
    threshold, figures = classifier.choose_threshold([0.9, 0.5], [False, False], 1.0)
    assert threshold > 0.9
    assert figures["coverage"] == 0.0


def test_teach_scores_order_a_small_fixed_corpus():
    """GIVEN a dense group of three uncertain items, one isolated uncertain
    item, one sure item and one confirmed item
    THEN the dense uncertain ones come first, the isolated one next, the sure
    one last but above the confirmed one (0)."""
    vectors = np.array(
        [
            [1.0, 0.0, 0.0],  # dense, uncertain
            [0.98, 0.2, 0.0],  # dense, uncertain
            [0.97, 0.0, 0.25],  # dense, most uncertain
            [0.0, 1.0, 0.0],  # isolated, uncertain
            [0.0, 0.0, 1.0],  # sure
            [0.99, 0.1, 0.1],  # confirmed, inside the dense group
        ]
    )
    margins = [0.2, 0.2, 0.1, 0.1, 0.95, 0.9]
    confirmed = [False, False, False, False, False, True]
    scores = classifier.teach_scores(vectors, margins, confirmed)
    order = list(np.argsort(-scores, kind="stable"))
    assert order[:3] == [2, 0, 1]
    assert order[3:] == [3, 4, 5]
    assert scores[5] == 0.0


def test_teach_scores_estimate_the_density_beyond_the_sample():
    """GIVEN 600 uncertain items, half in one tight group, half scattered
    WHEN the density is estimated on a sample of 150 of them
    THEN the grouped items still come first, with scores close to the exact ones."""
    rng = np.random.default_rng(1)
    centre = rng.normal(size=32)
    group = centre + rng.normal(scale=0.05, size=(300, 32))
    scattered = rng.normal(size=(300, 32))
    vectors = np.vstack([group, scattered])
    margins = [0.5] * 600
    confirmed = [False] * 600

    exact = classifier.teach_scores(vectors, margins, confirmed, sample=600)
    estimate = classifier.teach_scores(vectors, margins, confirmed, sample=150)

    assert estimate[:300].min() > estimate[300:].max()
    assert np.allclose(estimate[:300], exact[:300], rtol=0.2)


def test_fit_predict_keeps_a_restricted_item_to_its_allowed_classes():
    """GIVEN an item near "cert" allowed only "dns" or "leak"
    WHEN the classifier predicts it
    THEN its best guess is an allowed class, with that class's own (small)
    probability, not renormalised over the allowed classes: it abstains."""
    ids, vectors, labels = _three_classes()
    outcome = classifier.fit_predict(
        ids=ids,
        vectors=vectors,
        texts=[""] * len(ids),
        labels=labels,
        params=PARAMS,
        allowed={"near-cert": {"dns", "leak"}, "near-dns": {"dns", "leak"}},
    )
    by_id = outcome.by_id()
    near_cert = by_id["near-cert"]
    assert near_cert.best in {"dns", "leak"} and near_cert.abstained
    assert near_cert.runner_up in {"dns", "leak"}
    assert near_cert.confidence < outcome.threshold
    assert by_id["near-dns"].slug == "dns"  # an allowed class it is sure of
    # Restricted confirmed items are cross-validated within their classes too.
    assert set(outcome.cross_validated) == set(labels)


def _statement(slug: str, centre: np.ndarray, k: int) -> classifier.Example:
    rng = np.random.default_rng(100 + k)
    return classifier.Example(
        slug=slug,
        vector=centre + 0.05 * rng.standard_normal(len(centre)),
        text=f"{slug} example {k}",
        description=False,
    )


def _statements(per_class: int) -> list[classifier.Example]:
    """``per_class`` example statements near each of the three classes."""
    centres = np.eye(8)[:3]
    return [
        _statement(name, centres[c], k)
        for c, name in enumerate(["cert", "dns", "leak"])
        for k in range(per_class)
    ]


def test_fit_predict_validates_on_example_statements_before_anyone_confirms():
    """GIVEN no confirmation at all, but each class's example statements
    WHEN the classifier runs
    THEN it classifies the clear items from the examples, with a threshold it
    validated on them and says so, and abstains on the item between two."""
    ids, vectors, _ = _three_classes()
    statements = _statements(4)
    outcome = classifier.fit_predict(
        ids=ids,
        vectors=vectors,
        texts=[""] * len(ids),
        labels={},
        examples=statements,
        params=PARAMS,
    )
    by_id = outcome.by_id()
    assert outcome.threshold is not None
    assert outcome.validation["validated_on"] == "examples"
    assert outcome.validation["validated"] == 12
    assert by_id["near-cert"].slug == "cert" and by_id["near-dns"].slug == "dns"
    assert by_id["between"].abstained
    # The examples are never returned as items, nor as people's answers.
    assert [p.item_id for p in outcome.predictions] == sorted(ids)
    assert outcome.cross_validated == {}


def test_fit_predict_validates_on_people_once_they_have_confirmed_enough():
    """GIVEN example statements and enough confirmed items
    WHEN the classifier runs
    THEN only people's labels choose the threshold (examples are cleaner than
    what people write), and only their answers are reported per item."""
    ids, vectors, labels = _three_classes()
    centres = np.eye(8)[:3]
    statements = [_statement("cert", centres[0], k) for k in range(6)]
    outcome = classifier.fit_predict(
        ids=ids,
        vectors=vectors,
        texts=[""] * len(ids),
        labels=labels,
        examples=statements,
        params=PARAMS,
    )
    assert outcome.validation["validated_on"] == "people"
    assert outcome.validation["validated"] == len(labels)
    assert set(outcome.cross_validated) == set(labels)


def test_fit_predict_ignores_the_order_of_example_statements():
    ids, vectors, labels = _three_classes()
    statements = _statements(3)
    few = dict(list(labels.items())[:2])

    def run(examples):
        return classifier.fit_predict(
            ids=ids,
            vectors=vectors,
            texts=[f"t{i}" for i in range(len(ids))],
            labels=few,
            examples=examples,
            params=PARAMS,
        )

    first, second = run(statements), run(list(reversed(statements)))
    assert first.predictions == second.predictions
    assert first.threshold == second.threshold


@pytest.mark.parametrize("n_classes", [2, 3])
def test_probabilities_are_the_regressions_own_without_stacking_every_item(
    n_classes,
):
    """The probabilities computed block by block (embedding, then words) are
    the fitted regression's predict_proba on the stacked features, for two
    classes (a logistic) and more (a softmax)."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    dense = classifier.normalise_rows(rng.standard_normal((30, 8)))
    words = sparse.random(30, 5, density=0.3, random_state=3, format="csr")
    features = classifier._Features(dense, words)
    labels = [f"c{i % n_classes}" for i in range(30)]
    train = list(range(12))
    x_train = features.rows(train)
    y_train = [labels[i] for i in train]
    classes = sorted(set(labels))
    params = classifier.Params()
    ours = classifier._fit_proba(
        x_train, y_train, np.ones(len(train)), features, classes, params
    )
    model = LogisticRegression(C=params.C, max_iter=2000).fit(x_train, y_train)
    np.testing.assert_allclose(
        ours, model.predict_proba(features.all_rows()), atol=1e-9
    )


def _team_labels(n: int) -> tuple[list, np.ndarray, dict]:
    """Items near the three example classes; people label ``n`` of those near
    "cert" with a class of their own, "TLS", and some near "dns" as "dns"."""
    rng = np.random.default_rng(7)
    centres = np.eye(8)[:3]
    ids, vectors, labels = [], [], {}
    for c, name in enumerate(["cert", "dns", "leak"]):
        for k in range(6):
            ids.append(f"{name}-{k}")
            vectors.append(centres[c] + 0.05 * rng.standard_normal(8))
    for k in range(n):
        labels[f"cert-{k}"] = "TLS"
    for k in range(3):
        labels[f"dns-{k}"] = "dns"
    return ids, np.vstack(vectors), labels


def test_a_class_people_made_adopts_the_examples_of_the_class_they_use_it_for():
    """GIVEN example statements of cert, dns and leak, and a team that files
    what reads like cert under a class of its own, "TLS"
    WHEN the classifier runs
    THEN the unlabelled items near cert are put in TLS, not in cert, which
    nobody picks; on one label of the team's (not more than the adoption
    pseudo-count, 1, plus cert's own labels, 0) cert keeps its examples."""
    ids, vectors, labels = _team_labels(3)
    outcome = classifier.fit_predict(
        ids=ids,
        vectors=vectors,
        texts=[""] * len(ids),
        labels=labels,
        examples=_statements(8) + _descriptions(),
        params=PARAMS,
    )
    by_id = outcome.by_id()
    # Without adoption, cert's eight examples outvote the team's three labels
    # on one of these.
    assert [by_id[f"cert-{k}"].best for k in range(3, 6)] == ["TLS"] * 3
    assert "cert" not in {p.best for p in outcome.predictions}

    ids, vectors, labels = _team_labels(1)
    kept = classifier._adopt_examples(
        _statements(4), [], vectors, [labels.get(i) for i in ids], PARAMS
    )
    assert {e.slug for e in kept} == {"cert", "dns", "leak"}


def _descriptions() -> list[classifier.Example]:
    return [
        classifier.Example(slug=name, vector=np.eye(8)[c], text=name)
        for c, name in enumerate(["cert", "dns", "leak"])
    ]


def _slugs(examples) -> list[str]:
    return [e.slug for e in examples]


def test_examples_never_move_between_classes_that_have_their_own():
    """People labelling cert-like items "dns" (a described class) correct
    those items, not the examples: cert's examples stay cert's, even while a
    class of the team's own is in use elsewhere."""
    ids, vectors, _ = _team_labels(0)
    labels = [
        "dns" if i.startswith("cert") else "MINE" if i == "leak-0" else None
        for i in ids
    ]
    kept = classifier._adopt_examples(
        _statements(4), _descriptions(), vectors, labels, PARAMS
    )
    assert _slugs(kept) == _slugs(_statements(4))


def test_no_adoption_on_a_tie_between_two_classes_of_the_teams():
    ids, vectors, _ = _team_labels(0)
    names = {"cert-0": "TLS", "cert-1": "TLS", "cert-2": "SSL", "cert-3": "SSL"}
    labels = [names.get(i) for i in ids]
    kept = classifier._adopt_examples(
        _statements(4), _descriptions(), vectors, labels, PARAMS
    )
    assert _slugs(kept) == _slugs(_statements(4))


def test_a_class_a_trigger_needs_keeps_its_examples():
    """GIVEN cert as the only class a trigger may take (as a class of change
    is), and root causes that read like cert filed under the team's "MINE"
    WHEN the examples are placed
    THEN cert keeps them (a trigger could never be put in MINE); with no
    trigger restricted, MINE adopts them."""
    ids, vectors, _ = _team_labels(0)
    labels = [("MINE" if i in {"cert-0", "cert-1", "cert-2"} else None) for i in ids]
    restricted = [{"cert"} if i == "cert-5" else None for i in ids]
    kept = classifier._adopt_examples(
        _statements(4), _descriptions(), vectors, labels, PARAMS, restricted
    )
    assert "cert" in _slugs(kept) and "MINE" not in _slugs(kept)
    adopted = classifier._adopt_examples(
        _statements(4), _descriptions(), vectors, labels, PARAMS
    )
    assert "MINE" in _slugs(adopted) and "cert" not in _slugs(adopted)


@pytest.mark.parametrize(
    "richer_right, picked_spread",
    [(16, 0.0), (20, 0.3)],
)
def test_blend_is_the_simplest_within_its_tolerance_of_the_best(
    richer_right, picked_spread
):
    """GIVEN 30 cross-validated items, the regression right on 15 of them and
    the regression with label spreading right on ``richer_right``
    WHEN the blend is chosen (tolerance: half a standard error, about 0.045)
    THEN spreading is mixed in only when it wins by more than that (16 of 30
    is luck on so few; 20 of 30 is not)."""
    classes = ["a", "b"]
    truth = ["a"] * 30
    lr = np.tile([0.4, 0.6], (30, 1))
    lr[:15] = [0.6, 0.4]
    spread = np.tile([0.0, 1.0], (30, 1))
    spread[:richer_right] = [1.0, 0.0]
    proto = np.tile([-1.0, 1.0], (30, 1))  # the class prototypes: always wrong
    choice = classifier._choose_blend(
        (lr, spread), proto, None, truth, classes, classifier.Params()
    )
    assert choice[0] == picked_spread
    assert choice[1] == choice[3] == 0.0
