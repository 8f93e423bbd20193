"""Reading a spreadsheet's CSV into a table of stripped strings, by spreadsheet row.

Spreadsheet output is accepted as it comes: UTF-8 with or without BOM, comma or semicolon
(sniffed from the header), CRLF, blank rows, and the leading apostrophe the export puts
before cells a spreadsheet would run as formulas (`kernel.csv_export.undefuse`). A file
that is not a table is one problem on row 0 (or the header's row 1).
"""

from __future__ import annotations

import csv
import io
import warnings
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pandas as pd

from inventory.schemas.catalogue_import import (
    CatalogueImport,
    FileKind,
    ImportProblem,
    ImportReport,
)
from kernel.csv_export import undefuse
from kernel.problems import DomainError

ITEM_COLUMNS = (
    "sku", "name", "unit", "pack_size", "supplier", "vendor_sku", "unit_cost", "gtin",
    "lead_time_days", "min_order_qty", "lot_tracked", "category",
)  # fmt: skip
ITEM_REQUIRED = ("sku", "name", "unit", "supplier", "unit_cost")
PAR_COLUMNS = ("sku", "location", "par_level", "reorder_point")
PAR_REQUIRED = ("sku", "location", "par_level")
PACKAGING_COLUMNS = ("sku", "gtin", "units", "name")
PACKAGING_REQUIRED = PACKAGING_COLUMNS
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
# A catalogue file has a dozen columns; a header of thousands (80 KB of `a,a,a,...`) cost
# pandas quadratic time renaming the duplicates, so it is refused before pandas reads it.
MAX_COLUMNS = 100


class ImportRejected(DomainError):
    """A file with problems: 422 with the report (rows and every problem) in the body."""

    status_code = 422

    def __init__(self, report: ImportReport | CatalogueImport) -> None:
        problems = (
            report.problems
            if isinstance(report, ImportReport)
            else [
                *_problems(report.items),
                *_problems(report.par_levels),
                *_problems(report.packagings),
            ]
        )
        count = len(problems)
        first = problems[0] if problems else None
        where = f" (first: row {first.row}: {first.message})" if first else ""
        super().__init__(
            f"The file was not imported: {count} problem{'s' if count != 1 else ''}{where}. "
            "Nothing was written.",
            extra=msgspec.to_builtins(report),
        )


class UploadTooLarge(DomainError):
    status_code = 413


def _problems(report: ImportReport | None) -> list[ImportProblem]:
    return report.problems if report else []


# --- reading -------------------------------------------------------------------------


@dataclass
class Table:
    """A file's data rows as stripped strings, keyed by spreadsheet row number."""

    kind: FileKind
    frame: pd.DataFrame | None
    decimal_comma: bool = False  # a semicolon-separated file: `1,5` is one and a half
    problems: list[ImportProblem] = field(default_factory=list)
    parsed: dict[tuple[str, str], Any] = field(default_factory=dict)

    def file_problem(self, message: str, row: int = 0, column: str | None = None) -> None:
        self.problems.append(ImportProblem(self.kind, row, column, message))


def read_table(
    data: bytes, kind: FileKind, columns: tuple[str, ...], required: tuple[str, ...]
) -> Table:
    table = Table(kind, None)
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    if b"\x00" in data:
        table.file_problem(
            "This is not a CSV text file (it holds binary data). Save it as “CSV UTF-8”."
        )
        return table
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        table.file_problem(
            "The file is not UTF-8 text. In your spreadsheet, save it as “CSV UTF-8”."
        )
        return table
    if not text.strip():
        table.file_problem("The file is empty: it needs a header row and at least one row.")
        return table
    header_line = text.lstrip().split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    if not _header_fits(table, header_line, delimiter):
        return table
    try:
        with warnings.catch_warnings():
            # A row with more cells than the header is only a warning to pandas (it drops
            # the extra cells): here it is a problem.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text),
                sep=delimiter,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
                index_col=False,
                quoting=csv.QUOTE_MINIMAL,
            )
    except (pd.errors.ParserError, pd.errors.ParserWarning):
        _report_ragged_rows(table, text, delimiter)
        return table
    except ValueError as exc:
        table.file_problem(f"The file is not a readable CSV table: {exc}")
        return table
    header = [str(c).strip().lstrip("\ufeff").strip().lower() for c in frame.columns]
    frame.columns = header
    missing = [c for c in columns if c not in header]
    if missing:
        table.file_problem(
            f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)} "
            f"(the header must name: {','.join(columns)}).",
            row=1,
        )
        return table
    frame = frame.loc[:, list(columns)].fillna("").astype(str)
    frame = frame.apply(lambda col: col.str.strip().map(undefuse))
    frame.index = frame.index + 2  # spreadsheet row numbers: the header is row 1
    frame = frame[(frame != "").any(axis=1)]  # blank rows (trailing ones, ;;;;) are skipped
    if frame.empty:
        table.file_problem("The file has a header but no rows.")
        return table
    if len(frame) > MAX_ROWS:
        table.file_problem(f"The file has {len(frame)} rows; at most {MAX_ROWS} per import.")
        return table
    for column in required:
        for row in frame.index[frame[column] == ""]:
            table.file_problem(f"{column} is required.", row=int(row), column=column)
    table.frame = frame
    table.decimal_comma = delimiter == ";"
    return table


def _header_fits(table: Table, header_line: str, delimiter: str) -> bool:
    """Refuse a header with more than MAX_COLUMNS cells, or a column named twice (one
    linear pass over the first line, before pandas sees the file)."""
    cells = next(csv.reader([header_line], delimiter=delimiter), [])
    if len(cells) > MAX_COLUMNS:
        table.file_problem(
            f"The header has {len(cells)} columns; a catalogue file has at most {MAX_COLUMNS}.",
            row=1,
        )
        return False
    names = [c.strip().lstrip("\ufeff").strip().lower() for c in cells]
    twice = sorted({n for n in names if n and names.count(n) > 1})
    if twice:
        table.file_problem(f"Column named more than once: {', '.join(twice)}.", row=1)
        return False
    return True


def _report_ragged_rows(table: Table, text: str, delimiter: str) -> None:
    """Every row with more cells than the header (pandas stops at the first one)."""
    width = 0
    try:
        for number, record in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), 1):
            if number == 1:
                width = len(record)
            elif len(record) > width:
                table.file_problem(
                    f"This row has {len(record)} cells but the header has {width}: a "
                    f"{'semicolon' if delimiter == ';' else 'comma'} inside a cell that is "
                    "not in quotes (like $1,234.50)?",
                    row=number,
                )
    except csv.Error as exc:
        table.file_problem(f"The file is not a readable CSV table: {exc}")
    if not table.problems:
        table.file_problem("The file is not a readable CSV table.")
