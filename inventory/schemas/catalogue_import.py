"""Bodies of the catalogue import: the row-by-row report an upload gets back."""

from __future__ import annotations

from typing import Literal

import msgspec

FileKind = Literal["items", "par_levels", "packagings"]
RowAction = Literal["create", "update", "unchanged", "rejected"]


class ImportProblem(msgspec.Struct):
    """One thing wrong with a file; `row` is the spreadsheet row (header = 1, 0 = the
    file as a whole), `column` the column it is in, if any."""

    file: FileKind
    row: int
    column: str | None
    message: str


class ImportRow(msgspec.Struct, omit_defaults=True):
    """What the import does (or would do) with one data row."""

    row: int
    sku: str
    action: RowAction
    location: str | None = None
    gtin: str | None = None  # a packagings row's GTIN (its key)
    changed: list[str] = []  # the columns an update changes
    problems: list[str] = []


class ImportReport(msgspec.Struct):
    """The row-by-row outcome of one file. `accepted` is false when any row (or the file
    itself) has a problem; then nothing was written."""

    file: FileKind
    dry_run: bool
    accepted: bool
    created: int
    updated: int
    unchanged: int
    rejected: int
    suppliers_created: list[str]
    locations_created: list[str]
    rows: list[ImportRow]
    problems: list[ImportProblem]


class CatalogueImport(msgspec.Struct):
    """Every file's report (a file not given is null)."""

    dry_run: bool
    accepted: bool
    items: ImportReport | None
    par_levels: ImportReport | None
    packagings: ImportReport | None = None


class ImportRejectedProblem(msgspec.Struct, kw_only=True):
    """The 422 body: problem details plus, when the file was read, the report (its
    `problems` list every problem with its spreadsheet row number and column; `rows` say
    what each row would do). A request without a file gets the plain problem with `errors`."""

    type: str | None = None
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None
    file: str | None = None
    dry_run: bool | None = None
    accepted: bool | None = None
    created: int | None = None
    updated: int | None = None
    unchanged: int | None = None
    rejected: int | None = None
    suppliers_created: list[str] | None = None
    locations_created: list[str] | None = None
    rows: list[ImportRow] | None = None
    problems: list[ImportProblem] | None = None
