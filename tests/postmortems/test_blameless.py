"""The blameless-language check (postmortems/blameless.py): pure, no database."""

import pytest

from postmortems.blameless import RULES, analyze, analyze_fields

PEOPLE = ["Alice Martin", "Bob Stone", "Carol Diaz", "Dave Kim", "Mark Lee"]

BLAMING = [
    ("Alice should have checked the config before pushing it.", "counterfactual"),
    ("He should have known better.", "judgement"),
    ("We should have rolled back sooner.", "counterfactual"),
    ("The operator should've double-checked the target cluster.", "counterfactual"),
    ("Alice should have been more careful.", "counterfactual"),
    ("The outage was caused by @bob.", "person_as_cause"),
    ("Checkout went down because Alice pushed the wrong file.", "person_as_cause"),
    ("The outage happened due to Dave.", "person_as_cause"),
    ("@carol broke production.", "person_as_cause"),
    ("The incident was caused by an engineer running the wrong script.",
     "person_as_cause"),
    ("Root cause: @dave", "person_as_cause"),
    ("It was Bob's mistake.", "possessive_fault"),
    ("It was the on-call engineer's fault.", "possessive_fault"),
    ("Alice's error took down checkout.", "possessive_fault"),
    ("It was his fault.", "possessive_fault"),
    ("Root cause: human error.", "human_error"),
    ("This was operator error during the failover.", "human_error"),
    ("The root cause was user error.", "human_error"),
    ("Human error caused the outage.", "human_error"),
    ("The engineer was careless with the migration.", "judgement"),
    ("The on-call engineer was negligent.", "judgement"),
    ("The intern is incompetent.", "judgement"),
    ("Someone fat-fingered the command.", "judgement"),
    ("Sloppy review let the bug through.", "judgement"),
    ("Carol forgot to renew the certificate.", "forgot"),
    ("Dave failed to follow the runbook.", "person_failed"),
    ("Bob made a mistake in the config.", "person_failed"),
    ("The reviewer missed the typo in the diff.", "person_failed"),
    ("Mark didn't bother to read the alert.", "person_failed"),
    ("Blame lies with the release manager.", "blame"),
    ("The team blamed the vendor for the delay.", "blame"),
]  # fmt: skip

NEUTRAL = [
    "The job should complete in five minutes.",
    "The batch job should have completed by 02:00 but ran until 04:10.",
    "The alert should have fired at 10:05, but its threshold was too high.",
    "The on-call should have been paged ten minutes earlier.",
    "The operator dashboard showed stale data.",
    "Logs are now human-readable.",
    "We burned 30% of the monthly error budget.",
    "The service's error rate doubled.",
    "The user error rate rose to 4% after the deploy.",
    "The parser's error handling swallowed the exception.",
    "The health check failed to detect the stuck worker.",
    "Retries failed to back off, which amplified load.",
    "Alice rolled back the deploy at 10:42.",
    "Alice triggered a manual failover at 10:20.",
    "@bob paged the database team.",
    "The on-call engineer acknowledged the page within two minutes.",
    "The failover was started by the on-call engineer.",
    "This is a blameless postmortem; we do not assign blame.",
    "No one is to blame; the process allowed it.",
    "Human factors: the runbook step was ambiguous.",
    "We automated the step to reduce human error.",
    "The config push caused the outage because the validator accepted an empty list.",
    "The deploy was triggered by the CI pipeline.",
    "Operators could see the queue depth on the dashboard.",
    "mark the incident as resolved once traffic recovers.",
    "Lazy loading of the product images hid the latency.",
    "The impact was negligible for EU users.",
    "The culprit was a missing index on orders.created_at.",
    "The on-call rotation had a gap on Sunday.",
    "A forgotten cron job kept writing to the old bucket.",
    "The log said `user error: should have provided token`.",
]


@pytest.mark.parametrize(("sentence", "rule"), BLAMING)
def test_analyze_flags_blaming_sentence(sentence, rule):
    hits = analyze(sentence, people=PEOPLE)
    assert [hit.rule for hit in hits] == [rule], hits


@pytest.mark.parametrize("sentence", NEUTRAL)
def test_analyze_leaves_neutral_sentence_alone(sentence):
    assert analyze(sentence, people=PEOPLE) == []


def test_analyze_corpus_sizes_meet_the_bar():
    assert len(BLAMING) >= 15
    assert len(NEUTRAL) >= 15
    assert "The job should complete in five minutes." in NEUTRAL


def test_analyze_hit_has_span_text_and_a_system_question():
    text = "Summary first.\n\nThe outage was caused by @bob during the push."
    [hit] = analyze(text, people=PEOPLE)
    assert text[hit.start : hit.end] == hit.text == "caused by @bob"
    assert hit.label == RULES["person_as_cause"][0]
    assert "system" in hit.suggestion and hit.suggestion.rstrip().endswith("?")


def test_analyze_every_rule_suggestion_asks_about_the_system():
    for label, suggestion in RULES.values():
        assert label
        assert "?" in suggestion and "system" in suggestion


def test_analyze_should_have_needs_a_person_as_subject():
    """GIVEN "should have" WHEN its subject is a thing THEN no hit; a person: hit."""
    assert analyze("The job should have completed.", people=PEOPLE) == []
    [hit] = analyze("Dave should have completed it.", people=PEOPLE)
    assert hit.text == "Dave should have completed"


def test_analyze_names_only_count_when_known_and_capitalised():
    # Without the list, a bare name is just a word; a handle is always a person.
    assert analyze("Zed failed to follow the runbook.") == []
    assert analyze("Zed failed to follow the runbook.", people=["Zed Ray"])
    assert analyze("It was caused by @zed.")
    # Case-sensitive: "Mark" the person is not "mark" the verb.
    assert analyze("mark failed to load", people=PEOPLE) == []


def test_analyze_reports_several_hits_in_order_without_overlaps():
    text = "Bob forgot to renew it. The root cause was human error. Careless!"
    hits = analyze(text, people=PEOPLE)
    assert [hit.rule for hit in hits] == ["forgot", "human_error", "judgement"]
    assert [hit.start for hit in hits] == sorted(hit.start for hit in hits)


def test_analyze_skips_fenced_code_blocks():
    text = (
        "Log excerpt:\n\n```\nERROR human error: operator should have confirmed\n```\n"
    )
    assert analyze(text, people=PEOPLE) == []


def test_analyze_fields_labels_each_hit_with_its_field():
    hits = analyze_fields(
        [("section:summary", "Summary", "Fine."), ("section:root_cause", "Root causes",
          "Root cause: human error.")],
        people=PEOPLE,
    )  # fmt: skip
    assert [(h["field"], h["field_label"], h["text"]) for h in hits] == [
        ("section:root_cause", "Root causes", "human error")
    ]


def test_analyze_empty_text_has_no_hits():
    assert analyze("") == []
    assert analyze(None) == []


def test_analyze_finds_the_subject_of_a_coordinated_verb():
    """GIVEN "he was careless, assumed it was a blip and should have escalated"
    THEN "should have" is about "he", even though "and" comes right before it."""
    text = (
        "Honestly, this was operator error by Chen: he was careless,\n"
        "  assumed it was a blip and should have escalated straight away."
    )
    hits = analyze(text, people=["Chen Wei"])
    assert [(hit.rule, hit.text) for hit in hits] == [
        ("human_error", "operator error by Chen"),
        ("judgement", "careless"),
        ("counterfactual", "should have escalated"),
    ]
    # A thing before the conjunction is not a person.
    assert analyze("The job started late and should have finished by 02:00.") == []


def test_analyze_reads_across_soft_wrapped_markdown_lines():
    text = "- The on-call engineer\n  should have paged the database team."
    [hit] = analyze(text)
    assert hit.rule == "counterfactual"
    assert analyze("- The batch job\n  should have finished by 02:00.") == []
