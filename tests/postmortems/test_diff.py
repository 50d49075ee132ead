"""Word-level diffs between postmortem versions (postmortems/diff.py): pure."""

from postmortems.diff import DocumentField, document_diff, document_fields, word_diff


def test_word_diff_marks_only_the_changed_words():
    assert word_diff("The pool was small.", "The pool was tiny.") == [
        ("equal", "The pool was "),
        ("del", "small"),
        ("add", "tiny"),
        ("equal", "."),
    ]


def test_word_diff_of_identical_and_empty_texts():
    assert word_diff("same text", "same text") == [("equal", "same text")]
    assert word_diff("", "") == []
    assert word_diff("", "new") == [("add", "new")]
    assert word_diff("old", "") == [("del", "old")]


def test_word_diff_runs_rebuild_both_texts():
    old = "Checkout failed for 40 minutes.\n\nThe pool was 50."
    new = "Checkout failed for 44 minutes.\n\nThe pool was 50; raised to 200."
    runs = word_diff(old, new)
    assert "".join(text for kind, text in runs if kind != "add") == old
    assert "".join(text for kind, text in runs if kind != "del") == new


def test_document_fields_follow_the_template_and_keep_orphans():
    fields = document_fields(
        template_sections=[
            {"key": "summary", "title": "Summary"},
            {"key": "root_cause", "title": "Root causes"},
        ],
        sections={"summary": "S", "legacy_notes": "kept"},
        five_whys=["Why A?", "Why B?"],
        impact={"users_affected": 10, "regions": ["eu-west-1"]},
    )
    assert [(f.key, f.label, f.text) for f in fields] == [
        ("summary", "Summary", "S"),
        ("root_cause", "Root causes", ""),
        ("legacy_notes", "Legacy notes", "kept"),
        ("five_whys", "Five whys", "1. Why A?\n2. Why B?"),
        ("impact_facts", "Impact figures", "Users affected: 10\nRegions: eu-west-1"),
    ]


def test_document_diff_reports_changed_fields_only_as_changed():
    old = [DocumentField("summary", "Summary", "A"), DocumentField("gone", "Gone", "x")]
    new = [DocumentField("summary", "Summary", "A"), DocumentField("added", "New", "y")]
    diffs = {d.key: d for d in document_diff(old, new)}
    assert not diffs["summary"].changed
    assert diffs["added"].ops == [("add", "y")]
    assert diffs["gone"].ops == [("del", "x")]


def test_document_fields_add_the_lists_only_where_recorded():
    sections = [{"key": "summary", "title": "Summary"}]
    recorded = document_fields(
        template_sections=sections,
        sections={"summary": "x"},
        five_whys=[],
        impact={},
        list_parts={"factors": ["Technical: pool size"], "hypotheses": []},
    )
    labels = {field.key: field.text for field in recorded}
    assert labels["factors"] == "Technical: pool size"
    assert labels["hypotheses"] == ""
    unrecorded = document_fields(
        template_sections=sections, sections={}, five_whys=[], impact={}
    )
    assert "factors" not in {field.key for field in unrecorded}
    # Compared with a version that did not record them, they are left out.
    assert "factors" not in {diff.key for diff in document_diff(unrecorded, recorded)}
    assert {diff.key for diff in document_diff(recorded, recorded)} >= {
        "factors",
        "hypotheses",
    }
