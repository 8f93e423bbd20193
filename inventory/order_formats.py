"""Supplier order files: each distributor's bulk-order upload takes its own layout (Henry
Schein, Patterson, McKesson and Medline all differ), so purchasing describes it once per
supplier and downloads the week's order in it instead of retyping the reorder CSV.

A format is a list of columns, each a header (as the supplier's upload expects it) and a
field of the reorder row (`ORDER_FIELDS`), plus whether quantities are in units or in
packs, the delimiter and whether the file starts with a header row. The file is written
through `kernel.csv_export`, so a cell a spreadsheet would run as a formula is defused
like in every other export.

Refused, with nothing written: an unknown field (422 naming `columns[i].field`), a
repeated header, a layout without a column naming the item or one holding the quantity,
and a supplier that supplies no active item (409: the format would be for the wrong
supplier, and nothing could be previewed).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory import reorder
from inventory.lookups import get_supplier
from inventory.models import Item, Supplier, SupplierOrderFormat
from inventory.packagings import pack_levels
from inventory.schemas.purchasing import OrderColumn, OrderFormatIn, OrderFormatOut
from kernel import audit
from kernel.clock import ClinicTime
from kernel.csv_export import csv_text
from kernel.db import utcnow
from kernel.problems import Conflict, InvalidInput, NotFound

# Fields of the reorder row (`inventory.reorder.SUGGESTION_COLUMNS`) plus a few that only
# an order file needs, with what each holds.
ORDER_FIELDS: dict[str, str] = {
    "quantity": "the quantity to order, in the format's unit (units or packs)",
    "order_unit": "what one quantity is: the item's unit, or the pack (its packaging "
    "level's name when a level holds pack_size units)",
    "order_gtin": "the GTIN of what is ordered: the item's own, or the pack level's",
    "account_number": "the clinic's account number at the supplier",
    "supplier": "the supplier's name",
    "vendor_sku": "the supplier's item number",
    "sku": "our SKU",
    "name": "the item's name",
    "unit": "the item's unit (each, box...)",
    "pack_size": "units per orderable pack",
    "suggested_qty": "units to order",
    "order_packs": "packs to order",
    "unit_cost": "cost per unit",
    "pack_cost": "cost per pack",
    "line_total": "suggested_qty x unit_cost",
    "gtin": "the item's own GTIN (one unit)",
    "on_hand": "usable units on hand, all locations",
    "expired_on_hand": "units of expired lots still on the shelves",
    "on_order": "units on submitted orders not yet received",
    "par": "sum of par levels",
    "reorder_point": "sum of reorder points",
    "position": "on_hand + on_order",
    "need": "par - position",
    "min_order_qty": "minimum order in units",
    "lead_time_days": "lead time in days",
    "units_used": "units used in the last 56 days",
    "avg_daily_usage": "units used per day",
    "days_of_cover": "on_hand / avg_daily_usage",
    "usage_par": "the par the usage suggests",
    "reason": "why the item is ordered",
    "supplier_id": "the supplier's id in SteriStock",
}
ITEM_FIELDS = frozenset({"vendor_sku", "sku", "gtin", "order_gtin", "name"})
QUANTITY_FIELDS = frozenset({"quantity", "suggested_qty", "order_packs"})
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
PREVIEW_ROWS = 10


@dataclass(frozen=True)
class OrderFile:
    """A rendered order file: its text, its name, and the rows (for a preview)."""

    text: str
    filename: str
    header: list[str]
    rows: list[list[Any]]
    sample: bool  # nothing to order now: one pack of the supplier's first items instead


def checked_columns(data: OrderFormatIn) -> list[OrderColumn]:
    """The columns, trimmed, each field known, no header twice, the item named and the
    quantity given; 422 naming the column otherwise."""
    columns: list[OrderColumn] = []
    seen: dict[str, int] = {}
    for index, column in enumerate(data.columns):
        header, field = column.header.strip(), column.field.strip()
        if not header:
            raise InvalidInput.for_field(f"columns[{index}].header", "A column needs a header.")
        if field not in ORDER_FIELDS:
            raise InvalidInput.for_field(
                f"columns[{index}].field",
                f"Column {index + 1} ({header}): unknown field {field!r}; use one of: "
                f"{', '.join(sorted(ORDER_FIELDS))}.",
                message="unknown field",
            )
        key = header.casefold()
        if key in seen:
            raise InvalidInput.for_field(
                f"columns[{index}].header",
                f"Column {index + 1}: the header {header!r} is already column {seen[key] + 1}.",
            )
        seen[key] = index
        columns.append(OrderColumn(header=header, field=field))
    fields = {c.field for c in columns}
    if not fields & ITEM_FIELDS:
        raise InvalidInput.for_field(
            "columns",
            f"The file needs a column naming the item: one of {', '.join(sorted(ITEM_FIELDS))}.",
        )
    if not fields & QUANTITY_FIELDS:
        raise InvalidInput.for_field(
            "columns",
            "The file needs a column with the quantity: one of "
            f"{', '.join(sorted(QUANTITY_FIELDS))}.",
        )
    return columns


def _check_supplies_items(session: Session, supplier: Supplier) -> None:
    count = session.scalar(
        select(func.count())
        .select_from(Item)
        .where(Item.supplier_id == supplier.id, Item.active.is_(True))
    )
    if not count:
        raise Conflict.for_field(
            "supplier_id",
            f"{supplier.name} supplies no active item: an order file for it would always be "
            "empty. Check the supplier, or give it its items first.",
            source="path",
        )


def _stored(session: Session, supplier_id: int) -> SupplierOrderFormat | None:
    return session.scalar(
        select(SupplierOrderFormat).where(SupplierOrderFormat.supplier_id == supplier_id)
    )


def _format_out(stored: SupplierOrderFormat, supplier: Supplier) -> OrderFormatOut:
    return OrderFormatOut(
        supplier_id=supplier.id or 0,
        supplier=supplier.name,
        columns=[OrderColumn(header=h, field=f) for h, f in json.loads(stored.columns_json)],
        quantity_in=stored.quantity_in,  # type: ignore[arg-type]
        delimiter=stored.delimiter,  # type: ignore[arg-type]
        header_row=stored.header_row,
        updated_by=stored.updated_by,
        updated_at=stored.updated_at,
    )


def _snapshot(stored: SupplierOrderFormat) -> dict[str, Any]:
    return {"columns": json.loads(stored.columns_json), "quantity_in": stored.quantity_in,
            "delimiter": stored.delimiter, "header_row": stored.header_row}  # fmt: skip


def get_order_format(session: Session, supplier_id: int) -> OrderFormatOut:
    supplier = get_supplier(session, supplier_id)
    stored = _stored(session, supplier_id)
    if stored is None:
        raise NotFound(f"{supplier.name} has no order format; the standard reorder CSV applies.")
    return _format_out(stored, supplier)


def has_order_format(session: Session, supplier_ids: Sequence[int]) -> set[int]:
    """Which of these suppliers have an order format."""
    if not supplier_ids:
        return set()
    return set(
        session.scalars(
            select(SupplierOrderFormat.supplier_id).where(
                SupplierOrderFormat.supplier_id.in_(list(supplier_ids))
            )
        )
    )


def set_order_format(
    session: Session, *, actor: str, supplier_id: int, data: OrderFormatIn
) -> OrderFormatOut:
    supplier = get_supplier(session, supplier_id)
    columns = checked_columns(data)
    _check_supplies_items(session, supplier)
    stored = session.scalar(
        select(SupplierOrderFormat)
        .where(SupplierOrderFormat.supplier_id == supplier_id)
        .with_for_update()
    )
    before = _snapshot(stored) if stored is not None else None
    if stored is None:
        stored = SupplierOrderFormat(supplier_id=supplier_id, columns_json="[]", updated_by=actor)
        session.add(stored)
    stored.columns_json = json.dumps([[c.header, c.field] for c in columns])
    stored.quantity_in = data.quantity_in
    stored.delimiter = data.delimiter
    stored.header_row = data.header_row
    stored.updated_by = actor
    stored.updated_at = utcnow()
    session.flush()
    audit.record(
        session, actor=actor, action="supplier.order_format", entity="supplier",
        entity_id=supplier_id, before=before, after=_snapshot(stored),
    )  # fmt: skip
    return _format_out(stored, supplier)


def remove_order_format(session: Session, *, actor: str, supplier_id: int) -> None:
    supplier = get_supplier(session, supplier_id)
    stored = _stored(session, supplier_id)
    if stored is None:
        raise NotFound(f"{supplier.name} has no order format.")
    before = _snapshot(stored)
    session.delete(stored)
    session.flush()
    audit.record(
        session, actor=actor, action="supplier.order_format_remove", entity="supplier",
        entity_id=supplier_id, before=before,
    )  # fmt: skip


# --- the file ----------------------------------------------------------------------------


def _cells(
    df: pd.DataFrame, fields: list[str], *, packs: bool, supplier: Supplier,
    levels: dict[int, tuple[str, str]],
) -> list[list[Any]]:  # fmt: skip
    rows = []
    for record in reorder.records(df):
        level = levels.get(record["item_id"])
        extra = {
            "quantity": record["order_packs"] if packs else record["suggested_qty"],
            "order_unit": (level[0] if level else f"pack of {record['pack_size']}")
            if packs
            else record["unit"],
            "order_gtin": (level[1] if level else "") if packs else record["gtin"],
            "account_number": supplier.account_number or "",
        }
        row = []
        for field in fields:
            value = extra[field] if field in extra else record.get(field)
            row.append("" if value is None else value)
        rows.append(row)
    return rows


def order_filename(supplier: Supplier, today: dt.date) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", supplier.name.lower()).strip("-")[:40] or "supplier"
    return f"order-{slug}-{today.isoformat()}.csv"


def render_order_file(
    session: Session,
    *,
    supplier_id: int,
    today: dt.date,
    zone: ClinicTime,
    data: OrderFormatIn | None = None,
    parallel: bool = False,
    preview: bool = False,
) -> OrderFile:
    """This week's order for one supplier in its format (or in `data`, an unsaved format
    being previewed). 409 when the supplier has no format. A preview with nothing to
    order shows one pack of the supplier's first items, marked as a sample."""
    supplier = get_supplier(session, supplier_id)
    if data is None:
        stored = _stored(session, supplier_id)
        if stored is None:
            raise Conflict.for_field(
                "format",
                f"{supplier.name} has no order format: set one on the supplier's page (or "
                f"PUT /api/v1/suppliers/{supplier_id}/order-format), or download the standard "
                "reorder CSV.",
                source="query",
            )
        out = _format_out(stored, supplier)
        data = OrderFormatIn(
            columns=out.columns, quantity_in=out.quantity_in, delimiter=out.delimiter,
            header_row=out.header_row,
        )  # fmt: skip
    columns = checked_columns(data)
    df = reorder.suggestions(
        session, today=today, zone=zone, supplier_id=supplier_id, parallel=parallel,
        with_item_id=True,
    )  # fmt: skip
    sample = False
    if preview:
        if df.empty:
            df = reorder.sample_rows(session, today=today, zone=zone, supplier_id=supplier_id,
                                     count=PREVIEW_ROWS)  # fmt: skip
            sample = not df.empty
        df = df.head(PREVIEW_ROWS)
    fields = [c.field for c in columns]
    levels = pack_levels(session, [int(i) for i in df["item_id"]]) if len(df) else {}
    rows = _cells(df, fields, packs=data.quantity_in == "packs", supplier=supplier, levels=levels)
    header = [c.header for c in columns]
    text = csv_text(rows, header if data.header_row else None, delimiter=data.delimiter)
    return OrderFile(text, order_filename(supplier, today), header, rows, sample)
