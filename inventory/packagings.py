"""Packaging levels of an item: the box and the case a supplier ships, each with its own
GTIN, so a scanned case barcode receives a case's worth of units, not one.

- An item's own `gtin` is its "each" level (1 unit); a packaging level's GTIN names
  `units` of it. All share one uniqueness space (`inventory.gtins`).
- A level that receipts were counted in keeps its units (the ledger rows refer to it;
  GS1 gives a package of another size its own GTIN, so add that as a new level) and
  cannot be removed; its name can change.

Plain functions taking a session; every change is audited (`item.packaging_add`,
`item.packaging_update`, `item.packaging_remove`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.gtins import checked_gtin
from inventory.lookups import get_item
from inventory.models import Item, ItemPackaging, StockMovement
from inventory.schemas.catalogue import PackagingCreate, PackagingOut, PackagingUpdate
from kernel import audit
from kernel.problems import Conflict, NotFound

MAX_LEVELS_PER_ITEM = 20


def _receipts(session: Session, packaging_ids: list[int]) -> dict[int, int]:
    if not packaging_ids:
        return {}
    rows = session.execute(
        select(StockMovement.packaging_id, func.count())
        .where(StockMovement.packaging_id.in_(packaging_ids))
        .group_by(StockMovement.packaging_id)
    )
    return {packaging_id: count for packaging_id, count in rows}


def packaging_out(item: Item, packaging: ItemPackaging, receipts: int = 0) -> PackagingOut:
    return PackagingOut(
        id=packaging.id or 0, sku=item.sku, gtin=packaging.gtin, units=packaging.units,
        name=packaging.name, receipts=receipts,
    )  # fmt: skip


def list_packagings(session: Session, sku: str) -> list[PackagingOut]:
    """An item's packaging levels, smallest first."""
    item = get_item(session, sku)
    levels = list(
        session.scalars(
            select(ItemPackaging)
            .where(ItemPackaging.item_id == item.id)
            .order_by(ItemPackaging.units, ItemPackaging.id)
        )
    )
    used = _receipts(session, [p.id or 0 for p in levels])
    return [packaging_out(item, p, used.get(p.id or 0, 0)) for p in levels]


def _level(session: Session, item: Item, packaging_id: int, *, lock: bool = False) -> ItemPackaging:
    query = select(ItemPackaging).where(
        ItemPackaging.id == packaging_id, ItemPackaging.item_id == item.id
    )
    if lock:
        query = query.with_for_update()
    packaging = session.scalar(query)
    if packaging is None:
        raise NotFound(f"Item {item.sku} has no packaging level {packaging_id}.")
    return packaging


def get_packaging(session: Session, sku: str, packaging_id: int) -> PackagingOut:
    item = get_item(session, sku)
    packaging = _level(session, item, packaging_id)
    return packaging_out(item, packaging, _receipts(session, [packaging_id]).get(packaging_id, 0))


def _snapshot(packaging: ItemPackaging) -> dict[str, Any]:
    return {"id": packaging.id, "gtin": packaging.gtin, "units": packaging.units,
            "name": packaging.name}  # fmt: skip


def add_packaging(session: Session, *, actor: str, sku: str, data: PackagingCreate) -> PackagingOut:
    item = get_item(session, sku)
    gtin = checked_gtin(session, data.gtin)
    count = session.scalar(
        select(func.count()).select_from(ItemPackaging).where(ItemPackaging.item_id == item.id)
    )
    if (count or 0) >= MAX_LEVELS_PER_ITEM:
        raise Conflict.for_field(
            "gtin", f"{item.sku} already has {MAX_LEVELS_PER_ITEM} packaging levels."
        )
    packaging = ItemPackaging(
        item_id=item.id or 0, gtin=gtin, units=data.units, name=data.name.strip()
    )
    session.add(packaging)
    session.flush()
    audit.record(
        session, actor=actor, action="item.packaging_add", entity="item", entity_id=item.sku,
        after=_snapshot(packaging),
    )  # fmt: skip
    return packaging_out(item, packaging)


def _check_unused(
    session: Session, item: Item, packaging: ItemPackaging, what: str, *, field: str
) -> None:
    receipts = _receipts(session, [packaging.id or 0]).get(packaging.id or 0, 0)
    if receipts:
        raise Conflict.for_field(
            field,
            f"{receipts} receipt(s) of {item.sku} were counted in its {packaging.name} of "
            f"{packaging.units}; it {what}. A package of another size has its own GTIN: add "
            "it as a new level.",
            extra={"receipts": receipts},
        )


def update_packaging(
    session: Session, *, actor: str, sku: str, packaging_id: int, data: PackagingUpdate
) -> PackagingOut:
    item = get_item(session, sku)
    packaging = _level(session, item, packaging_id, lock=True)
    before = _snapshot(packaging)
    if data.units is not None and data.units != packaging.units:
        _check_unused(session, item, packaging, "keeps its units", field="units")
        packaging.units = data.units
    if data.name is not None:
        packaging.name = data.name.strip()
    session.flush()
    after = _snapshot(packaging)
    if after != before:
        audit.record(
            session, actor=actor, action="item.packaging_update", entity="item",
            entity_id=item.sku, before=before, after=after,
        )  # fmt: skip
    return packaging_out(item, packaging, _receipts(session, [packaging_id]).get(packaging_id, 0))


def remove_packaging(session: Session, *, actor: str, sku: str, packaging_id: int) -> None:
    item = get_item(session, sku)
    packaging = _level(session, item, packaging_id, lock=True)
    _check_unused(session, item, packaging, "stays as the record of them", field="id")
    before = _snapshot(packaging)
    session.delete(packaging)
    session.flush()
    audit.record(
        session, actor=actor, action="item.packaging_remove", entity="item",
        entity_id=item.sku, before=before,
    )  # fmt: skip


def pack_levels(session: Session, item_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Per item, the (name, GTIN) of its packaging level that holds exactly `pack_size`
    units (what the supplier sells as one pack), where it has one: how order files and
    printed orders name a pack."""
    if not item_ids:
        return {}
    query = (
        select(ItemPackaging.item_id, ItemPackaging.name, ItemPackaging.gtin)
        .join(Item, Item.id == ItemPackaging.item_id)
        .where(ItemPackaging.units == Item.pack_size)
        .order_by(ItemPackaging.id)
    )
    wanted = set(item_ids)
    if len(wanted) <= 1000:  # else all levels: SQLite caps bound parameters
        query = query.where(ItemPackaging.item_id.in_(sorted(wanted)))
    found: dict[int, tuple[str, str]] = {}
    for item_id, name, gtin in session.execute(query):
        if item_id in wanted:
            found.setdefault(item_id, (name, gtin))
    return found
