"""The real bundled model through the whole product path (integration)."""

import pytest

from insights import services
from insights.models import (
    InsightRun,
    PostmortemClassification,
    RunKind,
    RunStatus,
    SimilarPostmortem,
)

pytestmark = [pytest.mark.django_db, pytest.mark.model]


def test_full_run_with_the_real_model_classifies_and_finds_similar(
    settings, corpus_postmortems
):
    settings.KB_EMBEDDER = "insights.embeddings.SentenceTransformerEmbedder"
    settings.KB_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
    settings.KB_EMBEDDING_MODEL_PATH = ""
    run = InsightRun.objects.create(kind=RunKind.FULL)
    assert services.insight_run_execute(run_id=run.pk) == RunStatus.SUCCEEDED
    run.refresh_from_db()
    assert run.model_name == "all-MiniLM-L6-v2" and run.counts["embedded"] == 8
    classes = {
        c.postmortem_id: c.failure_class.slug if c.failure_class else None
        for c in PostmortemClassification.objects.select_related("failure_class")
    }
    assert {classes[p.pk] for p in corpus_postmortems["cert"]} == {"certificate-expiry"}
    cert_ids = {p.pk for p in corpus_postmortems["cert"]}
    for postmortem in corpus_postmortems["cert"]:
        top = SimilarPostmortem.objects.filter(postmortem=postmortem, rank__lte=2)
        assert {link.similar_id for link in top} == cert_ids - {postmortem.pk}
    again = InsightRun.objects.create(kind=RunKind.FULL)
    assert services.insight_run_execute(run_id=again.pk) == RunStatus.SKIPPED
