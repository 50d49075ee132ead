import numpy as np
import pytest

from insights.embeddings import (
    FakeEmbedder,
    chunk_spans,
    load_model,
    pool_chunks,
    text_hash,
)

LONG_TEXT = " ".join(
    f"Sentence {i} says the disk on host {i} filled up because rotation was off."
    for i in range(60)
)


def test_text_hash_ignores_whitespace_differences():
    assert text_hash("disk  full\n") == text_hash("disk full")
    assert text_hash("disk full") != text_hash("disk fuller")
    assert len(text_hash("x")) == 64


def test_chunk_spans_cover_text_with_overlap():
    offsets = [(i * 2, i * 2 + 1) for i in range(10)]
    spans = chunk_spans(offsets, window=4, overlap=1)
    assert spans[0] == (0, 7, 4)
    assert spans[-1][1] == 19  # the last token's end: nothing is dropped
    assert all(n <= 4 for _, _, n in spans)
    assert chunk_spans(offsets[:3], window=4, overlap=1) == [(0, 5, 3)]
    assert chunk_spans([], window=4, overlap=1) == []


def test_pool_chunks_weights_by_tokens_and_renormalises():
    chunks = np.array([[1, 0], [0, 1], [1, 0]], dtype=np.float32)
    pooled = pool_chunks(chunks, owners=[0, 0, 1], weights=[3, 1, 5], n_texts=2)
    assert pooled.dtype == np.float32
    np.testing.assert_allclose(pooled[0], np.array([3, 1]) / np.sqrt(10), rtol=1e-6)
    np.testing.assert_allclose(pooled[1], [1, 0])


def test_fake_embedder_is_normalised_and_deterministic():
    texts = ["the disk filled up", "certificate expired at midnight", ""]
    first = FakeEmbedder().encode(texts)
    second = FakeEmbedder().encode(texts)
    assert first.shape == (3, 384) and first.dtype == np.float32
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(np.linalg.norm(first[:2], axis=1), 1.0, rtol=1e-6)


def test_fake_embedder_chunks_long_texts_instead_of_truncating():
    embedder = FakeEmbedder(max_tokens=50)
    head = " ".join(["disk full"] * 30)
    tail = " ".join(["certificate expired"] * 30)
    whole = embedder.encode([f"{head} {tail}"])[0]
    truncated = embedder.encode([" ".join(f"{head} {tail}".split()[:50])])[0]
    # The words beyond the limit still count: the vector sits between both halves.
    assert whole @ embedder.encode([tail])[0] > 0.3
    assert whole @ truncated < 0.95


@pytest.mark.model
def test_sentence_transformer_embedder_chunks_and_pools_long_texts(real_embedder):
    embedder = real_embedder.inner
    tokenizer = embedder.model.tokenizer
    chunks, owners, weights = embedder.split(["short", LONG_TEXT])
    assert owners[0] == 0 and set(owners[1:]) == {1} and len(chunks) >= 3
    for chunk in chunks:
        n_tokens = len(tokenizer(chunk, add_special_tokens=False)["input_ids"])
        assert n_tokens <= embedder.model.max_seq_length - 2
    vector = embedder.encode([LONG_TEXT])[0]
    chunk_vectors = embedder.model.encode(chunks[1:], normalize_embeddings=True)
    expected = (chunk_vectors * np.array(weights[1:])[:, None]).sum(axis=0)
    expected /= np.linalg.norm(expected)
    np.testing.assert_allclose(vector, expected, atol=1e-5)
    assert vector.dtype == np.float32
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


@pytest.mark.model
def test_load_model_once_per_process(real_embedder):
    path = real_embedder.inner.model_path
    assert load_model(path) is load_model(path)
