"""CSV export without formula injection. Pure: plain values in, text out.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(and some also after a leading tab, carriage return or NUL), so such cells get a
leading apostrophe, which spreadsheets show as text.
"""

import csv
import io
from collections.abc import Iterable, Iterator

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")


def escape_cell(value: object) -> str:
    """The cell as text, with a leading ``'`` if a spreadsheet would run it."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_lines(header: list[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """Yield CSV text line by line (for a streaming response), every cell escaped."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([escape_cell(cell) for cell in header])
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([escape_cell(cell) for cell in row])
        yield buffer.getvalue()
