"""Parsing Markdown (Google SRE template) and JSONL postmortems: the pure parser."""

import datetime as dt
from pathlib import Path

from postmortems.importer import parse_file, parse_jsonl, parse_markdown

DATA = Path(__file__).parent / "data"


def _utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_parse_markdown_reads_the_google_sre_template():
    parsed = parse_file("sre_good.md", (DATA / "sre_good.md").read_text())
    assert parsed.ok, parsed.problems
    (record,) = parsed.records
    assert record.title == "Shakespeare search outage"
    assert record.severity == "SEV1"
    assert record.services == ["checkout"]
    assert set(record.sections) == {
        "summary",
        "impact",
        "root_cause",
        "trigger",
        "resolution",
        "detection",
        "went_well",
        "went_wrong",
        "got_lucky",
        "supporting_info",
    }
    assert record.sections["summary"].startswith("Shakespeare Search was down")
    assert "resource leak" in record.sections["root_cause"]
    # The book's OUTAGE markers set the lifecycle.
    assert record.started_at == _utc(2015, 10, 21, 14, 54)
    assert record.mitigated_at == _utc(2015, 10, 21, 15, 37)
    assert record.resolved_at == _utc(2015, 10, 21, 16, 0)
    assert [entry.occurred_at.strftime("%H:%M") for entry in record.timeline] == [
        "14:51",
        "14:54",
        "14:55",
        "15:37",
        "16:00",
    ]
    assert record.timeline[3].kind == "mitigation"
    assert [
        (a.title[:22], a.category, a.owner, a.done) for a in record.action_items
    ] == [
        ("Update playbook with i", "mitigation", "jennifer", True),
        ("Schedule a cascading f", "process", "docbrown", False),
    ]


def test_parse_markdown_reports_missing_required_sections():
    text = "# Login outage\n\nDate: 2025-01-02\n\n## Summary\nLogins failed.\n"
    parsed = parse_markdown(text, path="login.md")
    assert not parsed.ok and parsed.records == []
    assert [str(p) for p in parsed.problems] == [
        "login.md:1: missing required section(s): ## Impact, ## Root Causes"
    ]


def test_parse_markdown_reports_an_empty_required_section_at_its_line():
    text = "# X\nDate: 2025-01-02\n## Summary\nS\n## Impact\n\n## Root Causes\nR\n"
    parsed = parse_markdown(text, path="x.md")
    assert [str(p) for p in parsed.problems] == ["x.md:5: ## Impact is empty"]


def test_parse_markdown_reports_a_timeline_line_without_a_time():
    text = (
        "---\ntitle: X\ndate: 2025-01-02\n---\n## Summary\nS\n## Impact\nI\n"
        "## Root Causes\nR\n## Timeline\n- 10:00 Alert fired\n- then we waited\n"
    )
    parsed = parse_markdown(text, path="x.md")
    assert len(parsed.problems) == 1
    assert str(parsed.problems[0]).startswith("x.md:13: timeline line has no time")


def test_parse_markdown_needs_a_title_and_a_date():
    parsed = parse_markdown(
        "## Summary\nS\n## Impact\nI\n## Root Causes\nR\n", path="a.md"
    )
    messages = [p.message for p in parsed.problems]
    assert any(m.startswith("no title") for m in messages)
    assert any(m.startswith("no date") for m in messages)


def test_parse_markdown_reports_unclosed_front_matter_and_bad_values():
    parsed = parse_markdown("---\ntitle: X\nseverity: high\n", path="a.md")
    assert "a.md:1: front matter is not closed by a `---` line" in [
        str(p) for p in parsed.problems
    ]
    parsed = parse_markdown(
        "---\ntitle: X\ndate: 21/10/2015\nseverity: high\n---\n"
        "## Summary\nS\n## Impact\nI\n## Root Causes\nR\n",
        path="a.md",
    )
    assert [str(p) for p in parsed.problems] == [
        "a.md:3: cannot read the date '21/10/2015' (use 2025-10-21)",
        "a.md:4: unknown severity 'high': use SEV0, SEV1, SEV2 or SEV3",
    ]


def test_parse_markdown_keeps_unknown_sections_under_supporting_information():
    text = (
        "# X\nDate: 2025-01-02 10:00\n## Summary\nS\n## Impact\nI\n"
        "## Root Causes\nR\n## Glossary\nSLO: a target.\n"
    )
    parsed = parse_markdown(text, path="x.md")
    assert parsed.ok
    assert parsed.records[0].started_at == _utc(2025, 1, 2, 10, 0)
    assert (
        "### Glossary\n\nSLO: a target."
        in parsed.records[0].sections["supporting_info"]
    )
    assert [str(w) for w in parsed.warnings] == [
        "x.md:9: “## Glossary” is not a Google SRE heading; kept under "
        "Supporting information"
    ]


def test_parse_markdown_timeline_with_full_dates_and_offsets():
    text = (
        "# X\n## Summary\nS\n## Impact\nI\n## Root Causes\nR\n## Timeline\n"
        "- 2025-03-30 23:50 Alert fired\n"
        "- 2025-03-31 01:10+02:00 Rolled back the deploy\n"
    )
    (record,) = parse_markdown(text, path="x.md").records
    # No date given: the incident starts with its first timeline entry.
    assert record.started_at == _utc(2025, 3, 30, 23, 10)
    assert [e.occurred_at for e in record.timeline] == [
        _utc(2025, 3, 30, 23, 10),
        _utc(2025, 3, 30, 23, 50),
    ]
    assert record.timeline[0].kind == "mitigation"


def test_parse_jsonl_reads_each_line():
    parsed = parse_file("good.jsonl", (DATA / "good.jsonl").read_text())
    assert parsed.ok, parsed.problems
    first, second = parsed.records
    assert first.title == "Card processor timeouts"
    assert first.started_at == _utc(2025, 3, 4, 9, 12)
    assert first.sections == {
        "summary": "Payments timed out for 20 minutes.",
        "root_cause": "The processor's TLS handshake slowed down; our timeout was "
        "shorter.",
        "trigger": "Processor maintenance.",
    }
    assert (first.line, second.line) == (1, 3)
    assert second.team == "identity"
    assert second.started_at == _utc(2025, 4, 1, 0, 0)
    assert [a.title for a in second.action_items] == [
        "Alert when the billing run is late"
    ]
    assert second.action_items[0].category == "detection"


def test_parse_jsonl_reports_each_bad_line_with_its_number():
    text = "\n".join(
        [
            '{"title": "A", "date": "2025-01-01", "text": "ok"}',
            '{"title": "B", "date": "2025-01-02" "text": "missing comma"}',
            '["not", "an", "object"]',
            '{"title": "", "date": "yesterday", "text": "x", "severity": "SEV7"}',
        ]
    )
    parsed = parse_jsonl(text, path="bad.jsonl")
    assert parsed.records == []
    assert [str(p) for p in parsed.problems] == [
        "bad.jsonl:2: not valid JSON: Expecting ',' delimiter (column 37)",
        "bad.jsonl:3: each line must be a JSON object {...}",
        "bad.jsonl:4: “title” is missing or empty",
        "bad.jsonl:4: cannot read the date 'yesterday' (use 2025-10-21)",
        "bad.jsonl:4: unknown severity 'SEV7': use SEV0, SEV1, SEV2 or SEV3",
    ]


def test_parse_jsonl_warns_about_unknown_fields():
    parsed = parse_jsonl(
        '{"title": "A", "date": "2025-01-01", "text": "t", "colour": "red"}',
        path="a.jsonl",
    )
    assert parsed.ok
    assert [str(w) for w in parsed.warnings] == ["a.jsonl:1: ignored field(s): colour"]


def test_parse_file_rejects_unknown_file_types():
    parsed = parse_file("notes.txt", "hello")
    assert [str(p) for p in parsed.problems] == [
        "notes.txt:1: unknown file type: use .md/.markdown or .jsonl"
    ]


def test_import_keys_are_stable_for_the_same_postmortem():
    text = '{"title": "A", "date": "2025-01-01", "text": "t"}'
    assert (
        parse_jsonl(text, path="a.jsonl").records[0].key
        == parse_jsonl(text + "\n", path="b.jsonl").records[0].key
    )


def test_parse_markdown_headings_inside_code_blocks_are_text():
    """GIVEN a Summary that quotes a Markdown snippet in a fenced code block
    WHEN the file is parsed THEN the "## Impact" inside the block is part of the
    Summary, not a section (markdown-it's tokens, not a line scanner)."""
    text = (
        "---\ntitle: Docs outage\ndate: 2025-01-02\n---\n"
        "## Summary\nThe renderer choked on:\n\n```markdown\n## Impact\nnone\n```\n\n"
        "## Impact\nDocs were down.\n\n## Root Causes\nA parser bug.\n"
    )
    parsed = parse_markdown(text, path="doc.md")
    assert parsed.ok, parsed.problems
    [record] = parsed.records
    assert "```markdown\n## Impact\nnone\n```" in record.sections["summary"]
    assert record.sections["impact"] == "Docs were down."


def test_parse_markdown_front_matter_is_yaml():
    text = (
        '---\ntitle: "Outage: orders-db"\ndate: 2025-01-02\n'
        "services: [checkout, payments-api]\nseverity: 1\n---\n"
        "## Summary\nx\n## Impact\ny\n## Root Causes\nz\n"
    )
    [record] = parse_markdown(text, path="y.md").records
    assert record.title == "Outage: orders-db"
    assert record.services == ["checkout", "payments-api"]
    assert record.severity == "SEV1"
    assert record.started_at == dt.datetime(2025, 1, 2, tzinfo=dt.UTC)


def test_parse_markdown_reports_front_matter_that_is_not_yaml_at_its_line():
    text = "---\ntitle: ok\ndate: [2025-01-02\n---\n## Summary\nx\n"
    parsed = parse_markdown(text, path="bad.md")
    assert not parsed.ok
    assert str(parsed.problems[0]).startswith(
        "bad.md:3: the front matter is not valid YAML"
    )


def test_parse_markdown_reads_another_templates_headings():
    templates = [
        {
            "slug": "rfo",
            "name": "Reason for Outage (RFO)",
            "sections": [
                ("summary", "Summary"),
                ("root_cause", "What caused the outage"),
                ("impact", "Business impact"),
            ],
        }
    ]
    text = (
        "---\ntitle: T\ndate: 2025-01-02\ntemplate: Reason for Outage (RFO)\n---\n"
        "## Summary\na\n## What caused the outage\nb\n## Business impact\nc\n"
    )
    parsed = parse_markdown(text, path="rfo.md", templates=templates)
    assert parsed.ok, parsed.problems
    [record] = parsed.records
    assert record.template == "rfo"
    assert record.sections == {"summary": "a", "root_cause": "b", "impact": "c"}
