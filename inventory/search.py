"""The one item search: `GET /api/v1/items`, the catalogue's items page and its par-level
grid all find items through `item_conditions`.

Text (`q`) matches anywhere in the SKU, name, vendor SKU or GTIN (the item's own or one
of its packaging levels'), ignoring case; `%`, `_`
and `\\` in it are plain characters, not LIKE wildcards. The filters: supplier, category
(exact), below reorder point somewhere, and active / inactive / all. Filtering, sorting and
paging happen in the database, so a catalogue of thousands of items costs one page of rows
plus a count, never a walk over every item in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from inventory.models import Item, ItemPackaging, StockLevel, Supplier

ITEM_STATUSES = ("active", "inactive", "all")
LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class ItemFilter:
    q: str = ""
    supplier_id: int | None = None
    category: str = ""
    below_reorder: bool = False
    status: str = "active"  # one of ITEM_STATUSES


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere (lower-cased), its wildcards escaped."""
    escaped = (
        text.lower()
        .replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


def text_matches(q: str) -> Any:
    """The item's SKU, name, vendor SKU or GTIN (its own or a packaging level's) contains
    `q` (case-insensitive)."""
    pattern = contains_pattern(q)
    return or_(
        func.lower(Item.sku).like(pattern, escape=LIKE_ESCAPE),
        func.lower(Item.name).like(pattern, escape=LIKE_ESCAPE),
        func.lower(Item.vendor_sku).like(pattern, escape=LIKE_ESCAPE),
        Item.gtin.like(pattern, escape=LIKE_ESCAPE),
        exists().where(
            ItemPackaging.item_id == Item.id,
            ItemPackaging.gtin.like(pattern, escape=LIKE_ESCAPE),
        ),
    )


def below_reorder() -> Any:
    """Some location holds the item at or below its reorder point (as on the dashboard)."""
    return exists().where(
        StockLevel.item_id == Item.id,
        StockLevel.reorder_point.is_not(None),
        StockLevel.on_hand <= StockLevel.reorder_point,
    )


def item_conditions(f: ItemFilter) -> list[Any]:
    conditions: list[Any] = []
    if f.q:
        conditions.append(text_matches(f.q))
    if f.supplier_id is not None:
        conditions.append(Item.supplier_id == f.supplier_id)
    if f.category:
        conditions.append(Item.category == f.category)
    if f.below_reorder:
        conditions.append(below_reorder())
    if f.status == "active":
        conditions.append(Item.active.is_(True))
    elif f.status == "inactive":
        conditions.append(Item.active.is_(False))
    return conditions


def count_items(session: Session, f: ItemFilter) -> int:
    return session.scalar(select(func.count()).select_from(Item).where(*item_conditions(f))) or 0


def find_items(
    session: Session, f: ItemFilter, *, limit: int, offset: int
) -> tuple[list[tuple[Item, Supplier]], int]:
    """One page of matching items with their suppliers, by SKU, and how many match (the API)."""
    rows = session.execute(
        select(Item, Supplier)
        .join(Supplier, Supplier.id == Item.supplier_id)
        .where(*item_conditions(f))
        .order_by(Item.sku)
        .limit(limit)
        .offset(offset)
    ).all()
    return [(item, supplier) for item, supplier in rows], count_items(session, f)


@dataclass(frozen=True)
class ItemRow:
    """A line of the catalogue's items page."""

    sku: str
    name: str
    unit: str
    pack_size: int
    supplier: str
    vendor_sku: str | None
    unit_cost: Decimal
    gtin: str | None
    category: str | None
    active: bool
    on_hand: int
    below_reorder: bool


def _on_hand_by_item() -> Any:
    return (
        select(StockLevel.item_id, func.sum(StockLevel.on_hand).label("on_hand"))
        .group_by(StockLevel.item_id)
        .subquery()
    )


def search_items(
    session: Session, f: ItemFilter, *, sort: str, descending: bool, limit: int, offset: int
) -> tuple[list[ItemRow], int]:
    """One page of matching items for the items page (with on-hand totals), sorted by
    sku, name, supplier, category, unit_cost or on_hand, and how many match in all."""
    on_hand = _on_hand_by_item()
    stock = func.coalesce(on_hand.c.on_hand, 0)
    columns: dict[str, Any] = {
        "sku": Item.sku,
        "name": func.lower(Item.name),
        "supplier": func.lower(Supplier.name),
        "category": func.lower(Item.category),
        "unit_cost": Item.unit_cost,
        "on_hand": stock,
    }
    order = columns.get(sort, Item.sku)
    statement = (
        select(
            Item.sku, Item.name, Item.unit, Item.pack_size, Supplier.name, Item.vendor_sku,
            Item.unit_cost, Item.gtin, Item.category, Item.active, stock,
            below_reorder(),
        )
        .join(Supplier, Supplier.id == Item.supplier_id)
        .outerjoin(on_hand, on_hand.c.item_id == Item.id)
        .where(*item_conditions(f))
        .order_by(order.desc() if descending else order.asc(), Item.sku)
        .limit(limit)
        .offset(offset)
    )  # fmt: skip
    rows = [
        ItemRow(*row[:10], on_hand=int(row[10]), below_reorder=bool(row[11]))
        for row in session.execute(statement)
    ]
    return rows, count_items(session, f)
