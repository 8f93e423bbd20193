"""Bins: one item at one location, as a bin label names it and a scan opens it.

Reads only: the summary a scanned bin label shows, the bins a scanned supply barcode
(GTIN) is stocked in, and the labels to print for a room.
"""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from inventory.gtins import find_gtin
from inventory.lookups import get_item, get_location
from inventory.models import Item, Location, StockLevel, Supplier
from inventory.responses import item_out
from inventory.schemas.bins import BinOut, ScannedItemOut
from kernel.labels import BinLabel
from kernel.problems import InvalidInput, NotFound

MAX_BIN_LABELS = 1000


def _bin_query():  # type: ignore[no-untyped-def]
    return (
        select(
            Location.code, Location.name, Item.sku, Item.name, Item.unit,
            StockLevel.on_hand, StockLevel.par_level, StockLevel.reorder_point,
        )
        .select_from(StockLevel)
        .join(Item, Item.id == StockLevel.item_id)
        .join(Location, Location.id == StockLevel.location_id)
    )  # fmt: skip


def bin_summary(session: Session, location_code: str, sku: str) -> BinOut:
    """What is in a bin now. An item and location that exist but never met read as an
    empty bin with no par level; an unknown item or location is a 404 naming it."""
    location = get_location(session, location_code)
    item = get_item(session, sku)
    row = session.execute(
        _bin_query().where(StockLevel.item_id == item.id, StockLevel.location_id == location.id)
    ).one_or_none()
    if row is None:
        return BinOut(location.code, location.name, item.sku, item.name, item.unit, 0, None, None)
    return BinOut(*row)


def item_bins(session: Session, item_id: int) -> list[BinOut]:
    """Where an item is kept: bins with stock on hand first, then those with a par level."""
    rows = session.execute(
        _bin_query()
        .where(
            StockLevel.item_id == item_id,
            Location.active.is_(True),
            or_(StockLevel.on_hand > 0, StockLevel.par_level.is_not(None)),
        )
        .order_by(case((StockLevel.on_hand > 0, 0), else_=1), Location.code)
    )
    return [BinOut(*row) for row in rows]


def scanned_item(
    session: Session, gtin: str, *, lot: str | None = None, expires_on: dt.date | None = None
) -> ScannedItemOut:
    match = find_gtin(session, gtin)
    if match is None:
        raise NotFound(f"No item has GTIN {gtin}; add the GTIN to the item first.")
    item = match.item
    base = item_out(item, session.get(Supplier, item.supplier_id))
    return ScannedItemOut(
        **msgspec.structs.asdict(base),
        lot=lot,
        expires_on=expires_on,
        package_units=match.units,
        package_name=match.packaging.name if match.packaging else None,
        bins=item_bins(session, item.id or 0),
    )


def bin_labels(session: Session, location_code: str) -> list[BinLabel]:
    """A room's bin labels, by SKU: every active item stocked there or with a par level."""
    location = get_location(session, location_code)
    rows = session.execute(
        select(Item.sku, Item.name, Item.unit, StockLevel.par_level)
        .select_from(StockLevel)
        .join(Item, Item.id == StockLevel.item_id)
        .where(
            StockLevel.location_id == location.id,
            Item.active.is_(True),
            or_(StockLevel.on_hand > 0, StockLevel.par_level.is_not(None)),
        )
        .order_by(Item.sku)
        .limit(MAX_BIN_LABELS + 1)
    ).all()
    if not rows:
        raise NotFound(
            f"Location {location.code} has no items with stock or a par level: no bin labels "
            "to print. Set par levels first."
        )
    if len(rows) > MAX_BIN_LABELS:
        raise InvalidInput(
            f"Location {location.code} has more than {MAX_BIN_LABELS} bins; at most "
            f"{MAX_BIN_LABELS} labels per request."
        )
    return [
        BinLabel(location_code=location.code, sku=sku, name=name, unit=unit, par_level=par)
        for sku, name, unit, par in rows
    ]
