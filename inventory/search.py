"""Read queries behind the catalogue pages: the items list (search, filters, sort, one
page at a time) and a location's par-level grid.

Filtering, sorting and paging happen in the database, so a catalogue of thousands of
items costs one page of rows plus a count, never a walk over every item in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from inventory.models import Item, Location, StockLevel, Supplier

ITEM_STATUSES = ("active", "inactive", "all")


@dataclass(frozen=True)
class ItemRow:
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


@dataclass(frozen=True)
class ItemFilter:
    q: str = ""
    supplier_id: int | None = None
    category: str = ""
    below_reorder: bool = False
    status: str = "active"  # one of ITEM_STATUSES


def _on_hand_by_item() -> Any:
    return (
        select(StockLevel.item_id, func.sum(StockLevel.on_hand).label("on_hand"))
        .group_by(StockLevel.item_id)
        .subquery()
    )


def _below_reorder() -> Any:
    """Some location holds the item at or below its reorder point (as on the dashboard)."""
    return exists().where(
        StockLevel.item_id == Item.id,
        StockLevel.reorder_point.is_not(None),
        StockLevel.on_hand <= StockLevel.reorder_point,
    )


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _item_conditions(f: ItemFilter) -> list[Any]:
    conditions: list[Any] = []
    if f.q:
        pattern = _like(f.q)
        conditions.append(
            or_(
                func.lower(Item.sku).like(pattern, escape="\\"),
                func.lower(Item.name).like(pattern, escape="\\"),
                func.lower(Item.vendor_sku).like(pattern, escape="\\"),
                Item.gtin.like(pattern, escape="\\"),
            )
        )
    if f.supplier_id is not None:
        conditions.append(Item.supplier_id == f.supplier_id)
    if f.category:
        conditions.append(Item.category == f.category)
    if f.below_reorder:
        conditions.append(_below_reorder())
    if f.status == "active":
        conditions.append(Item.active.is_(True))
    elif f.status == "inactive":
        conditions.append(Item.active.is_(False))
    return conditions


def search_items(
    session: Session, f: ItemFilter, *, sort: str, descending: bool, limit: int, offset: int
) -> tuple[list[ItemRow], int]:
    """One page of items matching the filter, and how many match in all."""
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
    conditions = _item_conditions(f)
    total = session.scalar(select(func.count()).select_from(Item).where(*conditions)) or 0
    statement = (
        select(
            Item.sku, Item.name, Item.unit, Item.pack_size, Supplier.name, Item.vendor_sku,
            Item.unit_cost, Item.gtin, Item.category, Item.active, stock,
            _below_reorder(),
        )
        .join(Supplier, Supplier.id == Item.supplier_id)
        .outerjoin(on_hand, on_hand.c.item_id == Item.id)
        .where(*conditions)
        .order_by(order.desc() if descending else order.asc(), Item.sku)
        .limit(limit)
        .offset(offset)
    )  # fmt: skip
    rows = [
        ItemRow(*row[:10], on_hand=int(row[10]), below_reorder=bool(row[11]))
        for row in session.execute(statement)
    ]
    return rows, total


def categories(session: Session) -> list[str]:
    """Every category in use, for the filter and the item form's suggestions."""
    return list(
        session.scalars(
            select(Item.category)
            .where(Item.category.is_not(None))
            .distinct()
            .order_by(Item.category)
        )
    )


def supplier_choices(session: Session) -> list[tuple[int, str]]:
    return [
        (row[0], row[1])
        for row in session.execute(select(Supplier.id, Supplier.name).order_by(Supplier.name))
    ]


def supplier_item_counts(session: Session) -> dict[int, int]:
    statement = select(Item.supplier_id, func.count()).group_by(Item.supplier_id)
    return {row[0]: row[1] for row in session.execute(statement)}


def location_par_counts(session: Session) -> dict[int, int]:
    """Per location, how many items have a par level there."""
    statement = (
        select(StockLevel.location_id, func.count())
        .where(StockLevel.par_level.is_not(None))
        .group_by(StockLevel.location_id)
    )
    return {row[0]: row[1] for row in session.execute(statement)}


# --- the par-level grid ----------------------------------------------------------------


@dataclass(frozen=True)
class ParRow:
    sku: str
    name: str
    unit: str
    on_hand: int
    par_level: int | None
    reorder_point: int | None


def par_grid(
    session: Session, location: Location, *, q: str, only_set: bool, limit: int, offset: int
) -> tuple[list[ParRow], int]:
    """One row per active item (or only those with a par level here), with its on-hand,
    par level and reorder point at `location` (blank where it has none yet)."""
    joined = and_(StockLevel.item_id == Item.id, StockLevel.location_id == location.id)
    conditions: list[Any] = [Item.active.is_(True)]
    if q:
        pattern = _like(q)
        conditions.append(
            or_(
                func.lower(Item.sku).like(pattern, escape="\\"),
                func.lower(Item.name).like(pattern, escape="\\"),
            )
        )
    if only_set:
        conditions.append(StockLevel.par_level.is_not(None))
    base = select(Item.id).outerjoin(StockLevel, joined).where(*conditions)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    statement = (
        select(
            Item.sku, Item.name, Item.unit, func.coalesce(StockLevel.on_hand, 0),
            StockLevel.par_level, StockLevel.reorder_point,
        )
        .outerjoin(StockLevel, joined)
        .where(*conditions)
        .order_by(Item.sku)
        .limit(limit)
        .offset(offset)
    )  # fmt: skip
    return [ParRow(*row) for row in session.execute(statement)], total
