"""The ledger's statements, built once with bind parameters.

A consume is the most frequent request, so its path uses Core statements SQLAlchemy
compiles once: profiling showed ORM identity-map and unit-of-work bookkeeping costing more
than the database work itself. The statements of a one-location movement (`Direct`) skip
SQLAlchemy's execution path too (`kernel/direct_sql.py`). Used by `inventory.ledger`.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, insert, select, update

from inventory.models import Item, Location, StockLevel, StockLot, StockMovement
from kernel.direct_sql import Direct

levels_t = StockLevel.__table__  # type: ignore[attr-defined]
lots_t = StockLot.__table__  # type: ignore[attr-defined]
movements_t = StockMovement.__table__  # type: ignore[attr-defined]
items_t = Item.__table__  # type: ignore[attr-defined]
locations_t = Location.__table__  # type: ignore[attr-defined]

ITEM_AND_LOCATION = (
    select(
        items_t.c.id, items_t.c.sku, items_t.c.name, items_t.c.unit,
        items_t.c.lot_tracked, items_t.c.active,
        locations_t.c.id, locations_t.c.code, locations_t.c.active, locations_t.c.site_id,
    )
    .select_from(items_t)
    .outerjoin(locations_t, locations_t.c.code == bindparam("code"))
    .where(items_t.c.sku == bindparam("sku"))
)  # fmt: skip
# A movement at one location: the item, the location and the item's level there, the
# level locked (PostgreSQL: FOR UPDATE re-reads it as last committed), in one round trip.
# No row when any is missing: `record_movement` then takes the general path.
ITEM_LOCATION_LEVEL = Direct(
    select(
        items_t.c.id, items_t.c.sku, items_t.c.name, items_t.c.unit,
        items_t.c.lot_tracked, items_t.c.active,
        locations_t.c.id, locations_t.c.code, locations_t.c.active, locations_t.c.site_id,
        levels_t.c.id, levels_t.c.on_hand,
    )
    .select_from(items_t)
    .join(locations_t, locations_t.c.code == bindparam("code"))
    .join(
        levels_t,
        (levels_t.c.item_id == items_t.c.id) & (levels_t.c.location_id == locations_t.c.id),
    )
    .where(items_t.c.sku == bindparam("sku"))
    .with_for_update(of=levels_t)
)  # fmt: skip
LOCATION_BY_CODE = select(
    locations_t.c.id,
    locations_t.c.code,
    locations_t.c.active,
    locations_t.c.site_id,
).where(locations_t.c.code == bindparam("code"))
LOCK_LEVELS = (
    select(levels_t.c.id, levels_t.c.location_id, levels_t.c.on_hand)
    .where(
        levels_t.c.item_id == bindparam("item_id"),
        levels_t.c.location_id.in_(bindparam("location_ids", expanding=True)),
    )
    .order_by(levels_t.c.location_id)
    .with_for_update()
)
# An item's lot balances at a location (id, lot, expiry, quantity): earliest expiry first,
# lots without expiry last. The order stock is taken in, and the order a bin shows.
LOTS_BY_EXPIRY = (
    select(lots_t.c.id, lots_t.c.lot, lots_t.c.expires_on, lots_t.c.quantity)
    .where(
        lots_t.c.item_id == bindparam("item_id"),
        lots_t.c.location_id == bindparam("location_id"),
    )
    .order_by(lots_t.c.expires_on.is_(None), lots_t.c.expires_on, lots_t.c.id)
)
LOT_EXPIRY = (
    select(lots_t.c.expires_on)
    .where(lots_t.c.item_id == bindparam("item_id"), lots_t.c.lot == bindparam("lot"))
    .limit(1)
)
LOTS = Direct(LOTS_BY_EXPIRY)
SET_LOT = Direct(
    update(lots_t)
    .where(lots_t.c.id == bindparam("lot_id"))
    .values(quantity=bindparam("new_quantity"))
)
SET_LEVEL = Direct(
    update(levels_t)
    .where(levels_t.c.id == bindparam("level_id"))
    .values(on_hand=bindparam("new_on_hand"))
)
NEW_LOT = insert(lots_t).returning(lots_t.c.id)
# Every column back: the row as stored, which the commit seals without reading it again.
MOVEMENT_COLUMNS = [c.name for c in movements_t.c]
INSERT_MOVEMENT = (
    insert(movements_t)
    .values({c.name: bindparam(c.name, type_=c.type) for c in movements_t.c if c.name != "id"})
    .returning(*movements_t.c)
)
NEW_MOVEMENT = Direct(INSERT_MOVEMENT)
# PostgreSQL, a movement that changes one lot and one level (a consume): all three writes
# in one statement (data-modifying CTEs), one round trip instead of three.
PG_ONE_CHANGE = Direct(
    INSERT_MOVEMENT.add_cte(
        update(lots_t)
        .where(lots_t.c.id == bindparam("lot_id"))
        .values(quantity=bindparam("new_quantity"))
        .cte("lot_set")
    ).add_cte(
        update(levels_t)
        .where(levels_t.c.id == bindparam("level_id"))
        .values(on_hand=bindparam("new_on_hand"))
        .cte("level_set")
    )
)
# What the movements placed after an instant changed: a back-dated count's correction.
CHANGED_SINCE = select(func.coalesce(func.sum(movements_t.c.quantity), 0)).where(
    movements_t.c.item_id == bindparam("item_id"),
    movements_t.c.location_id == bindparam("location_id"),
    movements_t.c.at > bindparam("since"),
)
LOT_CHANGED_SINCE = CHANGED_SINCE.where(movements_t.c.lot == bindparam("lot"))
