"""Corpus vectors cached on disk, outside the repository, for the benchmarks.

Embedding thousands of texts takes minutes on two shared cores; the quality
benchmark reruns often. Vectors are stored per model in one ``.npz`` file keyed
by :func:`insights.embeddings.text_hash`, under the corpora folder.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np


class DiskCachedEmbedder:
    """Wraps an embedder; each distinct text is encoded once, ever."""

    def __init__(self, inner, folder: str | Path) -> None:
        from insights.embeddings import text_hash

        self.inner = inner
        self.model_name = inner.model_name
        self.version = inner.version
        self.dimension = inner.dimension
        self._hash = text_hash
        name = f"{self.model_name}-v{self.version}"
        self.path = Path(folder) / ".vectors" / f"{name}.npz"
        self.vectors: dict[str, np.ndarray] = {}
        if self.path.exists():
            with np.load(self.path) as data:
                self.vectors = {k: data[k] for k in data.files}
        self.encoded = 0

    def encode(self, texts):
        hashes = [self._hash(t) for t in texts]
        missing = {}
        for h, t in zip(hashes, texts, strict=True):
            if h not in self.vectors:
                missing.setdefault(h, t)
        if missing:
            new = self.inner.encode(list(missing.values()))
            for h, v in zip(missing, new, strict=True):
                self.vectors[h] = np.asarray(v, dtype=np.float32)
            self.encoded += len(missing)
            self._save()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([self.vectors[h] for h in hashes])

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz")
        os.close(handle)
        np.savez(temp, **self.vectors)
        os.replace(temp, self.path)
