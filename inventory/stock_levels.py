"""The stock-level row of an item at a location: created on first use, and the lock every
change to the item there takes first (a movement, a par level)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.models import StockLevel


def ensure_stock_levels(session: Session, item_id: int, location_ids: Iterable[int]) -> None:
    """The rows, inserted where missing (INSERT ... ON CONFLICT DO NOTHING on both
    databases, so two first movements at once cannot both insert)."""
    rows = [{"item_id": item_id, "location_id": loc, "on_hand": 0} for loc in location_ids]
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    session.execute(dialect_insert(StockLevel).values(rows).on_conflict_do_nothing())


def lock_stock_level(session: Session, *, item_id: int, location_id: int) -> StockLevel:
    """The item's stock-level row at the location, created if missing, locked FOR UPDATE."""
    ensure_stock_levels(session, item_id, [location_id])
    return session.scalars(
        select(StockLevel)
        .where(StockLevel.item_id == item_id, StockLevel.location_id == location_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
