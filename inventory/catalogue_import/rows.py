"""The cells of a file as typed values: each column checked against the API's own schema
type (`ItemCreate`, `ParLevelSet`, ...), money and yes/no as spreadsheets write them, and
every problem recorded with its row and column."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
import pandas as pd

from inventory.catalogue import checked_reorder_point, clean_unit_cost
from inventory.catalogue_import.reading import (
    ITEM_REQUIRED,
    PACKAGING_REQUIRED,
    PAR_REQUIRED,
    Table,
)
from inventory.gs1 import gtin_check_digit_problem
from inventory.lookups import normalize_code, normalize_sku
from inventory.schemas.catalogue import (
    ItemCreate,
    LocationCreate,
    PackagingCreate,
    ParLevelSet,
    SupplierCreate,
)
from kernel.problems import DomainError

TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0"})
# Spreadsheet money: optional currency sign, then plain, US or European grouping.
CURRENCY = re.compile(r"^(?:US\$|\$|USD|EUR|€)\s*|\s*(?:USD|EUR|€)$", re.IGNORECASE)
PLAIN_NUMBER = re.compile(r"^\d*\.?\d+$|^\d+\.$")
US_GROUPED = re.compile(r"^[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?$")
EU_GROUPED = re.compile(r"^[1-9]\d{0,2}(?:\.\d{3})+(?:,\d*)?$")
DECIMAL_COMMA = re.compile(r"^\d+,\d+$")
WHOLE = re.compile(r"^\d+(?:\.0*)?$")


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
_PACKAGING_TYPES = {f.name: f.type for f in msgspec.structs.fields(PackagingCreate)}
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
    "units": "must be a whole number from 1 to 1,000,000",
    "packaging_name": "must be 1-40 characters (box, case...)",
}


def _convert(column: str, text: str, type_: Any) -> Any:
    value: Any = text
    if column in (
        "pack_size", "lead_time_days", "min_order_qty", "par_level", "reorder_point", "units"
    ):  # fmt: skip
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
class PackagingRow:
    row: int
    sku: str
    gtin: str
    units: int
    name: str


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


PACKAGING_PARSERS = {
    "sku": lambda t: normalize_sku(_convert("sku", t, _ITEM_TYPES["sku"])),
    "gtin": parse_gtin,
    "units": _typed("units", _PACKAGING_TYPES),
    "name": lambda t: _convert("packaging_name", t, _PACKAGING_TYPES["name"]).strip(),
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


def _checked_rows(
    table: Table, parsers: dict[str, Any], required: tuple[str, ...]
) -> Iterable[tuple[int, dict[str, Any]]]:
    """(row, typed values) of every row whose cells all passed (a blank required cell was
    reported when the file was read, so its other cells are still checked)."""
    assert table.frame is not None
    blank_required = {p.row for p in table.problems}
    for row, cells in _records(table.frame):
        checks = {c: p for c, p in parsers.items() if not (row in blank_required and
                  c in required and not cells[c])}  # fmt: skip
        values = _check_cells(table, int(row), cells, checks)
        if values is not None and row not in blank_required:
            yield int(row), values


def parse_par_rows(table: Table) -> list[ParRow]:
    assert table.frame is not None
    rows: list[ParRow] = []
    for row, values in _checked_rows(table, PAR_PARSERS, PAR_REQUIRED):
        try:
            reorder_point = checked_reorder_point(values["par_level"], values["reorder_point"])
        except DomainError as exc:
            table.file_problem(exc.detail, row=row, column="reorder_point")
            continue
        rows.append(
            ParRow(row, values["sku"], values["location"], values["par_level"], reorder_point)
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


def parse_packaging_rows(table: Table) -> list[PackagingRow]:
    rows = [
        PackagingRow(row, values["sku"], values["gtin"], values["units"], values["name"])
        for row, values in _checked_rows(table, PACKAGING_PARSERS, PACKAGING_REQUIRED)
    ]
    gtins = [(r.row, r.gtin) for r in rows]
    _check_duplicates(table, gtins, "gtin", "GTIN")
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
