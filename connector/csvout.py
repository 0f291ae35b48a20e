"""CSV text a spreadsheet shows as text and never runs as a formula: the one writer of every CSV export.

The CLI's `connector suppliers lateness --csv` and the dashboard's exports both write through
`csv_text`. A text cell starting with `= + - @`, a tab or a carriage return is prefixed with `'`
(a spreadsheet would run it as a formula otherwise); `unguard` takes the prefix off again for a
reader of our own files. Numbers the connector computed (int, float) are written as they are: a
negative lateness of `-2` days is a number, not a formula, and must read back as one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"


def safe_cell(value: object) -> str:
    """One cell: None is empty, numbers as they are, text guarded against formula injection."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return GUARD + text if text.startswith(FORMULA_PREFIXES) else text


def unguard(text: str) -> str:
    """A cell as it was before `safe_cell` guarded it (files this connector wrote, read back)."""
    return text[1:] if text.startswith(GUARD) and text[1:].startswith(FORMULA_PREFIXES) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The header and rows as CSV text ("\\n" line ends), every cell through `safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([safe_cell(name) for name in header])
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue()
