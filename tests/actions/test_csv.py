"""CSV export: formula escaping (pure) and the export of a filtered list."""

import csv
import io

import pytest

from actions.csv_export import csv_lines, escape_cell
from tests import factories


@pytest.mark.parametrize(
    "value",
    ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR", "\0NUL", "=HYPERLINK()"],
)
def test_escape_cell_prefixes_formula_starts(value):
    assert escape_cell(value) == "'" + value


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Add alert", "Add alert"), ("a=b", "a=b"), ("", ""), (None, ""), (42, "42")],
)
def test_escape_cell_leaves_plain_text(value, expected):
    assert escape_cell(value) == expected


def test_csv_lines_escapes_every_cell_and_quotes_commas():
    text = "".join(csv_lines(["title"], [["=cmd|' /C calc'!A0"], ["a, b"]]))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["title"], ["'=cmd|' /C calc'!A0"], ["a, b"]]


@pytest.mark.django_db
def test_item_export_uses_the_list_filters_and_escapes(editor_client, team, other_team):
    factories.ActionItemFactory(team=team, title='=HYPERLINK("http://x")')
    factories.ActionItemFactory(team=team, title="Plain title")
    factories.ActionItemFactory(team=other_team, title="Other team")
    response = editor_client.get("/actions/export.csv", {"team": "payments"})
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["title"] for r in rows) == [
        '\'=HYPERLINK("http://x")',
        "Plain title",
    ]
    assert all(r["team"] == "Payments" for r in rows)
