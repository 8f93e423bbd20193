"""CSV files people open in a spreadsheet: the one writer every export uses.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel
and LibreOffice (OWASP "CSV injection"): an item name like `=HYPERLINK(...)` typed by one
user would run on the auditor's machine. Such string cells get a leading `'`, which the
spreadsheet shows as text; numbers stay numbers (a negative quantity is not a formula).
`undefuse` takes the `'` off again for files that come back (catalogue import, anyone
recomputing the audit chain from an export).

Rows are written in chunks of many rows, the shape Litestar's `Stream` wants:

    return Stream(csv_chunks(COLUMNS, rows()), media_type="text/csv; charset=utf-8")
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LINE_END = "\r\n"  # RFC 4180
CHUNK_ROWS = 5000
MEDIA_TYPE = "text/csv; charset=utf-8"


_FORMULA_FIRST = frozenset(FORMULA_STARTS)  # each a single character


def defuse(value: Any) -> Any:
    """A string cell a spreadsheet would run as a formula, made text; anything else as is.
    (A set lookup of the first character: exports call this for every free-text cell.)"""
    if isinstance(value, str) and value[:1] in _FORMULA_FIRST:
        return "'" + value
    return value


def undefuse(value: str) -> str:
    """The cell as it was before `defuse` (a `'` followed by a formula character)."""
    if value.startswith("'") and value[1:2] and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


def _defused_rows(
    rows: Iterable[Sequence[Any]], text_columns: Sequence[int] | None
) -> Iterator[Sequence[Any]]:
    if text_columns is None:
        for row in rows:
            yield [defuse(cell) for cell in row]
        return
    for row in rows:
        cells = list(row)
        for i in text_columns:
            cells[i] = defuse(cells[i])
        yield cells


def csv_text(
    rows: Iterable[Sequence[Any]],
    header: Sequence[str] | None = None,
    *,
    text_columns: Sequence[int] | None = None,
    delimiter: str = ",",
) -> str:
    """Rows (and a header) as CSV text, defused. `text_columns`: on a hot export, the
    indexes of the only cells that can hold free text (the others are written as is).
    `delimiter`: `,` by default; `;`, tab or `|` for files another system reads."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=LINE_END, delimiter=delimiter)
    if header is not None:
        writer.writerow([defuse(name) for name in header])
    writer.writerows(_defused_rows(rows, text_columns))
    return out.getvalue()


def csv_chunks(
    header: Sequence[str] | None,
    rows: Iterable[Sequence[Any]],
    *,
    chunk_rows: int = CHUNK_ROWS,
    text_columns: Sequence[int] | None = None,
) -> Iterator[str]:
    """The header, then the rows `chunk_rows` at a time, as CSV text chunks (for a
    `Stream`). Reads `rows` lazily, so a generator over a keyset query streams."""
    if header is not None:
        yield csv_text((), header)
    iterator = iter(rows)
    while chunk := list(islice(iterator, chunk_rows)):
        yield csv_text(chunk, text_columns=text_columns)


def defuse_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a DataFrame with its formula-like string cells defused."""
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_string_dtype(values) or values.dtype == object:
            risky = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS))
            out.loc[risky, column] = "'" + values[risky]
    return out


def frame_csv(frame: pd.DataFrame) -> str:
    """A DataFrame as defused CSV text (no index), as the exports and imports read it."""
    return defuse_frame(frame).to_csv(index=False, lineterminator=LINE_END)
