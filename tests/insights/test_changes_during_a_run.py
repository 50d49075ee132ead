"""A change made while a full run is running reaches the report.

A full run reads its inputs first and works on them for seconds (minutes on
a large corpus). A confirmation or a class edited meanwhile is not in what it
read: a full run must follow it, start only once the running one has ended
(two full runs would write in the order they finish), and learn from it.
"""

import pytest
from django.db.models import Q
from django.test import Client
from django.urls import reverse

from insights import services, tasks
from insights.models import (
    CauseStatement,
    ConfirmationEffect,
    InsightRun,
    PostmortemClassification,
    RunKind,
    RunStatus,
    SimilarPostmortem,
)
from insights.services import runs

pytestmark = pytest.mark.django_db


def _stored_results(make_postmortem=None) -> None:
    """A full run's results stored; then, given ``make_postmortem``, a new
    postmortem, so that the next full run recomputes instead of skipping."""
    baseline = InsightRun.objects.create(kind=RunKind.FULL)
    assert services.insight_run_execute(run_id=baseline.pk) == RunStatus.SUCCEEDED
    if make_postmortem is not None:
        make_postmortem("The TLS certificate expired again; renewal was manual.")


def _just_before(monkeypatch, step: str, action) -> dict:
    """Make ``action()`` happen once, as a run reaches ``step`` (a function
    of insights.services.runs); what it returned is under "done"."""
    seen: dict = {}
    original = getattr(runs, step)

    def wrapped(*args, **kwargs):
        if "done" not in seen:
            seen["done"] = action()
        return original(*args, **kwargs)

    monkeypatch.setattr(runs, step, wrapped)
    return seen


def _confirmed_on_the_page(client, editor, reviewer):
    postmortem = (
        PostmortemClassification.objects.exclude(failure_class__slug="dns")
        .first()
        .postmortem
    )
    client.force_login(editor)
    client.post(
        reverse("insights:postmortem_confirm", args=[postmortem.pk]),
        {"failure_class": "dns"},
    )
    return lambda: ConfirmationEffect.objects.get().run_id is not None


def _statement_confirmed_on_the_page(client, editor, reviewer):
    statement = CauseStatement.objects.exclude(failure_class__slug="dns").first()
    client.force_login(editor)
    client.post(
        reverse(
            "insights:statement_confirm",
            args=[statement.postmortem_id, statement.key],
        ),
        {"failure_class": "dns"},
    )
    return lambda: ConfirmationEffect.objects.get().run_id is not None


def _class_redescribed_on_the_page(client, editor, reviewer):
    client.force_login(reviewer)
    client.post(
        reverse("insights:class_rename", args=["dns"]),
        {"name": "DNS", "description": "Resolvers answered wrongly or not at all."},
    )
    return lambda: True


def _class_merged_on_the_page(client, editor, reviewer):
    client.force_login(reviewer)
    client.post(reverse("insights:class_merge", args=["dns"]), {"target": "network"})
    return lambda: (
        not PostmortemClassification.objects.filter(failure_class__slug="dns").exists()
    )


CHANGES = [
    _confirmed_on_the_page,
    _statement_confirmed_on_the_page,
    _class_redescribed_on_the_page,
    _class_merged_on_the_page,
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__)
def test_a_change_made_while_a_full_run_runs_gets_a_run_after_it(
    change,
    fake_model,
    corpus_postmortems,
    make_postmortem,
    editor,
    reviewer,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    """GIVEN stored results and a full run that has read its inputs
    WHEN a person changes what the classifier learns from, mid-run
    THEN a second full run is queued; a worker offered it while the first
    runs leaves it waiting (and says for which run); once the first ends the
    second runs, recomputes (its inputs changed) and records what the change
    did."""
    _stored_results(make_postmortem)
    first = InsightRun.objects.create(kind=RunKind.FULL)

    def mid_run():
        check = change(Client(), editor, reviewer)
        waiting = InsightRun.objects.filter(
            kind=RunKind.FULL, status=RunStatus.PENDING
        ).exclude(pk=first.pk)
        assert [w.progress_note for w in waiting] == [
            f"Waiting for run {first.pk} to finish."
        ]
        # A second worker picks it up now: it must wait.
        assert tasks.run_insights(run_id=waiting[0].pk) == "not claimed (pending)"
        return check

    seen = _just_before(monkeypatch, "_progress", mid_run)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.insight_run_execute(run_id=first.pk) == RunStatus.SUCCEEDED
    after = InsightRun.objects.filter(kind=RunKind.FULL, pk__gt=first.pk)
    assert [run.status for run in after] == [RunStatus.SUCCEEDED]
    assert after[0].started_at >= InsightRun.objects.get(pk=first.pk).finished_at
    assert seen["done"]()


def test_a_run_requested_while_one_waits_is_that_run_sent_again(
    fake_model, corpus_postmortems, django_capture_on_commit_callbacks
):
    """A second request returns the waiting run and sends it again, so a lost
    message (or a worker that found it busy) cannot strand it."""
    with django_capture_on_commit_callbacks(execute=False):
        waiting = services.insight_run_request()
    with django_capture_on_commit_callbacks(execute=True):
        again = services.insight_run_request()
    assert again.pk == waiting.pk
    waiting.refresh_from_db()
    assert waiting.status == RunStatus.SUCCEEDED


def _postmortem_answered(client, editor, postmortem, slug):
    """Confirm the postmortem's class; returns how to read it back."""
    client.force_login(editor)
    client.post(
        reverse("insights:postmortem_confirm", args=[postmortem.pk]),
        {"failure_class": slug},
    )
    return lambda: PostmortemClassification.objects.values_list(
        "source", "failure_class__slug"
    ).get(postmortem=postmortem)


def _statement_answered(client, editor, postmortem, slug):
    """Put its root cause statement in a class; returns how to read it back."""
    statement = CauseStatement.objects.get(postmortem=postmortem, key="root_cause")
    client.force_login(editor)
    client.post(
        reverse("insights:statement_confirm", args=[postmortem.pk, statement.key]),
        {"failure_class": slug},
    )
    return lambda: CauseStatement.objects.values_list(
        "source", "failure_class__slug"
    ).get(postmortem=postmortem, key="root_cause")


@pytest.mark.parametrize("kind", [RunKind.FULL, RunKind.SINGLE])
@pytest.mark.parametrize(
    "answer", [_postmortem_answered, _statement_answered], ids=lambda f: f.__name__
)
def test_a_persons_answer_given_while_a_run_works_is_never_overwritten(
    kind,
    answer,
    fake_model,
    corpus_postmortems,
    make_postmortem,
    editor,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    """GIVEN a run (of all postmortems, or of one) that has read its inputs
    WHEN a person confirms the postmortem's class, or its root cause's
    THEN the run's write keeps the person's answer, not what it computed from
    before it."""
    _stored_results()
    postmortem = corpus_postmortems["cert"][0]
    inferred = PostmortemClassification.objects.get(postmortem=postmortem)
    assert not inferred.is_confirmed and inferred.failure_class.slug != "dns"
    if kind == RunKind.FULL:
        make_postmortem("The TLS certificate expired again; renewal was manual.")
    else:
        # A single run reads the postmortem afresh, as after an edit.
        PostmortemClassification.objects.filter(postmortem=postmortem).update(
            text_hash=""
        )
    run = InsightRun.objects.create(
        kind=kind, postmortem_id=postmortem.pk if kind == RunKind.SINGLE else None
    )

    def mid_run():
        with django_capture_on_commit_callbacks(execute=False):
            now = answer(Client(), editor, postmortem, "dns")
        assert now() == ("confirmed", "dns")
        return now

    # The answer comes as late as it can: just before the run writes.
    answered = _just_before(
        monkeypatch, "save_full_results" if kind == RunKind.FULL else "top_k", mid_run
    )
    assert services.insight_run_execute(run_id=run.pk) == RunStatus.SUCCEEDED
    assert answered["done"]() == ("confirmed", "dns")


def test_a_postmortem_read_and_answered_while_a_full_run_works_is_left_as_they_are(
    fake_model,
    corpus_postmortems,
    make_postmortem,
    editor,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    """GIVEN a full run that has read its inputs
    WHEN a new postmortem's single run writes its class and statements, and a
    person then puts its root cause in a class
    THEN the full run's write leaves both: it never read that postmortem."""
    _stored_results(make_postmortem)
    first = InsightRun.objects.create(kind=RunKind.FULL)

    def mid_run():
        postmortem = make_postmortem(
            "A DNS resolver kept stale records after a zone change."
        )
        single = InsightRun.objects.create(
            kind=RunKind.SINGLE, postmortem_id=postmortem.pk
        )
        assert services.insight_run_execute(run_id=single.pk) == "succeeded"
        with django_capture_on_commit_callbacks(execute=False):
            answer = _statement_answered(Client(), editor, postmortem, "network")
        return postmortem, answer

    late = _just_before(monkeypatch, "save_full_results", mid_run)
    assert services.insight_run_execute(run_id=first.pk) == RunStatus.SUCCEEDED
    postmortem, answer = late["done"]
    assert answer() == ("confirmed", "network")
    assert PostmortemClassification.objects.filter(postmortem=postmortem).exists()
    assert SimilarPostmortem.objects.filter(postmortem=postmortem).exists()


def test_a_postmortem_emptied_while_a_full_run_works_stays_empty(
    fake_model,
    corpus_postmortems,
    make_postmortem,
    monkeypatch,
):
    """GIVEN a full run that has read a postmortem's text
    WHEN the text is emptied and its single run clears what it gave
    THEN the full run's write does not bring back its class, statements or
    similar incidents."""
    _stored_results(make_postmortem)
    postmortem = corpus_postmortems["cert"][0]
    first = InsightRun.objects.create(kind=RunKind.FULL)

    def mid_run():
        type(postmortem).objects.filter(pk=postmortem.pk).update(sections={})
        single = InsightRun.objects.create(
            kind=RunKind.SINGLE, postmortem_id=postmortem.pk
        )
        return services.insight_run_execute(run_id=single.pk)

    emptied = _just_before(monkeypatch, "save_full_results", mid_run)
    assert services.insight_run_execute(run_id=first.pk) == RunStatus.SUCCEEDED
    assert emptied["done"] == RunStatus.SUCCEEDED
    assert not PostmortemClassification.objects.filter(postmortem=postmortem).exists()
    assert not CauseStatement.objects.filter(postmortem=postmortem).exists()
    assert not SimilarPostmortem.objects.filter(
        Q(postmortem=postmortem) | Q(similar=postmortem)
    ).exists()


def test_the_outbox_relay_sends_a_full_run_left_waiting_once_none_runs(
    fake_model, corpus_postmortems, django_capture_on_commit_callbacks, settings
):
    """GIVEN a full run left waiting (its message refused while another ran,
    and that one's worker killed before it could send it)
    THEN the relay leaves it while a live run runs, and sends it once the
    stuck run's worker is seen to have stopped."""
    import datetime as dt

    from django.utils import timezone

    from postmortems.tasks import outbox_relay

    stuck = InsightRun.objects.create(kind=RunKind.FULL)
    assert services.insight_run_claim(run_id=stuck.pk)
    waiting = InsightRun.objects.create(kind=RunKind.FULL)
    # Left waiting longer than a run may go without a heartbeat (a fresher
    # one has its own message on the way).
    InsightRun.objects.filter(pk=waiting.pk).update(
        created_at=timezone.now()
        - dt.timedelta(seconds=settings.KB_INSIGHTS_STALE_SECONDS + 1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        outbox_relay()
    waiting.refresh_from_db()
    assert waiting.status == RunStatus.PENDING

    InsightRun.objects.filter(pk=stuck.pk).update(
        heartbeat_at=timezone.now()
        - dt.timedelta(seconds=settings.KB_INSIGHTS_STALE_SECONDS + 1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert "1 waiting insights run(s)" in outbox_relay()
    stuck.refresh_from_db()
    waiting.refresh_from_db()
    assert stuck.status == RunStatus.FAILED
    assert waiting.status == RunStatus.SUCCEEDED


def test_run_insights_on_the_command_line_while_a_worker_runs_one_says_it_waits(
    fake_model, corpus_postmortems
):
    from io import StringIO

    from django.core.management import call_command

    running = InsightRun.objects.create(kind=RunKind.FULL)
    assert services.insight_run_claim(run_id=running.pk)
    out = StringIO()
    call_command("run_insights", stdout=out)
    assert f"is waiting: run {running.pk} is running in a worker" in out.getvalue()
    assert InsightRun.objects.filter(status=RunStatus.PENDING).count() == 1
