"""Cause statements: classified one by one, memberships, confirmations, what next."""

import pytest
from django.urls import reverse

from insights import selectors, services
from insights.models import (
    CauseStatement,
    ClassificationSource,
    ConfirmationEffect,
    FailureClass,
    InsightRun,
    RunKind,
    RunStatus,
)
from tests.insights.conftest import ROOT_CAUSES

pytestmark = pytest.mark.django_db

INDEXER_FACTOR = "The search indexer redelivered batches twice after a shard rebalance."
UNRELATED_FACTOR = "Nobody had written the quarterly on-call rota down anywhere."


def _run(kind=RunKind.FULL, postmortem_id=None) -> InsightRun:
    run = InsightRun.objects.create(kind=kind, postmortem_id=postmortem_id)
    services.insight_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


@pytest.fixture
def taught(fake_model, corpus_postmortems, editor):
    """Two cert and two indexer postmortems confirmed by a person: enough for
    the classifier to validate a threshold."""
    duplicates = services.failure_class_create(
        name="Duplicate delivery",
        description="Batches or messages delivered twice after a rebalance.",
    )
    cert = FailureClass.objects.get(slug="certificate-expiry")
    for postmortem in corpus_postmortems["cert"][:2]:
        services.postmortem_class_confirm(
            postmortem=postmortem, failure_class=cert, user=editor
        )
    for postmortem in corpus_postmortems["indexer"][:2]:
        services.postmortem_class_confirm(
            postmortem=postmortem, failure_class=duplicates, user=editor
        )
    return {"cert": cert, "duplicates": duplicates}


def test_full_run_puts_a_postmortem_in_every_class_of_its_statements(
    taught, make_postmortem, django_assert_max_num_queries, admin_user
):
    """GIVEN a postmortem whose root cause is an expired certificate and whose
    contributing factor is a duplicate delivery
    WHEN a full run classifies its statements one by one
    THEN it belongs to both classes, each with the statement that put it there."""
    both = make_postmortem(
        ROOT_CAUSES["cert"][2], factors=[("technical", INDEXER_FACTOR)]
    )
    run = _run()
    assert run.abstain_threshold is not None
    assert run.validation["statements"]["validated"] >= 4
    with django_assert_max_num_queries(3):
        memberships = selectors.postmortem_class_memberships([both.pk])[both.pk]
    by_slug = {m.slug: m for m in memberships}
    assert set(by_slug) >= {"certificate-expiry", taught["duplicates"].slug}
    assert by_slug["certificate-expiry"].statement_kind == "root_cause"
    assert by_slug["certificate-expiry"].primary
    factor = by_slug[taught["duplicates"].slug]
    assert factor.statement_kind == "factor" and factor.evidence == INDEXER_FACTOR
    assert not factor.confirmed and 0 < factor.confidence <= 1
    # The class page lists it with the factor as its evidence.
    listed = selectors.class_memberships(
        user=admin_user, class_slug=taught["duplicates"].slug
    )
    assert INDEXER_FACTOR in [m["evidence"] for m in listed]


def test_full_run_abstains_on_a_statement_it_cannot_place(taught, make_postmortem):
    postmortem = make_postmortem(
        ROOT_CAUSES["cert"][2], factors=[("process", UNRELATED_FACTOR)]
    )
    _run()
    factor = CauseStatement.objects.get(postmortem=postmortem, kind="factor")
    assert factor.abstained
    assert factor.source != ClassificationSource.CLASSIFIER
    assert factor.best_guess is not None  # still known, for "confirm these next"
    slugs = {
        m.slug
        for m in selectors.postmortem_class_memberships([postmortem.pk])[postmortem.pk]
    }
    assert slugs == {"certificate-expiry"}


def test_single_run_classifies_a_new_postmortems_statements(taught, make_postmortem):
    _run()
    new = make_postmortem(
        ROOT_CAUSES["cert"][2], factors=[("technical", INDEXER_FACTOR)]
    )
    _run(kind=RunKind.SINGLE, postmortem_id=new.pk)
    classes = dict(
        CauseStatement.objects.filter(postmortem=new).values_list(
            "kind", "failure_class__slug"
        )
    )
    assert classes == {
        "root_cause": "certificate-expiry",
        "factor": taught["duplicates"].slug,
    }


STATEMENT_FIELDS = (
    "key",
    "text",
    "failure_class_id",
    "confidence",
    "source",
    "abstained",
    "best_guess_id",
    "runner_up_id",
    "margin",
    "teach_score",
)


def _statement_rows(postmortem) -> dict[str, dict]:
    return {
        row["key"]: row
        for row in CauseStatement.objects.filter(postmortem=postmortem).values(
            *STATEMENT_FIELDS
        )
    }


def _edit_section(key):
    def edit(postmortem):
        postmortem.sections = {
            **postmortem.sections,
            key: postmortem.sections[key] + " It had happened once before.",
        }
        postmortem.save()

    edit.__name__ = f"edit_{key}"
    return edit


def _edit_factor(postmortem):
    factor = postmortem.contributing_factors.order_by("position").first()
    factor.description += " Nobody owned it."
    factor.save()


def _add_factor(postmortem):
    postmortem.contributing_factors.create(
        kind="process", description=UNRELATED_FACTOR, position=9
    )


def _remove_factor(postmortem):
    postmortem.contributing_factors.order_by("position").first().delete()


@pytest.mark.parametrize(
    "edit",
    [
        _edit_section("root_cause"),
        _edit_section("trigger"),
        _edit_factor,
        _add_factor,
        _remove_factor,
    ],
    ids=lambda edit: edit.__name__,
)
def test_single_run_after_an_edit_keeps_what_the_full_run_said_of_the_rest(
    taught, make_postmortem, edit
):
    """GIVEN a full run over a postmortem with a root cause, a trigger and two
    factors
    WHEN one statement is edited, added or removed and its single run follows
    THEN every statement it did not touch keeps the class, confidence and
    "confirm these next" score the full run gave it (a single run trains on a
    few dozen texts and would say otherwise), and the touched one is read
    afresh."""
    postmortem = make_postmortem(
        ROOT_CAUSES["cert"][2],
        trigger="A deploy at 09:00 rotated the load balancer's listeners.",
        factors=[
            ("technical", INDEXER_FACTOR),
            ("process", "Certificate renewal was a manual calendar reminder."),
        ],
    )
    _run()
    before = _statement_rows(postmortem)
    edit(postmortem)
    _run(kind=RunKind.SINGLE, postmortem_id=postmortem.pk)
    after = _statement_rows(postmortem)
    common = before.keys() & after.keys()
    unchanged = sorted(k for k in common if before[k]["text"] == after[k]["text"])
    # Exactly one statement was edited, added or removed.
    assert len((before.keys() | after.keys()) - set(unchanged)) == 1
    assert [after[k] for k in unchanged] == [before[k] for k in unchanged]


def _confirm_on_page(client, editor, postmortem, failure_class):
    client.force_login(editor)
    response = client.post(
        reverse("insights:postmortem_confirm", args=[postmortem.pk]),
        {"failure_class": failure_class.slug},
    )
    assert response.status_code == 302


def _confirm_statement(client, editor, postmortem, failure_class):
    statement = CauseStatement.objects.get(postmortem=postmortem, key="root_cause")
    services.cause_statement_confirm(
        statement=statement, failure_class=failure_class, user=editor
    )


def _split(client, editor, postmortem, failure_class):
    current = postmortem.classification.failure_class
    services.failure_class_split(
        failure_class=current,
        postmortem_ids=[postmortem.pk],
        name="Split off",
        user=editor,
    )


@pytest.mark.parametrize(
    "confirm", [_confirm_on_page, _confirm_statement, _split], ids=lambda f: f.__name__
)
def test_every_confirmation_path_teaches_and_records_its_effect(
    taught,
    corpus_postmortems,
    client,
    editor,
    confirm,
    django_capture_on_commit_callbacks,
):
    """Every way a person confirms a class (the page's confirm form, one
    statement, a split) labels the statement for the classifier, queues a
    retraining run, and that run records how many classifications it changed."""
    _run()
    # The runs the fixture's confirmations queued: a worker took them.
    InsightRun.objects.filter(status=RunStatus.PENDING).update(status=RunStatus.SKIPPED)
    target = corpus_postmortems["leap"][0]
    with django_capture_on_commit_callbacks() as callbacks:
        confirm(client, editor, target, taught["cert"])
    effect = ConfirmationEffect.objects.get(postmortem=target)
    assert effect.run is None and effect.changed is None
    assert callbacks, "no retraining run was queued"
    assert InsightRun.objects.filter(
        kind=RunKind.FULL, status=RunStatus.PENDING
    ).exists()
    run = _run()
    effect.refresh_from_db()
    assert effect.run_id == run.pk
    assert effect.changed is not None and effect.changed_postmortems is not None
    root = CauseStatement.objects.get(postmortem=target, key="root_cause")
    assert root.source == ClassificationSource.CONFIRMED
    assert root.confirmed_by == editor
    listed = selectors.confirmation_effects(user=editor)
    assert listed[0].postmortem_id == target.pk and listed[0].changed == effect.changed


def test_confirm_next_puts_uncertain_statements_first_and_skips_confirmed(
    taught, corpus_postmortems, admin_user
):
    _run()
    candidates = selectors.confirm_next(limit=10, user=admin_user)
    ids = [c.postmortem_id for c in candidates]
    confirmed = {p.pk for p in corpus_postmortems["cert"][:2]} | {
        p.pk for p in corpus_postmortems["indexer"][:2]
    }
    assert ids and not set(ids) & confirmed
    scores = [c.teach_score for c in candidates]
    assert scores == sorted(scores, reverse=True)
    # The leap-second postmortems fit neither class taught: they are the
    # least certain, and come before the cert and indexer ones left.
    leap = {p.pk for p in corpus_postmortems["leap"]}
    assert set(ids[: len(leap)]) == leap
    assert all(c.best_guess and c.runner_up for c in candidates)
    in_class = selectors.confirm_next(
        failure_class=taught["cert"], limit=10, user=admin_user
    )
    assert in_class and all(
        "certificate-expiry" in {c.best_guess[0], c.runner_up[0]} for c in in_class
    )
    assert len(selectors.confirm_next(limit=1, user=admin_user)) == 1


# --- Triggers: the change that set an incident off ---------------------------

CONFIG_TRIGGERS = [
    "A config push changed the pool size value in the YAML settings file.",
    "The feature flag config value was pushed to every host in one YAML push.",
    "A settings push changed the timeout value in the shared YAML config.",
    "An unreviewed YAML config push flipped the retry value for every service.",
    "A config push changed the cache value in the YAML settings for all hosts.",
]
LEAK_ROOT_CAUSE = "Worker memory leaked: buffers were never released until OOM."


@pytest.fixture
def config_confirmed(taught, make_postmortem, editor):
    """``confirmed(n)``: n postmortems whose trigger is a config push, each
    confirmed as a configuration change by a person (their root causes are
    leaks, a mechanism)."""
    config = FailureClass.objects.get(slug="config-change")

    def confirmed(n):
        made = []
        for k, trigger in enumerate(CONFIG_TRIGGERS[:n]):
            postmortem = make_postmortem(LEAK_ROOT_CAUSE, trigger=trigger, days=500 + k)
            services.postmortem_class_confirm(
                postmortem=postmortem, failure_class=config, user=editor
            )
            made.append(postmortem)
        return made

    return confirmed


NEW_TRIGGER = "A YAML config push changed the connection value for every host."


def test_confirmed_change_class_teaches_through_the_trigger(
    config_confirmed, make_postmortem
):
    """GIVEN postmortems a person confirmed as configuration changes
    WHEN a full run reads their statements
    THEN the label goes to each trigger (where a change is written), not to
    the root cause (a leak, a mechanism)."""
    made = config_confirmed(4)
    _run()
    for postmortem in made:
        rows = {s.key: s for s in CauseStatement.objects.filter(postmortem=postmortem)}
        assert rows["trigger"].source == ClassificationSource.CONFIRMED
        assert rows["trigger"].failure_class.slug == "config-change"
        assert rows["root_cause"].source != ClassificationSource.CONFIRMED


def test_trigger_puts_a_postmortem_in_a_change_class_with_evidence(
    config_confirmed, make_postmortem
):
    """GIVEN four confirmed configuration changes (enough to validate triggers)
    WHEN a new postmortem's root cause is an expired certificate and its
    trigger a config push
    THEN it is counted in both classes, the change with its trigger as
    evidence."""
    config_confirmed(4)
    both = make_postmortem(ROOT_CAUSES["cert"][2], trigger=NEW_TRIGGER)
    run = _run()
    assert "trigger" in selectors.validated_statement_kinds(run)
    memberships = {m["failure_class"]: m for m in selectors.memberships_of([both.pk])}
    change = memberships["config-change"]
    assert change["statement_kind"] == "trigger"
    assert change["evidence"] == NEW_TRIGGER
    assert change["kind_validated"] and change["counted"]
    assert memberships["certificate-expiry"]["statement_kind"] == "root_cause"


def test_trigger_change_class_does_not_count_until_triggers_are_validated(
    config_confirmed, make_postmortem
):
    """GIVEN three confirmed configuration changes: too few triggers labelled
    to validate the classifier on triggers
    WHEN a new postmortem's trigger is a config push
    THEN its configuration-change membership is listed but not counted."""
    config_confirmed(3)
    new = make_postmortem(ROOT_CAUSES["cert"][2], trigger=NEW_TRIGGER)
    run = _run()
    assert run.validation["statements"]["kinds"]["trigger"]["labelled"] == 3
    assert "trigger" not in selectors.validated_statement_kinds(run)
    memberships = {m["failure_class"]: m for m in selectors.memberships_of([new.pk])}
    change = memberships["config-change"]
    assert change["statement_kind"] == "trigger"
    assert not change["kind_validated"] and not change["counted"]


def test_every_trigger_is_put_in_a_change_class_or_none(
    config_confirmed, make_postmortem
):
    """A trigger is read for the change that set the incident off: whatever it
    says (here an expired certificate, a mechanism), no trigger is put in a
    class of mechanism, by the classifier or zero-shot."""
    config_confirmed(4)
    for text in ROOT_CAUSES["cert"] + ROOT_CAUSES["leap"] + [NEW_TRIGGER]:
        make_postmortem(LEAK_ROOT_CAUSE, trigger=text)
    _run()
    triggers = CauseStatement.objects.filter(kind="trigger").select_related(
        "failure_class"
    )
    assert triggers.count() == 4 + 6
    changes = set(
        FailureClass.objects.filter(axis="change").values_list("slug", flat=True)
    )
    assert changes
    for statement in triggers:
        slug = statement.failure_class.slug if statement.failure_class else None
        assert slug in changes | {None}, statement.text


@pytest.mark.parametrize(
    ("figures", "validated"),
    [
        ({"labelled": 4, "kept": 2, "right": 2, "wrong": 0}, True),
        ({"labelled": 3, "kept": 3, "right": 3, "wrong": 0}, False),  # too few
        ({"labelled": 9, "kept": 3, "right": 2, "wrong": 1}, False),  # 2 - 2x1
        ({"labelled": 9, "kept": 4, "right": 3, "wrong": 1}, True),  # 3 - 2x1
        ({"labelled": 9, "kept": 0, "right": 0, "wrong": 0}, False),  # no answer
    ],
)
def test_validated_kinds_weighs_each_kind_by_the_threshold_rule(figures, validated):
    from insights.classifier import Params
    from insights.services.statements import validated_kinds

    params = Params(min_examples=4, abstain_cost=2.0)
    assert validated_kinds({"trigger": figures}, params) == (
        ["trigger"] if validated else []
    )


def test_full_run_stores_threshold_and_validated_kinds_once(taught):
    run = _run()
    assert run.abstain_threshold is not None
    assert "abstention_threshold" not in run.params
    assert "statement_kinds" not in run.validation["statements"]
    assert run.validation["statement_kinds"] == ["root_cause"]
    assert selectors.validated_statement_kinds(run) == {"root_cause"}


def test_runs_stored_before_reads_the_same_threshold_and_kinds(db):
    """A run stored with the threshold and kinds twice (before) reads as one."""
    old = InsightRun.objects.create(
        kind=RunKind.FULL,
        status=RunStatus.SUCCEEDED,
        abstain_threshold=0.7,
        params={"abstention_threshold": 0.7},
        validation={
            "statements": {"statement_kinds": ["root_cause"]},
            "statement_kinds": ["root_cause"],
        },
    )
    assert selectors.validated_statement_kinds(old) == {"root_cause"}
    assert selectors.confidence_threshold(old) == 0.7


# --- A person's correction replaces the class it derived ---------------------


def _confirmed_classes(postmortem, user):
    """The classes a postmortem is confirmed in, as each reader sees them: the
    class pages' memberships and the report's."""
    pages = {
        m["failure_class"]
        for m in selectors.class_memberships(user=user, postmortem_ids=[postmortem.pk])
        if m["confirmed"]
    }
    report_rows = {
        m.class_slug
        for m in selectors.report_memberships([postmortem.pk])
        if m.confirmed
    }
    return pages, report_rows


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("config-change", "resource-leak"),  # change, then mechanism
        ("resource-leak", "config-change"),  # mechanism, then change
        ("config-change", "bad-deploy"),  # change, then another change
        ("resource-leak", "capacity-exhaustion"),  # mechanism, then another
    ],
)
def test_reconfirming_a_postmortem_replaces_its_class(
    config_confirmed, make_postmortem, editor, first, second
):
    """GIVEN a postmortem a person confirmed in one class, and a full run
    WHEN the person re-confirms it in another class and a full run follows
    THEN it is confirmed in the second class only, on the class pages, the
    report and the class evidence, and the label derived from the first
    confirmation has moved (it is not read back as a statement confirmation)."""
    config_confirmed(4)
    postmortem = make_postmortem(LEAK_ROOT_CAUSE, trigger=NEW_TRIGGER)
    for slug in (first, second):
        services.postmortem_class_confirm(
            postmortem=postmortem,
            failure_class=FailureClass.objects.get(slug=slug),
            user=editor,
        )
        _run()
    pages, report_rows = _confirmed_classes(postmortem, editor)
    assert pages == report_rows == {second}
    confirmed = CauseStatement.objects.filter(
        postmortem=postmortem, source=ClassificationSource.CONFIRMED
    )
    assert [s.failure_class.slug for s in confirmed] == [second]


def test_migration_marks_stored_labels_derived_from_a_postmortem(
    config_confirmed, make_postmortem, editor
):
    """GIVEN a database from before: labels derived from confirmed postmortems
    stored as people's statement confirmations (a configuration change on a
    root cause, as confirmations were read before triggers; a change on a
    trigger), next to a person's own confirmation of a trigger
    WHEN insights migration 0005 runs and then a full run
    THEN the derived rows are marked and re-derived (the root cause loses the
    change class), and the person's own confirmation stays."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "insights.migrations.0005_statement_from_postmortem"
    )
    config = FailureClass.objects.get(slug="config-change")
    old, own = config_confirmed(2)
    _run()
    head = old.classification
    CauseStatement.objects.filter(postmortem=old, key="root_cause").update(
        source=ClassificationSource.CONFIRMED,
        failure_class=config,
        confirmed_at=head.confirmed_at,
    )
    own_trigger = CauseStatement.objects.get(postmortem=own, key="trigger")
    services.cause_statement_confirm(
        statement=own_trigger, failure_class=config, user=editor
    )
    CauseStatement.objects.update(from_postmortem=False)

    migration.mark_derived(apps, None)

    derived = set(
        CauseStatement.objects.filter(from_postmortem=True).values_list(
            "postmortem_id", "key"
        )
    )
    assert {(old.pk, "root_cause"), (old.pk, "trigger")} <= derived
    assert (own.pk, "trigger") not in derived
    _run()
    rows = {s.key: s for s in CauseStatement.objects.filter(postmortem=old)}
    assert rows["root_cause"].source != ClassificationSource.CONFIRMED
    assert rows["trigger"].source == ClassificationSource.CONFIRMED
    own_trigger.refresh_from_db()
    assert own_trigger.source == ClassificationSource.CONFIRMED
    assert not own_trigger.from_postmortem


@pytest.mark.parametrize(
    "change_rule",
    [
        pytest.param(
            lambda mp: mp.setattr("insights.services.inputs.RULES_VERSION", 99),
            id="rules-version",
        ),
        pytest.param(
            lambda mp: FailureClass.objects.filter(slug="bad-deploy").update(
                axis="mechanism"
            ),
            id="change-classes",
        ),
    ],
)
def test_full_run_recomputes_when_the_pipeline_rules_change(
    taught, monkeypatch, change_rule
):
    """GIVEN a full run, and a second one skipped because nothing changed
    WHEN a deploy changes the pipeline's rules (its version, the classes of
    change) and the inputs stay the same
    THEN the next full run recomputes instead of keeping the old results."""
    _run()
    again = InsightRun.objects.create(kind=RunKind.FULL)
    services.insight_run_execute(run_id=again.pk)
    again.refresh_from_db()
    assert again.status == RunStatus.SKIPPED
    change_rule(monkeypatch)
    assert _run().status == RunStatus.SUCCEEDED


@pytest.mark.parametrize(
    "confidence",
    # Rounded to 6 places, each of these goes up: the threshold stored from it
    # is above the raw value it was chosen at.
    [0.7123456789, 0.5000007, 0.9999996, 0.3333338],
)
def test_kind_figures_keeps_the_answer_the_threshold_was_chosen_at(confidence):
    """GIVEN a cross-validated answer whose confidence the threshold was chosen
    at, the threshold stored rounded to 6 places (as every run stores it)
    WHEN the kinds' figures are counted at that threshold
    THEN the answer is kept, as it was when the threshold was chosen."""
    from insights.services.statements import kind_figures

    threshold = round(confidence, 6)
    assert threshold > confidence  # the boundary this test is about
    figures = kind_figures(
        {(1, "trigger"): (confidence, True), (2, "trigger"): (confidence - 0.1, False)},
        {(1, "trigger"): "trigger", (2, "trigger"): "trigger"},
        threshold,
    )
    assert figures["trigger"] == {"labelled": 2, "kept": 1, "right": 1, "wrong": 0}


def test_kind_figures_add_up_to_the_answers_the_threshold_kept(config_confirmed):
    """The kinds' kept answers add up to those the run's threshold was chosen
    on (its coverage of the cross-validated labels)."""
    config_confirmed(4)
    statements = _run().validation["statements"]
    kinds = statements["kinds"]
    labelled = sum(f["labelled"] for f in kinds.values())
    assert labelled == statements["validated"]
    assert sum(f["kept"] for f in kinds.values()) == round(
        statements["coverage"] * labelled
    )


# --- A class's axis: what people say, what merges keep ----------------------


def test_starter_classes_take_their_axis_from_the_taxonomy(db):
    from insights.taxonomy import load_taxonomy

    stored = dict(FailureClass.objects.values_list("slug", "axis"))
    assert {e["slug"]: e["axis"] for e in load_taxonomy()} == {
        slug: stored[slug] for slug in (e["slug"] for e in load_taxonomy())
    }


def _proposed(name="Proposed"):
    return FailureClass.objects.create(slug="proposed-x", name=name, status="proposed")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("create", "mechanism"),
        ("create-as-change", "change"),
        ("accept", "mechanism"),
        ("accept-as-change", "change"),
        ("rename-page-to-change", "change"),
        ("rename-page-to-mechanism", "mechanism"),
        ("rename-keeps", "change"),
        ("merge-change-into-mechanism", "change"),
        ("merge-mechanism-into-change", "change"),
        ("merge-mechanism-into-mechanism", "mechanism"),
    ],
)
def test_every_curation_path_keeps_or_sets_a_class_axis(
    client, reviewer, path, expected
):
    """Whatever path makes or edits a class, its axis is what the person said,
    what it had, or (merging a class of change in) a change."""
    config = FailureClass.objects.get(slug="config-change")
    leak = FailureClass.objects.get(slug="resource-leak")
    if path.startswith("create"):
        axis = "change" if path.endswith("change") else "mechanism"
        made = services.failure_class_create(name="Flag flips", axis=axis)
    elif path.startswith("accept"):
        axis = "change" if path.endswith("change") else None
        made = services.failure_class_accept(failure_class=_proposed(), axis=axis)
    elif path.startswith("rename-page"):
        target = config if path.endswith("mechanism") else leak
        client.force_login(reviewer)
        response = client.post(
            reverse("insights:class_rename", args=[target.slug]),
            {"name": target.name, "axis": path.rsplit("-", 1)[1]},
        )
        assert response.status_code == 302
        made = target
    elif path == "rename-keeps":
        made = services.failure_class_rename(failure_class=config, name="Config")
    else:
        source = config if path.startswith("merge-change") else leak
        target = (
            config
            if path.endswith("into-change")
            else (
                FailureClass.objects.get(slug="capacity-exhaustion")
                if source == leak
                else services.failure_class_create(name="Config and flag pushes")
            )
        )
        made = services.failure_class_merge(source=source, target=target)
    made.refresh_from_db()
    assert made.axis == expected


def test_merging_a_change_class_keeps_trigger_labelling(config_confirmed, editor):
    """GIVEN postmortems confirmed as configuration changes
    WHEN a person merges that class into a new class of their own
    THEN a full run still labels their triggers (not their root causes) with
    the class they now belong to, and reads triggers for it."""
    made = config_confirmed(4)
    target = services.failure_class_create(name="Config and flag pushes")
    services.failure_class_merge(
        source=FailureClass.objects.get(slug="config-change"), target=target
    )
    _run()
    for postmortem in made:
        rows = {s.key: s for s in CauseStatement.objects.filter(postmortem=postmortem)}
        assert rows["trigger"].source == ClassificationSource.CONFIRMED
        assert rows["trigger"].failure_class == target
        assert rows["root_cause"].source != ClassificationSource.CONFIRMED


def _split_from(slug):
    def split(client, editor, postmortem, failure_class):
        services.postmortem_class_confirm(
            postmortem=postmortem,
            failure_class=FailureClass.objects.get(slug=slug),
            user=editor,
            retrain=False,
        )
        services.failure_class_split(
            failure_class=FailureClass.objects.get(slug=slug),
            postmortem_ids=[postmortem.pk],
            name="Split off",
            user=editor,
        )

    split.__name__ = f"split_from_{slug}"
    return split


@pytest.mark.parametrize(
    ("confirm", "slug"),
    [
        (_confirm_on_page, "config-change"),
        (_confirm_on_page, "resource-leak"),
        (_split_from("config-change"), "config-change"),
        (_split_from("resource-leak"), "resource-leak"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
@pytest.mark.parametrize("shape", ["root cause and trigger", "a factor only"])
def test_a_postmortem_confirmation_records_the_statement_it_labels(
    config_confirmed, make_postmortem, client, editor, confirm, slug, shape
):
    """GIVEN a postmortem with a root cause and a trigger, or a factor only
    WHEN a person confirms its class, on the page or by a split, in a class of
    change or of mechanism
    THEN its ConfirmationEffect names the statement the run labels with it (the
    trigger for a change, the root cause for a mechanism, else the first)."""
    config_confirmed(4)
    if shape == "a factor only":
        postmortem = make_postmortem("", factors=[("technical", LEAK_ROOT_CAUSE)])
    else:
        postmortem = make_postmortem(LEAK_ROOT_CAUSE, trigger=NEW_TRIGGER)
    confirm(client, editor, postmortem, FailureClass.objects.get(slug=slug))
    _run()
    labelled = CauseStatement.objects.get(
        postmortem=postmortem,
        source=ClassificationSource.CONFIRMED,
        from_postmortem=True,
    )
    effect = ConfirmationEffect.objects.get(postmortem=postmortem)
    assert effect.statement_key == labelled.key
    if shape == "a factor only":
        assert labelled.key.startswith("factor:")
    else:
        assert labelled.key == ("trigger" if slug == "config-change" else "root_cause")


def _row(kind, slug, confidence, source=ClassificationSource.CLASSIFIER):
    from insights.services.statements import StatementRow

    failure_class = FailureClass.objects.get(slug=slug) if slug else None
    return StatementRow(
        kind=kind,
        factor_id=None,
        text="",
        text_hash="",
        class_id=failure_class.pk if failure_class else None,
        confidence=confidence,
        source=source if failure_class else ClassificationSource.NONE,
        abstained=failure_class is None,
        best_guess_id=None,
        runner_up_id=None,
        margin=0.0,
        teach_score=0.0,
        confirmed_by_id=None,
        confirmed_at=None,
    )


@pytest.mark.parametrize(
    ("root_cause", "trigger", "primary"),
    [
        # The trigger's change is surer than the root cause's mechanism.
        (("resource-leak", 0.4), ("config-change", 0.6), "config-change"),
        # The mechanism is surer.
        (("resource-leak", 0.6), ("config-change", 0.4), "resource-leak"),
        # The root cause abstained: the change the classifier is sure of.
        ((None, 0.1), ("bad-deploy", 0.3), "bad-deploy"),
        # Zero-shot on the trigger (taxonomy, not the classifier) never wins.
        (("resource-leak", 0.4), ("config-change", 0.9, "taxonomy"), "resource-leak"),
        # A trigger put in a mechanism names no change.
        (("resource-leak", 0.4), ("retry-storm", 0.9), "resource-leak"),
        # A person's word on either statement wins over any guess.
        (("resource-leak", 1.0, "confirmed"), ("config-change", 0.9), "resource-leak"),
        (("resource-leak", 0.9), ("bad-deploy", 1.0, "confirmed"), "bad-deploy"),
    ],
)
def test_primary_class_is_the_change_when_the_trigger_is_surer(
    db, root_cause, trigger, primary
):
    """A postmortem's primary class is the change its trigger names when the
    classifier is surer of it than of the root cause's mechanism, as a person
    confirming a class of change labels the trigger."""
    from insights.services.statements import primary_supervision

    rows = {
        (1, "root_cause"): _row("root_cause", *root_cause),
        (1, "trigger"): _row("trigger", *trigger),
    }
    answers = primary_supervision(
        primary=None,
        statement_rows=rows,
        classes=list(FailureClass.objects.all()),
        statements_validated=True,
    )
    assert answers[1][0] == primary
