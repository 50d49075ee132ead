import datetime as dt

import pytest
from django.db import OperationalError

from insights import clustering, services
from insights.models import (
    ClassificationSource,
    ClassStatus,
    EmbeddingCache,
    FailureClass,
    InsightRun,
    PostmortemClassification,
    RunKind,
    RunStatus,
    SimilarPostmortem,
)
from tests.insights.conftest import ROOT_CAUSES

pytestmark = pytest.mark.django_db


def _run() -> InsightRun:
    run = InsightRun.objects.create(kind=RunKind.FULL)
    services.insight_run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def _classes() -> dict[int, str | None]:
    return {
        c.postmortem_id: c.failure_class.slug if c.failure_class else None
        for c in PostmortemClassification.objects.select_related("failure_class")
    }


def test_insight_run_execute_classifies_and_stores_similar(
    fake_model, corpus_postmortems
):
    run = _run()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.counts["postmortems"] == 8 and run.counts["embedded"] == 8
    assert run.progress == 100 and run.timings["total"] >= 0
    classes = _classes()
    cert = {classes[p.pk] for p in corpus_postmortems["cert"]}
    indexer = {classes[p.pk] for p in corpus_postmortems["indexer"]}
    assert cert == {"certificate-expiry"}
    assert len(indexer) == 1 and indexer != cert and None not in indexer
    proposed = FailureClass.objects.get(slug=indexer.pop())
    assert proposed.status == ClassStatus.PROPOSED and proposed.terms
    first = corpus_postmortems["cert"][0]
    links = list(SimilarPostmortem.objects.filter(postmortem=first))
    assert len(links) == 5 and [x.rank for x in links] == [1, 2, 3, 4, 5]
    assert {x.similar_id for x in links[:2]} == {
        p.pk for p in corpus_postmortems["cert"][1:]
    }


def test_insight_run_execute_skips_unchanged_inputs(fake_model, corpus_postmortems):
    first = _run()
    second = _run()
    assert second.status == RunStatus.SKIPPED
    assert second.fingerprint == first.fingerprint
    # Each postmortem, and each class's description and example statements.
    assert EmbeddingCache.objects.count() == 8 + anchor_texts_described()


def anchor_texts_described() -> int:
    return sum(
        1 + len(examples)
        for examples in FailureClass.objects.exclude(description="").values_list(
            "examples", flat=True
        )
    )


def test_insight_run_execute_recomputes_when_text_changes(
    fake_model, corpus_postmortems
):
    _run()
    postmortem = corpus_postmortems["leap"][0]
    postmortem.sections = {"root_cause": "A leap second again broke NTP clocks."}
    postmortem.save()
    run = _run()
    assert run.status == RunStatus.SUCCEEDED
    assert (run.counts["embedded"], run.counts["cached"]) == (1, 7)


def test_insight_run_execute_model_name_change_recomputes_everything(
    fake_model, corpus_postmortems
):
    _run()
    fake_model.KB_EMBEDDING_MODEL = "fake-other-model"
    run = _run()
    assert run.status == RunStatus.SUCCEEDED
    assert run.model_name == "fake-other-model"
    assert run.counts["embedded"] == 8
    assert set(
        PostmortemClassification.objects.values_list("model_name", flat=True)
    ) == {"fake-other-model"}


def test_insight_run_execute_never_overrides_confirmed_class(
    fake_model, corpus_postmortems, editor
):
    postmortem = corpus_postmortems["cert"][0]
    dns = FailureClass.objects.get(slug="dns")
    services.postmortem_class_confirm(
        postmortem=postmortem, failure_class=dns, user=editor
    )
    _run()
    row = PostmortemClassification.objects.get(postmortem=postmortem)
    assert (row.failure_class, row.source, row.confirmed_by) == (
        dns,
        ClassificationSource.CONFIRMED,
        editor,
    )


def test_insight_run_execute_failure_keeps_previous_results(
    fake_model, corpus_postmortems, monkeypatch
):
    """GIVEN a successful run
    WHEN the next run fails half-way (after embedding, while classifying)
    THEN it is marked failed with the error, and the previous results remain."""
    _run()
    before = _classes()
    links = SimilarPostmortem.objects.count()
    fake_model.KB_INSIGHTS_PARAMS = {"zero_shot_threshold": 0.31}

    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(clustering, "classify", explode)
    run = _run()
    assert run.status == RunStatus.FAILED and "boom" in run.error
    assert _classes() == before
    assert SimilarPostmortem.objects.count() == links


def test_insight_run_execute_transient_error_returns_run_to_pending(
    fake_model, corpus_postmortems, monkeypatch
):
    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(clustering, "classify", locked)
    run = InsightRun.objects.create(kind=RunKind.FULL)
    with pytest.raises(OperationalError):
        services.insight_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.PENDING  # the task's retry can claim it again


def test_insight_run_claim_is_exclusive_until_the_worker_goes_quiet(settings):
    run = InsightRun.objects.create(kind=RunKind.FULL)
    assert services.insight_run_claim(run_id=run.pk)
    assert not services.insight_run_claim(run_id=run.pk)
    settings.KB_INSIGHTS_STALE_SECONDS = 60
    InsightRun.objects.filter(pk=run.pk).update(
        heartbeat_at=run.created_at - dt.timedelta(minutes=5)
    )
    assert services.insight_run_claim(run_id=run.pk)
    run.refresh_from_db()
    assert run.attempts == 2


def test_insight_run_request_enqueues_on_commit(
    fake_model, corpus_postmortems, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = services.insight_run_request()
    assert run.status == RunStatus.PENDING and len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=True):
        again = services.insight_run_request()
    assert again.pk == run.pk  # a full run already waiting is reused


def test_postmortem_changed_classifies_one_postmortem(
    fake_model, corpus_postmortems, make_postmortem, django_capture_on_commit_callbacks
):
    _run()
    new = make_postmortem("The TLS certificate expired again; renewal was manual.")
    with django_capture_on_commit_callbacks(execute=True):
        services.postmortem_changed(postmortem_id=new.pk)
    run = InsightRun.objects.get(kind=RunKind.SINGLE)
    assert run.status == RunStatus.SUCCEEDED, run.error
    row = PostmortemClassification.objects.get(postmortem=new)
    assert row.failure_class.slug == "certificate-expiry"
    similar = list(SimilarPostmortem.objects.filter(postmortem=new))
    assert len(similar) == 5
    assert similar[0].similar_id in {p.pk for p in corpus_postmortems["cert"]}


def test_cached_vectors_embed_each_text_once(fake_model):
    embedder = services.get_embedder()
    texts = [
        ROOT_CAUSES["indexer"][0],
        ROOT_CAUSES["indexer"][0],
        ROOT_CAUSES["cert"][0],
    ]
    _, _, embedded = services.cached_vectors(texts=texts, embedder=embedder)
    again, rows, embedded_again = services.cached_vectors(
        texts=texts, embedder=embedder
    )
    assert (embedded, embedded_again) == (2, 0)
    assert EmbeddingCache.objects.count() == 2 and again.shape == (3, 384)
    assert rows[0].pk == rows[1].pk


def test_failure_class_curation_keeps_slugs(fake_model, corpus_postmortems, editor):
    _run()
    indexer_slug = _classes()[corpus_postmortems["indexer"][0].pk]
    proposed = FailureClass.objects.get(slug=indexer_slug)
    services.failure_class_accept(failure_class=proposed, name="Disk full")
    proposed.refresh_from_db()
    assert (proposed.slug, proposed.name, proposed.status) == (
        indexer_slug,
        "Disk full",
        ClassStatus.ACCEPTED,
    )
    assert proposed.description  # the terms stand in for a description
    capacity = FailureClass.objects.get(slug="capacity-exhaustion")
    services.failure_class_merge(source=proposed, target=capacity)
    assert _classes()[corpus_postmortems["indexer"][0].pk] == "capacity-exhaustion"
    proposed.refresh_from_db()
    assert proposed.status == ClassStatus.MERGED and proposed.merged_into == capacity
    moved = [p.pk for p in corpus_postmortems["indexer"][:1]]
    new = services.failure_class_split(
        failure_class=capacity,
        postmortem_ids=moved,
        name="Log volume full",
        user=editor,
    )
    assert new.slug == "log-volume-full"
    row = PostmortemClassification.objects.get(postmortem_id=moved[0])
    assert (row.failure_class, row.source) == (new, ClassificationSource.CONFIRMED)


def test_demo_classes_confirm_is_idempotent(corpus_postmortems):
    from types import SimpleNamespace

    postmortem = corpus_postmortems["cert"][0]
    loaded = [
        SimpleNamespace(
            postmortem_id=postmortem.pk,
            failure_class="certificate-expiry",
            class_confirmed=True,
        ),
        SimpleNamespace(
            postmortem_id=corpus_postmortems["indexer"][0].pk,
            failure_class="capacity-exhaustion",
            class_confirmed=False,
        ),
    ]
    assert services.demo_classes_confirm(loaded=loaded) == 1
    assert services.demo_classes_confirm(loaded=loaded) == 0
    row = PostmortemClassification.objects.get(postmortem=postmortem)
    assert row.source == ClassificationSource.CONFIRMED


def test_postmortem_text_reads_root_cause_trigger_and_factors():
    text = services.postmortem_text(
        {"root_cause": "Disk full.", "trigger": "Traffic.", "summary": "x"},
        ["No alert on disk usage."],
    )
    assert text == "Disk full.\n\nTraffic.\n\nNo alert on disk usage."


def test_insight_run_execute_rewrites_only_changed_rows(fake_model, corpus_postmortems):
    first = _run()
    assert first.counts["rows_written"] == 8
    InsightRun.objects.filter(pk=first.pk).update(fingerprint="")  # force a rerun
    again = _run()
    assert again.status == RunStatus.SUCCEEDED
    assert (again.counts["rows_written"], again.counts["similar_rewritten"]) == (0, 0)
    assert _classes() and SimilarPostmortem.objects.count() == 8 * 5


def _similar_lists() -> dict[int, list[tuple[int, float]]]:
    lists: dict[int, list[tuple[int, float]]] = {}
    for pk, other, score in SimilarPostmortem.objects.order_by(
        "postmortem_id", "rank"
    ).values_list("postmortem_id", "similar_id", "score"):
        lists.setdefault(pk, []).append((other, score))
    return lists


def _assert_similar_as_from_nothing() -> None:
    """The stored similar incidents are those a run from nothing finds."""
    after = _similar_lists()
    SimilarPostmortem.objects.all().delete()
    InsightRun.objects.all().delete()
    _run()
    assert after == _similar_lists()


def test_full_run_after_a_confirmation_keeps_similar_incidents(
    fake_model, corpus_postmortems, editor
):
    """GIVEN a full run
    WHEN a person confirms a class (labels change, no text does)
    THEN the next full run retrains but keeps the similar incidents it found."""
    _run()
    before = _similar_lists()
    services.postmortem_class_confirm(
        postmortem=corpus_postmortems["leap"][0],
        failure_class=FailureClass.objects.get(slug="time-and-clocks"),
        user=editor,
    )
    run = _run()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.counts["similar_kept"] is True
    assert _similar_lists() == before


def _edit_root_cause(postmortems, make_postmortem, fake_model):
    postmortem = postmortems["leap"][0]
    postmortem.sections = {"root_cause": postmortems["cert"][0].sections["root_cause"]}
    postmortem.save()


def _add_factor(postmortems, make_postmortem, fake_model):
    from postmortems.models import ContributingFactor

    ContributingFactor.objects.create(
        postmortem=postmortems["indexer"][0],
        kind="technical",
        description="The TLS certificate expired because renewal was manual.",
        position=9,
    )


def _add_postmortem(postmortems, make_postmortem, fake_model):
    make_postmortem("The TLS certificate expired: nobody renewed it.", days=1)


def _delete_postmortem(postmortems, make_postmortem, fake_model):
    postmortems["cert"][1].incident.delete()


def _confirm_finding(postmortems, make_postmortem, fake_model):
    from findings.models import RootCauseVerdict
    from tests import factories

    factories.FindingFactory(
        incident=postmortems["indexer"][1].incident,
        root_cause="An expired TLS certificate on the indexer endpoint.",
        verdict=RootCauseVerdict.CONFIRMED,
    )


def _change_model(postmortems, make_postmortem, fake_model):
    fake_model.KB_EMBEDDING_MODEL = "fake-other-model"


def _single_run_then_text_cleared(postmortems, make_postmortem, fake_model):
    """A single run writes a new postmortem's similar incidents; its text is
    then cleared, so the full run reads the same texts as the last one did."""
    new = make_postmortem("The TLS certificate expired: nobody renewed it.", days=1)
    single = InsightRun.objects.create(kind=RunKind.SINGLE, postmortem=new)
    services.insight_run_execute(run_id=single.pk)
    assert SimilarPostmortem.objects.filter(postmortem=new).exists()
    new.sections = {"root_cause": ""}
    new.save()


def _single_run_queued_before_the_full_run(postmortems, make_postmortem, fake_model):
    """As above, but the single run was requested before the last full run
    started and executed after it finished (a busy queue)."""
    last_full = InsightRun.objects.filter(kind=RunKind.FULL).latest("started_at")
    new = make_postmortem("The TLS certificate expired: nobody renewed it.", days=1)
    single = InsightRun.objects.create(kind=RunKind.SINGLE, postmortem=new)
    InsightRun.objects.filter(pk=single.pk).update(
        created_at=last_full.started_at - dt.timedelta(seconds=1)
    )
    services.insight_run_execute(run_id=single.pk)
    assert SimilarPostmortem.objects.filter(postmortem=new).exists()
    new.sections = {"root_cause": ""}
    new.save()


@pytest.mark.parametrize(
    "change",
    [
        _edit_root_cause,
        _add_factor,
        _add_postmortem,
        _delete_postmortem,
        _confirm_finding,
        _change_model,
        _single_run_then_text_cleared,
        _single_run_queued_before_the_full_run,
    ],
)
def test_full_run_finds_similar_incidents_afresh_when_what_they_come_from_changes(
    fake_model, corpus_postmortems, make_postmortem, change
):
    """GIVEN a full run
    WHEN a text it read changes, in every way one can (an edit, a factor, a
    postmortem added or deleted, a confirmed finding, another model, a single
    run's list for a postmortem whose text is then cleared)
    THEN the next full run's similar incidents are those a run from nothing
    finds, and only postmortems with a text have a class: nothing stale."""
    from insights.services.inputs import _inputs

    _run()
    change(corpus_postmortems, make_postmortem, fake_model)
    run = _run()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.counts["similar_kept"] is False
    assert set(_classes()) == {pk for pk, _ in _inputs()}
    _assert_similar_as_from_nothing()


def test_full_run_after_one_that_failed_late_finds_similar_incidents_afresh(
    fake_model, corpus_postmortems, monkeypatch
):
    """GIVEN a full run, then a text edit and a run that wrote its similar
    incidents but failed after that
    WHEN the edit is undone and a full run follows
    THEN it finds them afresh (the texts equal the last successful run's, but
    the stored incidents are the failed run's)."""
    from insights.services import runs

    _run()
    postmortem = corpus_postmortems["leap"][0]
    original = dict(postmortem.sections)
    postmortem.sections = {
        "root_cause": corpus_postmortems["cert"][0].sections["root_cause"]
    }
    postmortem.save()

    def explode(*args, **kwargs):
        raise RuntimeError("after the save")

    monkeypatch.setattr(runs, "validated_kinds", explode)
    assert _run().status == RunStatus.FAILED
    monkeypatch.undo()
    postmortem.sections = original
    postmortem.save()
    run = _run()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.counts["similar_kept"] is False
    _assert_similar_as_from_nothing()


def test_postmortem_texts_add_confirmed_findings_root_causes(make_postmortem):
    from findings.models import RootCauseVerdict
    from tests import factories

    postmortem = make_postmortem(
        "Disk full.", factors=[("detection_gap", "No disk alert.")]
    )
    factories.FindingFactory(
        incident=postmortem.incident,
        root_cause="Log rotation disabled by the base image.",
        verdict=RootCauseVerdict.CONFIRMED,
    )
    factories.FindingFactory(
        incident=postmortem.incident,
        root_cause="A refuted guess.",
        verdict=RootCauseVerdict.REFUTED,
    )
    text = services.postmortem_texts([postmortem.pk])[postmortem.pk]
    assert text == (
        "Disk full.\n\nNo disk alert.\n\nLog rotation disabled by the base image."
    )


def test_a_threshold_validated_on_example_statements_never_counts(
    fake_model, corpus_postmortems, client, admin_user
):
    """GIVEN no confirmation yet (the classifier validates on the classes'
    example statements alone)
    THEN the run classifies with that threshold, but the report counts
    inferred classes from the default and says none was validated on people."""
    run = _run()
    assert run.validation["postmortems"]["validated_on"] == "examples"
    assert run.validation["postmortem_threshold"] is not None
    assert run.abstain_threshold is None
    client.force_login(admin_user)
    html = client.get("/insights/").content.decode()
    assert "a default: too few confirmations to validate one" in html
    assert "validated on people's confirmations" not in html
