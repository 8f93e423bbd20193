"""Bodies of what a scanned bin label or supply barcode shows."""

from __future__ import annotations

import datetime as dt

import msgspec

from inventory.schemas.catalogue import ItemOut


class BinOut(msgspec.Struct):
    location: str
    location_name: str
    sku: str
    name: str
    unit: str
    on_hand: int
    par_level: int | None
    reorder_point: int | None


class ScannedItemOut(ItemOut):
    """The item a GS1 barcode names, with the lot and expiry printed on that box and the
    bins that stock it (those with stock first). `package_units`: units in what was
    scanned (1 for the item's own GTIN; a box or case level's units, named
    `package_name`)."""

    lot: str | None = None
    package_units: int = 1
    package_name: str | None = None
    expires_on: dt.date | None = None
    bins: list[BinOut] = msgspec.field(default_factory=list)
