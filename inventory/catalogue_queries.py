"""Reads behind the catalogue's lists: suppliers, locations, categories, the counts the
pages show beside them, and a location's par-level grid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from inventory.lookups import get_item, get_location
from inventory.models import Item, Location, StockLevel, Supplier
from inventory.schemas.catalogue import ParLevelOut
from inventory.search import text_matches
from kernel.problems import NotFound


def list_suppliers(
    session: Session, *, limit: int | None = None, offset: int = 0
) -> tuple[list[Supplier], int]:
    """Suppliers by name (one page of them), and how many there are."""
    rows = list(
        session.scalars(select(Supplier).order_by(Supplier.name).limit(limit).offset(offset))
    )
    if limit is None or (offset == 0 and len(rows) < limit):
        return rows, offset + len(rows)
    return rows, session.scalar(select(func.count()).select_from(Supplier)) or 0


def list_locations(
    session: Session, *, limit: int | None = None, offset: int = 0
) -> tuple[list[Location], int]:
    """Locations by code (one page of them), and how many there are."""
    rows = list(
        session.scalars(select(Location).order_by(Location.code).limit(limit).offset(offset))
    )
    if limit is None or (offset == 0 and len(rows) < limit):
        return rows, offset + len(rows)
    return rows, session.scalar(select(func.count()).select_from(Location)) or 0


def get_par_level(session: Session, sku: str, location_code: str) -> ParLevelOut:
    """An item's par level at a location; 404 when none is set there."""
    item = get_item(session, sku)
    location = get_location(session, location_code)
    level = session.scalar(
        select(StockLevel).where(
            StockLevel.item_id == item.id,
            StockLevel.location_id == location.id,
            StockLevel.par_level.is_not(None),
        )
    )
    if level is None or level.par_level is None:
        raise NotFound(f"{item.sku} has no par level at {location.code}.")
    return ParLevelOut(
        sku=item.sku, location=location.code, par_level=level.par_level,
        reorder_point=level.reorder_point if level.reorder_point is not None else 0,
        on_hand=level.on_hand,
    )  # fmt: skip


def active_location_codes(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(Location.code).where(Location.active.is_(True)).order_by(Location.code)
        )
    )


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
    par level and reorder point at `location` (blank where it has none yet); `q` finds
    items as the item search does."""
    joined = and_(StockLevel.item_id == Item.id, StockLevel.location_id == location.id)
    conditions: list[Any] = [Item.active.is_(True)]
    if q:
        conditions.append(text_matches(q))
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
