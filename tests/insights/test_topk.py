"""The one top-k similarity search every similar-incident feature uses."""

import numpy as np
import pytest

from insights.embeddings import normalise_rows
from insights.topk import top_k


def test_top_k_keeps_the_best_rows_above_the_threshold_that_are_allowed():
    matrix = normalise_rows(np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [1, 0, 0]]))
    query = normalise_rows(np.array([[1, 0, 0], [0, 0, 1]]))
    allowed = np.array([[True, True, True, False], [True, True, True, True]])

    found = top_k(query, matrix, k=2, threshold=0.5, allowed=allowed)

    assert [i for i, _ in found[0]] == [0, 1]  # row 3 ties row 0 but is masked
    assert found[0][0][1] == pytest.approx(1.0)
    assert found[1] == []  # nothing similar enough
    assert top_k(query, np.zeros((0, 3)), k=2, threshold=0.5) == [[], []]


def test_top_k_gives_a_tie_at_the_cut_to_the_lower_index():
    """GIVEN ten identical rows and one query equal to them
    WHEN the best three are asked for
    THEN they are rows 0, 1 and 2, whatever argpartition picked."""
    matrix = np.tile(normalise_rows(np.array([[1.0, 2.0, 3.0]])), (10, 1))
    for k in (1, 3, 9):
        found = top_k(matrix[:1], matrix, k=k)
        assert [i for i, _ in found[0]] == list(range(k))


def test_top_k_excluding_self_never_matches_a_row_with_itself():
    rng = np.random.default_rng(0)
    vectors = normalise_rows(rng.normal(size=(50, 8)))

    found = top_k(vectors, vectors, k=4, exclude_self=True, block=7)

    assert all(i not in [j for j, _ in row] for i, row in enumerate(found))
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    for i, row in enumerate(found):
        assert [j for j, _ in row] == list(np.argsort(-sims[i], kind="stable")[:4])
        assert [s for _, s in row] == sorted((s for _, s in row), reverse=True)


def test_top_k_returns_fewer_when_fewer_rows_exist():
    vectors = normalise_rows(np.array([[1.0, 0.0], [0.0, 1.0]]))

    assert [len(r) for r in top_k(vectors, vectors, k=5, exclude_self=True)] == [1, 1]
    assert top_k(vectors, vectors, k=0) == [[], []]
    assert top_k(np.zeros((0, 2)), vectors, k=3) == []
