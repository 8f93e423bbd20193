"""Loading the catalogue from the CSV files a clinic brings (and giving them back).

Two files, in the column formats the export writes, so export → edit in a spreadsheet →
import is a round trip:

- items: ``sku,name,unit,pack_size,supplier,vendor_sku,unit_cost,gtin,lead_time_days,
  min_order_qty,lot_tracked,category`` (supplier by name, created if new);
- par levels: ``sku,location,par_level,reorder_point`` (location by code, created if new;
  a blank reorder point is half the par level, rounded up, as the PUT endpoint does).

An import is all or nothing. Every row is checked first (and every problem of every row
is reported with its spreadsheet row number, the header being row 1); only a file without
problems is written, in the caller's transaction. The writes are set-based (one
executemany per table) because the ORM's per-object path took several seconds for a
2,000-item catalogue; each created or changed row still gets the same audit entry the API
writes (`item.create`, `item.update`, `item.par_level`, ...), plus one `catalogue.import`
summary entry naming the files' SHA-256.

Spreadsheet output is accepted as it comes: UTF-8 with or without BOM, comma or semicolon
(sniffed from the header), CRLF, `$1,234.50` / `1234.5` / `1.234,50` money,
`yes/no/true/false/1/0/y/n` booleans, blank optional cells, trailing blank rows, and the
leading apostrophe the export puts before cells a spreadsheet would run as formulas.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import msgspec
import pandas as pd
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from inventory.catalogue import (
    checked_reorder_point,
    clean_unit_cost,
    normalize_code,
    normalize_sku,
)
from inventory.gs1 import gtin_check_digit_problem
from inventory.models import Item, Location, StockLevel, Supplier
from inventory.reorder import FORMULA_STARTS, defuse_formulas
from inventory.schemas import ItemCreate, LocationCreate, ParLevelSet, SupplierCreate
from kernel import audit
from kernel.db import utcnow
from kernel.problems import DomainError

ITEM_COLUMNS = (
    "sku", "name", "unit", "pack_size", "supplier", "vendor_sku", "unit_cost", "gtin",
    "lead_time_days", "min_order_qty", "lot_tracked", "category",
)  # fmt: skip
ITEM_REQUIRED = ("sku", "name", "unit", "supplier", "unit_cost")
PAR_COLUMNS = ("sku", "location", "par_level", "reorder_point")
PAR_REQUIRED = ("sku", "location", "par_level")
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000

FileKind = Literal["items", "par_levels"]
RowAction = Literal["create", "update", "unchanged", "rejected"]

TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0"})
# Spreadsheet money: optional currency sign, then plain, US or European grouping.
CURRENCY = re.compile(r"^(?:US\$|\$|USD|EUR|€)\s*|\s*(?:USD|EUR|€)$", re.IGNORECASE)
PLAIN_NUMBER = re.compile(r"^\d*\.?\d+$|^\d+\.$")
US_GROUPED = re.compile(r"^[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?$")
EU_GROUPED = re.compile(r"^[1-9]\d{0,2}(?:\.\d{3})+(?:,\d*)?$")
DECIMAL_COMMA = re.compile(r"^\d+,\d+$")
WHOLE = re.compile(r"^\d+(?:\.0*)?$")


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
    """Both files' reports (a file not given is null)."""

    dry_run: bool
    accepted: bool
    items: ImportReport | None
    par_levels: ImportReport | None


class ImportRejected(DomainError):
    """A file with problems: 422 with the report (rows and every problem) in the body."""

    status_code = 422

    def __init__(self, report: ImportReport | CatalogueImport) -> None:
        problems = (
            report.problems
            if isinstance(report, ImportReport)
            else [*_problems(report.items), *_problems(report.par_levels)]
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


# --- reading a spreadsheet's CSV -------------------------------------------------------


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


def _undo_defused(value: str) -> str:
    """The export writes `'=x` for a cell starting with `=`; read it back as `=x`."""
    if value.startswith("'") and value[1:2] and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


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
    frame = frame.apply(lambda col: col.str.strip().map(_undo_defused))
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


# --- cells ---------------------------------------------------------------------------


class CellError(ValueError):
    pass


def parse_money(text: str, *, decimal_comma: bool = False) -> Decimal:
    """`$1,234.50`, `1234.5`, `1.234,50`, `0,45` → an exact unit cost (the API's rule).

    `1,234` is 1234 in a comma-separated file but 1.234 in a semicolon-separated one
    (where the spreadsheet's locale writes a decimal comma)."""
    raw = CURRENCY.sub("", text.replace("\u00a0", " ").strip()).replace(" ", "")
    if decimal_comma and (EU_GROUPED.match(raw) or DECIMAL_COMMA.match(raw)):
        number = raw.replace(".", "").replace(",", ".")
    elif PLAIN_NUMBER.match(raw):
        number = raw
    elif US_GROUPED.match(raw):
        number = raw.replace(",", "")
    elif EU_GROUPED.match(raw) or DECIMAL_COMMA.match(raw):
        number = raw.replace(".", "").replace(",", ".")
    else:
        raise CellError(f"{text!r} is not an amount of money (write it like 1234.50 or $1,234.50).")
    try:
        return clean_unit_cost(number).quantize(Decimal("0.0001"))
    except DomainError as exc:
        raise CellError(exc.detail) from exc


def parse_bool(text: str, default: bool = False) -> bool:
    if not text:
        return default
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(f"{text!r} is not yes or no (write yes/no, true/false, y/n or 1/0).")


def parse_gtin(text: str) -> str:
    """A GTIN-8/12/13/14 with a correct check digit, as its 14-digit form."""
    if not re.fullmatch(r"\d{8}|\d{12,14}", text):
        raise CellError(f"{text!r} is not a GTIN (8, 12, 13 or 14 digits).")
    if problem := gtin_check_digit_problem(text):
        raise CellError(problem)
    return text.zfill(14)


_ITEM_TYPES = {f.name: f.type for f in msgspec.structs.fields(ItemCreate)}
_PAR_TYPES = {f.name: f.type for f in msgspec.structs.fields(ParLevelSet)}
_CODE_TYPE = {f.name: f.type for f in msgspec.structs.fields(LocationCreate)}["code"]
_SUPPLIER_NAME_TYPE = {f.name: f.type for f in msgspec.structs.fields(SupplierCreate)}["name"]
# What each column must look like, in a spreadsheet user's words; the limits themselves
# are the API schema's (ItemCreate, ParLevelSet, LocationCreate), checked below.
RULES = {
    "sku": "must be 1-40 letters, digits or _ . / -",
    "name": "must be 1-200 characters of text",
    "unit": "must be 1-20 characters (box, each, pack...)",
    "pack_size": "must be a whole number from 1 to 1,000,000",
    "supplier": "must be 1-200 characters of text",
    "vendor_sku": "must be at most 64 characters",
    "lead_time_days": "must be a whole number of days from 0 to 365",
    "min_order_qty": "must be a whole number from 0 to 1,000,000",
    "category": "must be at most 64 characters",
    "location": "must be 1-20 letters, digits or _ . -",
    "par_level": "must be a whole number from 0 to 1,000,000",
    "reorder_point": "must be a whole number from 0 to 1,000,000",
}


def _convert(column: str, text: str, type_: Any) -> Any:
    value: Any = text
    if column in ("pack_size", "lead_time_days", "min_order_qty", "par_level", "reorder_point"):
        if not WHOLE.match(text):
            raise CellError(f"{text!r} {RULES[column]}.")
        value = int(text.split(".")[0])
    try:
        return msgspec.convert(value, type_, strict=False)
    except msgspec.ValidationError as exc:
        raise CellError(f"{text!r} {RULES[column]}.") from exc


@dataclass
class ItemRow:
    row: int
    sku: str
    values: dict[str, Any]  # item columns as stored (supplier_id filled in later)
    supplier: str


@dataclass
class ParRow:
    row: int
    sku: str
    location: str
    par_level: int
    reorder_point: int


def _check_cells(
    table: Table, row: int, cells: dict[str, str], parsers: dict[str, Any]
) -> dict[str, Any] | None:
    """Each cell through its parser; every failure becomes a problem. None if any failed.

    Results are remembered per (column, text): a par-level file repeats its locations and
    numbers thousands of times, and parsing each cell again was most of the import's time.
    """
    out: dict[str, Any] = {}
    ok = True
    cache = table.parsed
    for column, parse in parsers.items():
        key = (column, cells[column])
        result = cache.get(key, cache)
        if result is cache:
            try:
                result = parse(key[1])
            except CellError as exc:
                result = exc
            cache[key] = result
        if isinstance(result, CellError):
            ok = False
            table.file_problem(str(result), row=row, column=column)
        else:
            out[column] = result
    return out if ok else None


def _records(frame: pd.DataFrame) -> Iterable[tuple[int, dict[str, str]]]:
    columns = list(frame.columns)
    values = zip(*(frame[c].tolist() for c in columns), strict=True)
    for row, cells in zip(frame.index.tolist(), values, strict=True):
        yield row, dict(zip(columns, cells, strict=True))


def _optional(parse: Any) -> Any:
    return lambda text: parse(text) if text else None


def _typed(column: str, types: dict[str, Any], name: str | None = None) -> Any:
    return lambda text: _convert(column, text, types[name or column])


ITEM_PARSERS = {
    "sku": lambda t: normalize_sku(_convert("sku", t, _ITEM_TYPES["sku"])),
    "name": _typed("name", _ITEM_TYPES),
    "unit": _typed("unit", _ITEM_TYPES),
    "pack_size": lambda t: _convert("pack_size", t, _ITEM_TYPES["pack_size"]) if t else 1,
    "supplier": lambda t: _convert("supplier", t, _SUPPLIER_NAME_TYPE),
    "vendor_sku": _optional(_typed("vendor_sku", _ITEM_TYPES)),
    "unit_cost": parse_money,
    "gtin": _optional(parse_gtin),
    "lead_time_days": _optional(_typed("lead_time_days", _ITEM_TYPES)),
    "min_order_qty": lambda t: (
        _convert("min_order_qty", t, _ITEM_TYPES["min_order_qty"]) if t else 0
    ),
    "lot_tracked": parse_bool,
    "category": _optional(_typed("category", _ITEM_TYPES)),
}
PAR_PARSERS = {
    "sku": lambda t: normalize_sku(_convert("sku", t, _ITEM_TYPES["sku"])),
    "location": lambda t: normalize_code(_convert("location", t, _CODE_TYPE)),
    "par_level": _typed("par_level", _PAR_TYPES),
    "reorder_point": _optional(lambda t: _convert("reorder_point", t, _PAR_TYPES["par_level"])),
}


def parse_item_rows(table: Table) -> list[ItemRow]:
    assert table.frame is not None
    rows: list[ItemRow] = []
    blank_required = {p.row for p in table.problems}
    item_parsers = dict(ITEM_PARSERS)
    if table.decimal_comma:
        item_parsers["unit_cost"] = lambda t: parse_money(t, decimal_comma=True)
    for row, cells in _records(table.frame):
        parsers = {c: p for c, p in item_parsers.items() if not (row in blank_required and
                   c in ITEM_REQUIRED and not cells[c])}  # fmt: skip
        values = _check_cells(table, int(row), cells, parsers)
        if values is not None and row not in blank_required:
            supplier = values.pop("supplier").strip()
            values["name"] = values["name"].strip()
            values["unit"] = values["unit"].strip()
            rows.append(ItemRow(int(row), values["sku"], values, supplier))
    # On the cells as written (normalized), so a duplicate of a row with another problem
    # is reported too.
    skus = [(int(row), sku.upper()) for row, sku in table.frame["sku"].items() if sku]
    _check_duplicates(table, skus, "sku", "SKU")
    gtins = [(r.row, r.values["gtin"]) for r in rows if r.values["gtin"]]
    _check_duplicates(table, gtins, "gtin", "GTIN")
    return rows


def parse_par_rows(table: Table) -> list[ParRow]:
    assert table.frame is not None
    rows: list[ParRow] = []
    blank_required = {p.row for p in table.problems}
    for row, cells in _records(table.frame):
        parsers = {c: p for c, p in PAR_PARSERS.items() if not (row in blank_required and
                   c in PAR_REQUIRED and not cells[c])}  # fmt: skip
        values = _check_cells(table, int(row), cells, parsers)
        if values is None or row in blank_required:
            continue
        try:
            reorder_point = checked_reorder_point(values["par_level"], values["reorder_point"])
        except DomainError as exc:
            table.file_problem(exc.detail, row=int(row), column="reorder_point")
            continue
        rows.append(
            ParRow(int(row), values["sku"], values["location"], values["par_level"], reorder_point)
        )
    keys = [
        (int(row), f"{sku.upper()} at {code.upper()}")
        for row, sku, code in zip(
            table.frame.index, table.frame["sku"], table.frame["location"], strict=True
        )
        if sku and code
    ]
    _check_duplicates(table, keys, "location", "par level for")
    return rows


def _check_duplicates(
    table: Table, keyed: Iterable[tuple[int, Any]], column: str, what: str
) -> None:
    """Every row after the first with the same key is a problem naming the first row."""
    first: dict[Any, int] = {}
    for row, key in keyed:
        if key in first:
            table.file_problem(
                f"Duplicate {what} {key}: already in row {first[key]}.", row=row, column=column
            )
        else:
            first[key] = row


# --- comparing with the database -------------------------------------------------------

_items_t = Item.__table__  # type: ignore[attr-defined]
_suppliers_t = Supplier.__table__  # type: ignore[attr-defined]
_locations_t = Location.__table__  # type: ignore[attr-defined]
_levels_t = StockLevel.__table__  # type: ignore[attr-defined]
ITEM_FIELDS = (
    "name", "unit", "pack_size", "supplier_id", "vendor_sku", "unit_cost", "gtin",
    "lead_time_days", "min_order_qty", "lot_tracked", "category",
)  # fmt: skip
COLUMN_OF_FIELD = {"supplier_id": "supplier"}


@dataclass
class Plan:
    """What a valid import writes, worked out before anything is written."""

    new_suppliers: list[str] = field(default_factory=list)
    new_items: list[dict[str, Any]] = field(default_factory=list)
    changed_items: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    new_locations: list[str] = field(default_factory=list)
    par_changes: list[tuple[ParRow, dict[str, Any] | None]] = field(default_factory=list)


def _existing_items(session: Session) -> dict[str, dict[str, Any]]:
    return {r["sku"]: dict(r) for r in session.execute(select(_items_t)).mappings()}


def _supplier_ids(session: Session) -> dict[str, int]:
    rows = session.execute(select(_suppliers_t.c.id, _suppliers_t.c.name))
    return {name.lower(): id_ for id_, name in rows}


def plan_items(
    session: Session, table: Table, rows: list[ItemRow], plan: Plan
) -> tuple[list[ImportRow], dict[str, dict[str, Any]]]:
    existing = _existing_items(session)
    suppliers = _supplier_ids(session)
    new_supplier_names: dict[str, str] = {}
    for r in rows:
        key = r.supplier.lower()
        if key not in suppliers and key not in new_supplier_names:
            new_supplier_names[key] = r.supplier
    plan.new_suppliers = list(new_supplier_names.values())

    # GTINs: unique across the catalogue as it will be after the import.
    file_skus = {r.sku for r in rows}
    gtin_owner = {
        i["gtin"]: sku for sku, i in existing.items() if i["gtin"] and sku not in file_skus
    }
    for r in rows:
        other = gtin_owner.get(r.values["gtin"]) if r.values["gtin"] else None
        if other is not None:
            table.file_problem(
                f"GTIN {r.values['gtin']} already belongs to item {other}.", r.row, "gtin"
            )

    # Lot tracking may only change at zero stock (the rule of update_item).
    toggled = [
        existing[r.sku]["id"]
        for r in rows
        if r.sku in existing and existing[r.sku]["lot_tracked"] != r.values["lot_tracked"]
    ]
    on_hand: dict[int, int] = {}
    if toggled:
        # Every stocked item at once: an IN list of thousands of ids is slower, and
        # SQLite caps the number of bound parameters.
        stocked = session.execute(
            select(_levels_t.c.item_id, func.sum(_levels_t.c.on_hand))
            .group_by(_levels_t.c.item_id)
            .having(func.sum(_levels_t.c.on_hand) > 0)
        ).all()
        toggled_ids = set(toggled)
        on_hand = {item_id: total for item_id, total in stocked if item_id in toggled_ids}
    results: list[ImportRow] = []
    for r in rows:
        values = dict(r.values)
        values["supplier_id"] = suppliers.get(r.supplier.lower())  # None: a new supplier
        values["supplier_name"] = r.supplier
        current = existing.get(r.sku)
        if current is None:
            plan.new_items.append(values)
            results.append(ImportRow(r.row, r.sku, "create"))
            continue
        changed = [
            COLUMN_OF_FIELD.get(f, f)
            for f in ITEM_FIELDS
            if (f != "supplier_id" and values[f] != current[f])
            or (f == "supplier_id" and values["supplier_id"] != current["supplier_id"])
        ]
        if "lot_tracked" in changed and on_hand.get(current["id"]):
            table.file_problem(
                f"{r.sku} has {on_hand[current['id']]} on hand; lot tracking can only change "
                "at zero stock.",
                r.row,
                "lot_tracked",
            )
        if changed:
            plan.changed_items.append((current, values))
            results.append(ImportRow(r.row, r.sku, "update", changed=changed))
        else:
            results.append(ImportRow(r.row, r.sku, "unchanged"))
    return results, existing


def plan_par_levels(
    session: Session,
    table: Table,
    rows: list[ParRow],
    plan: Plan,
    known_skus: dict[str, int | None],
) -> list[ImportRow]:
    locations = dict(session.execute(select(_locations_t.c.code, _locations_t.c.id)).all())
    plan.new_locations = sorted({r.location for r in rows} - locations.keys())
    levels = {
        (item_id, location_id): {"id": id_, "par_level": par, "reorder_point": point}
        for id_, item_id, location_id, par, point in session.execute(
            select(
                _levels_t.c.id, _levels_t.c.item_id, _levels_t.c.location_id,
                _levels_t.c.par_level, _levels_t.c.reorder_point,
            )
        )
    }  # fmt: skip
    results: list[ImportRow] = []
    for r in rows:
        if r.sku not in known_skus:
            table.file_problem(
                f"No item with SKU {r.sku} (not in the catalogue, nor in the items file).",
                r.row,
                "sku",
            )
            continue
        item_id, location_id = known_skus[r.sku], locations.get(r.location)
        current = levels.get((item_id, location_id)) if item_id and location_id else None
        if current is not None and (current["par_level"], current["reorder_point"]) == (
            r.par_level,
            r.reorder_point,
        ):
            results.append(ImportRow(r.row, r.sku, "unchanged", location=r.location))
            continue
        plan.par_changes.append((r, current))
        action: RowAction = (
            "update" if current is not None and current["par_level"] is not None else "create"
        )
        changed = ["par_level", "reorder_point"] if action == "update" else []
        results.append(ImportRow(r.row, r.sku, action, location=r.location, changed=changed))
    return results


# --- writing -------------------------------------------------------------------------


def _item_snapshot(row: dict[str, Any]) -> dict[str, Any]:
    """The audit before/after of an item: its columns, as `audit.snapshot` gives them."""
    return {c.key: row.get(c.key) for c in _items_t.columns}


def write_items(session: Session, *, actor: str, plan: Plan) -> None:
    connection = session.connection()
    now = utcnow()
    if plan.new_suppliers:
        connection.execute(
            insert(_suppliers_t), [{"name": n, "created_at": now} for n in plan.new_suppliers]
        )
    supplier_ids = _supplier_ids(session)
    for name in plan.new_suppliers:
        audit.record(
            session, actor=actor, action="supplier.create", entity="supplier",
            entity_id=supplier_ids[name.lower()],
            after={"id": supplier_ids[name.lower()], "name": name, "account_number": None,
                   "email": None, "phone": None, "lead_time_days": None, "created_at": now},
        )  # fmt: skip
    stored_fields = (*ITEM_FIELDS, "sku")
    if plan.new_items:
        rows = []
        for values in plan.new_items:
            values["supplier_id"] = supplier_ids[values["supplier_name"].lower()]
            rows.append(
                {f: values[f] for f in stored_fields}
                | {"active": True, "created_at": now, "updated_at": now}
            )
        connection.execute(insert(_items_t), rows)
        ids = dict(session.execute(select(_items_t.c.sku, _items_t.c.id)).all())
        for row in rows:
            row["id"] = ids[row["sku"]]
            audit.record(
                session, actor=actor, action="item.create", entity="item",
                entity_id=row["sku"], after=_item_snapshot(row),
            )  # fmt: skip
    if plan.changed_items:
        updates = []
        for current, values in plan.changed_items:
            values["supplier_id"] = supplier_ids[values["supplier_name"].lower()]
            after = current | {f: values[f] for f in ITEM_FIELDS} | {"updated_at": now}
            updates.append({"b_id": current["id"], **{f: after[f] for f in ITEM_FIELDS},
                            "updated_at": now})  # fmt: skip
            audit.record(
                session, actor=actor, action="item.update", entity="item",
                entity_id=current["sku"], before=_item_snapshot(current),
                after=_item_snapshot(after),
            )  # fmt: skip
        statement = (
            update(_items_t)
            .where(_items_t.c.id == bindparam("b_id"))
            .values({f: bindparam(f) for f in (*ITEM_FIELDS, "updated_at")})
        )
        connection.execute(statement, updates)


def write_par_levels(session: Session, *, actor: str, plan: Plan) -> None:
    connection = session.connection()
    now = utcnow()
    if plan.new_locations:
        connection.execute(
            insert(_locations_t),
            [{"code": c, "name": c, "active": True, "created_at": now} for c in plan.new_locations],
        )
    locations = dict(session.execute(select(_locations_t.c.code, _locations_t.c.id)).all())
    for code in plan.new_locations:
        audit.record(
            session, actor=actor, action="location.create", entity="location", entity_id=code,
            after={"id": locations[code], "code": code, "name": code, "active": True,
                   "created_at": now},
        )  # fmt: skip
    if not plan.par_changes:
        return
    items = dict(session.execute(select(_items_t.c.sku, _items_t.c.id)).all())
    inserts, updates = [], []
    for r, current in plan.par_changes:
        item_id, location_id = items[r.sku], locations[r.location]
        values = {"par_level": r.par_level, "reorder_point": r.reorder_point}
        if current is None:
            inserts.append({"item_id": item_id, "location_id": location_id, "on_hand": 0} | values)
            before = {"par_level": None, "reorder_point": None}
        else:
            updates.append({"b_id": current["id"]} | values)
            before = {k: current[k] for k in ("par_level", "reorder_point")}
        audit.record(
            session, actor=actor, action="item.par_level", entity="item", entity_id=r.sku,
            before={"location": r.location, **before}, after={"location": r.location, **values},
        )  # fmt: skip
    if inserts:
        connection.execute(insert(_levels_t), inserts)
    if updates:
        connection.execute(
            update(_levels_t)
            .where(_levels_t.c.id == bindparam("b_id"))
            .values(par_level=bindparam("par_level"), reorder_point=bindparam("reorder_point")),
            updates,
        )


# --- the import ------------------------------------------------------------------------


def _report(
    kind: FileKind, table: Table, results: list[ImportRow], dry_run: bool, plan: Plan
) -> ImportReport:
    problems = sorted(table.problems, key=lambda p: (p.row, ITEM_COLUMNS.index(p.column)
                      if p.column in ITEM_COLUMNS else 99))  # fmt: skip
    by_row: dict[int, list[str]] = {}
    for p in problems:
        by_row.setdefault(p.row, []).append(f"{p.column}: {p.message}" if p.column else p.message)
    rows_seen = {r.row for r in results}
    for r in results:
        if r.row in by_row:
            r.action, r.changed, r.problems = "rejected", [], by_row[r.row]
    # Rows that failed before they could be compared (bad cells) are rejected too.
    if table.frame is not None:
        skus = table.frame["sku"].to_dict()
        locs = table.frame["location"].to_dict() if kind == "par_levels" else {}
        for row, messages in by_row.items():
            if row >= 2 and row not in rows_seen:
                results.append(
                    ImportRow(row, str(skus.get(row, "")).upper(), "rejected",
                              location=locs.get(row) or None, problems=messages)
                )  # fmt: skip
    results.sort(key=lambda r: r.row)
    count = {a: sum(1 for r in results if r.action == a) for a in ("create", "update",
             "unchanged", "rejected")}  # fmt: skip
    return ImportReport(
        file=kind,
        dry_run=dry_run,
        accepted=not problems,
        created=count["create"],
        updated=count["update"],
        unchanged=count["unchanged"],
        rejected=count["rejected"],
        suppliers_created=plan.new_suppliers if kind == "items" else [],
        locations_created=plan.new_locations if kind == "par_levels" else [],
        rows=results,
        problems=problems,
    )


def import_catalogue(
    session: Session,
    *,
    actor: str,
    items: bytes | None = None,
    par_levels: bytes | None = None,
    dry_run: bool = False,
) -> CatalogueImport:
    """Check the file(s) and, unless `dry_run` or any problem, write them (both in the
    caller's transaction, which the caller commits). Nothing is written otherwise."""
    plan = Plan()
    item_report = par_report = None
    known_skus: dict[str, int | None] = {}
    item_table = par_table = None
    item_results: list[ImportRow] = []
    par_results: list[ImportRow] = []
    if items is not None:
        item_table = read_table(items, "items", ITEM_COLUMNS, ITEM_REQUIRED)
        if item_table.frame is not None:
            item_rows = parse_item_rows(item_table)
            item_results, existing = plan_items(session, item_table, item_rows, plan)
            known_skus = {sku: row["id"] for sku, row in existing.items()}
            known_skus |= {r.sku: known_skus.get(r.sku) for r in item_rows}
            # An SKU whose row was rejected still counts as known: the whole import fails
            # anyway, and the par file should not report it a second time.
            known_skus |= dict.fromkeys(
                (s.upper() for s in item_table.frame["sku"] if s and s.upper() not in known_skus),
                None,
            )
    if par_levels is not None:
        par_table = read_table(par_levels, "par_levels", PAR_COLUMNS, PAR_REQUIRED)
        if par_table.frame is not None:
            if items is None:
                known_skus = dict(session.execute(select(_items_t.c.sku, _items_t.c.id)).all())
            par_rows = parse_par_rows(par_table)
            par_results = plan_par_levels(session, par_table, par_rows, plan, known_skus)
    if item_table is not None:
        item_report = _report("items", item_table, item_results, dry_run, plan)
    if par_table is not None:
        par_report = _report("par_levels", par_table, par_results, dry_run, plan)
    accepted = all(r.accepted for r in (item_report, par_report) if r is not None)
    if accepted and not dry_run:
        if item_report is not None:
            write_items(session, actor=actor, plan=plan)
        if par_report is not None:
            write_par_levels(session, actor=actor, plan=plan)
        audit.record(
            session, actor=actor, action="catalogue.import", entity="catalogue_import",
            entity_id=uuid.uuid4().hex,
            after={name: {"sha256": hashlib.sha256(data).hexdigest(), "created": r.created,
                          "updated": r.updated, "unchanged": r.unchanged}
                   for name, data, r in (("items", items, item_report),
                                         ("par_levels", par_levels, par_report))
                   if data is not None and r is not None}
            | {"suppliers_created": plan.new_suppliers, "locations_created": plan.new_locations},
        )  # fmt: skip
    return CatalogueImport(
        dry_run=dry_run, accepted=accepted, items=item_report, par_levels=par_report
    )


# --- export --------------------------------------------------------------------------


def format_money(value: Decimal) -> str:
    """A plain decimal with at least two places: 7.50, 0.045, 1234.5678."""
    text = f"{Decimal(value):.4f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"{whole}.{cents.ljust(2, '0')}"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def items_frame(session: Session) -> pd.DataFrame:
    rows = session.execute(
        select(_items_t, _suppliers_t.c.name.label("supplier_name"))
        .join(_suppliers_t, _suppliers_t.c.id == _items_t.c.supplier_id)
        .order_by(_items_t.c.sku)
    ).mappings()
    records = [
        {
            "sku": r["sku"], "name": r["name"], "unit": r["unit"],
            "pack_size": str(r["pack_size"]), "supplier": r["supplier_name"],
            "vendor_sku": _text(r["vendor_sku"]), "unit_cost": format_money(r["unit_cost"]),
            "gtin": _text(r["gtin"]), "lead_time_days": _text(r["lead_time_days"]),
            "min_order_qty": str(r["min_order_qty"]),
            "lot_tracked": "yes" if r["lot_tracked"] else "no", "category": _text(r["category"]),
        }
        for r in rows
    ]  # fmt: skip
    return pd.DataFrame(records, columns=list(ITEM_COLUMNS), dtype=object)


def par_levels_frame(session: Session) -> pd.DataFrame:
    rows = session.execute(
        select(_items_t.c.sku, _locations_t.c.code, _levels_t.c.par_level,
               _levels_t.c.reorder_point)
        .join(_items_t, _items_t.c.id == _levels_t.c.item_id)
        .join(_locations_t, _locations_t.c.id == _levels_t.c.location_id)
        .where(_levels_t.c.par_level.is_not(None))
        .order_by(_items_t.c.sku, _locations_t.c.code)
    ).all()  # fmt: skip
    records = [
        {"sku": s, "location": c, "par_level": str(p), "reorder_point": _text(rp)}
        for s, c, p, rp in rows
    ]
    return pd.DataFrame(records, columns=list(PAR_COLUMNS), dtype=object)


def to_csv(df: pd.DataFrame) -> str:
    """CSV text as the import reads it back; formula-like cells defused (OWASP)."""
    return defuse_formulas(df).to_csv(index=False, lineterminator="\r\n")


def items_csv(session: Session) -> str:
    return to_csv(items_frame(session))


def par_levels_csv(session: Session) -> str:
    return to_csv(par_levels_frame(session))
