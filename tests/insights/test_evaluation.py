"""Quality floors on the project's labelled corpus, with the real bundled model.

Measured when these floors were set (all-MiniLM-L6-v2, default Params):
unsupervised AMI 0.407, ARI 0.283; with 25% of labels confirmed (seed 0)
accuracy 0.560, macro-F1 0.537. The floors sit a little below.
"""

import json

import pytest

from insights.evaluation import evaluate, read_corpus, single_label_records
from tests.insights.conftest import CORPUS

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def corpus():
    return read_corpus(CORPUS)


def test_corpus_has_many_classes_noise_and_long_records(corpus):
    labelled = single_label_records(corpus)
    classes = {r["labels"][0] for r in labelled}
    assert 250 <= len(corpus) <= 300 and len(classes) >= 20
    assert any(len(r["labels"]) == 0 for r in corpus)
    assert any(len(r["labels"]) == 2 for r in corpus)
    assert sum(len(r["text"].split()) > 230 for r in corpus) >= 5


def test_evaluate_unsupervised_meets_quality_floor(corpus, real_embedder):
    result = evaluate(corpus, real_embedder)
    assert result["n"] == len(single_label_records(corpus))
    assert result["ami"] >= 0.38
    assert result["ari"] >= 0.24
    assert result["noise_fraction"] <= 0.1
    assert "accuracy" not in result


def test_evaluate_with_quarter_of_labels_meets_accuracy_floor(corpus, real_embedder):
    result = evaluate(corpus, real_embedder, train_fraction=0.25, seed=0)
    assert result["train"] == round(0.25 * len(single_label_records(corpus)))
    assert result["accuracy"] >= 0.52
    assert result["macro_f1"] >= 0.48


def test_evaluate_two_runs_give_identical_results(corpus, real_embedder):
    first = evaluate(corpus, real_embedder, train_fraction=0.25, seed=3)
    second = evaluate(corpus, real_embedder, train_fraction=0.25, seed=3)
    first.pop("seconds"), second.pop("seconds")
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_evaluate_ignores_records_without_exactly_one_label(fake_embedder):
    records = [
        {"id": "a", "text": "disk full", "labels": ["disk"]},
        {"id": "b", "text": "disk full again", "labels": ["disk"]},
        {"id": "c", "text": "status page", "labels": []},
        {"id": "d", "text": "two of them", "labels": ["disk", "dns"]},
    ]
    result = evaluate(records, fake_embedder)
    assert result["n"] == 2 and result["classes"] == 1


def test_compare_scores_hindsight_beside_baselines_on_every_seed(corpus, fake_embedder):
    """The same vectors and seeds for every method; supervised baselines are
    trained on exactly the items Hindsight treats as confirmed."""
    from insights.evaluation import compare, summarise

    unsupervised = compare(
        corpus,
        fake_embedder,
        seeds=[0, 1],
        baselines=[
            "k-means (true k)",
            "zero-shot (taxonomy)",
            "zero-shot (descriptions only)",
        ],
    )
    assert set(unsupervised["methods"]) == {
        "Hindsight",
        "k-means (true k)",
        "zero-shot (taxonomy)",
        "zero-shot (descriptions only)",
    }
    assert all(len(rows) == 2 for rows in unsupervised["methods"].values())
    supervised = summarise(
        compare(corpus, fake_embedder, seeds=[0, 1], train_fraction=0.25)
    )
    assert {"Hindsight", "logistic regression", "1-nearest neighbour"} <= set(
        supervised
    )
    for figures in supervised.values():
        assert 0 <= figures["accuracy"]["mean"] <= 1
        assert figures["accuracy"]["sd"] >= 0


def test_learnability_tells_learnable_labels_from_the_commonest_label(
    fake_embedder,
):
    """Labels the text decides are learnt with 80% labelled; labels drawn at
    random are not; the commonest label's share is what always answering it
    scores."""
    from insights.evaluation import learnability

    words = ["disk", "dns", "certificate"]
    decided = [
        {"id": f"{w}-{k}", "text": f"{w} {w} outage {k}", "labels": [w]}
        for w in words
        for k in range(10)
    ]
    accuracy, _, majority = learnability(decided, fake_embedder)
    assert accuracy > 0.9
    assert majority == pytest.approx(1 / 3)
    shuffled = [
        {**r, "labels": [words[(i * 7) % 3 if i % 2 else 0]]}
        for i, r in enumerate(decided)
    ]
    accuracy, _, majority = learnability(shuffled, fake_embedder)
    assert accuracy < 0.7
    assert majority > 1 / 3
