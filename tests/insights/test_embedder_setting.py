"""The embedder is chosen by settings; its vectors are cached per version."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from insights import services
from insights.embeddings import FakeEmbedder
from insights.models import EmbeddingCache, InsightRun, RunKind, RunStatus
from tests.insights.conftest import ROOT_CAUSES

pytestmark = pytest.mark.django_db


class CountingEmbedder(FakeEmbedder):
    """The fake, counting the texts of each ``encode`` call."""

    calls: list[int] = []

    @classmethod
    def from_settings(cls, settings):
        return cls(model_name=settings.KB_EMBEDDING_MODEL, dimension=64)

    def encode(self, texts):
        CountingEmbedder.calls.append(len(texts))
        return super().encode(texts)


@pytest.fixture
def counting(fake_model):
    services._embedders.clear()
    CountingEmbedder.calls = []
    fake_model.KB_EMBEDDER = f"{__name__}.CountingEmbedder"
    fake_model.KB_EMBEDDING_MODEL = "counting-model"
    yield CountingEmbedder
    services._embedders.clear()


def test_get_embedder_builds_the_class_the_setting_names(counting):
    embedder = services.get_embedder()

    assert isinstance(embedder, CountingEmbedder)
    assert embedder.model_name == "counting-model"
    assert embedder.dimension == 64  # the embedder's own width, not a constant
    assert services.get_embedder() is embedder  # once per process


def test_get_embedder_refuses_a_setting_that_names_no_class(fake_model):
    services._embedders.clear()
    fake_model.KB_EMBEDDER = "insights.embeddings.NoSuchEmbedder"

    with pytest.raises(ImproperlyConfigured, match="KB_EMBEDDER"):
        services.get_embedder()


def test_full_run_stores_vectors_of_the_embedders_width(counting, corpus_postmortems):
    run = InsightRun.objects.create(kind=RunKind.FULL)
    assert services.insight_run_execute(run_id=run.pk) == RunStatus.SUCCEEDED

    assert set(EmbeddingCache.objects.values_list("dimension", flat=True)) == {64}


def test_cached_vectors_are_not_reused_across_text_preparation_versions(fake_model):
    """GIVEN vectors cached under text preparation version 1
    WHEN the preparation changes (version 2)
    THEN every text is embedded again, and version 1's rows stay apart."""
    texts = [ROOT_CAUSES["cert"][0], ROOT_CAUSES["leap"][0]]
    old, new = FakeEmbedder(), FakeEmbedder()
    new.version = old.version + 1

    _, _, first = services.cached_vectors(texts=texts, embedder=old)
    _, _, again = services.cached_vectors(texts=texts, embedder=old)
    _, rows, changed = services.cached_vectors(texts=texts, embedder=new)

    assert (first, again, changed) == (2, 0, 2)
    assert {row.version for row in rows} == {new.version}
    assert EmbeddingCache.objects.count() == 4


def test_single_run_embeds_the_new_postmortem_in_one_call(
    counting, corpus_postmortems, make_postmortem
):
    """GIVEN a full run has cached every vector
    WHEN one new postmortem (root cause, trigger, a factor) is classified
    THEN its text and its statements go to the model in one encode call,
    and nothing already cached is encoded again."""
    run = InsightRun.objects.create(kind=RunKind.FULL)
    services.insight_run_execute(run_id=run.pk)
    new = make_postmortem(
        "The TLS certificate expired again; renewal was manual.",
        factors=[("detection_gap", "No alert fired before the expiry date.")],
    )
    new.sections["trigger"] = "The notAfter date passed at midnight."
    new.save()
    CountingEmbedder.calls = []

    single = InsightRun.objects.create(kind=RunKind.SINGLE, postmortem=new)
    assert services.insight_run_execute(run_id=single.pk) == RunStatus.SUCCEEDED

    # The whole text, the root cause, the trigger and the factor.
    assert CountingEmbedder.calls == [4]
