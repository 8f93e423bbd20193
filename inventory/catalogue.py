"""The catalogue purchasing maintains: suppliers, locations, items and par levels.

Plain functions taking a session; each write is audited. A refusal names the field it is
about (`DomainError.field`), so a page shows it there.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.gtins import checked_gtin
from inventory.lookups import get_item, get_location, get_supplier, normalize_code, normalize_sku
from inventory.models import Item, Location, StockLevel, Supplier
from inventory.schemas.catalogue import (
    ItemCreate,
    ItemUpdate,
    LocationCreate,
    LocationUpdate,
    ParLevelOut,
    SupplierCreate,
    SupplierUpdate,
)
from inventory.stock_levels import lock_stock_level
from kernel import audit
from kernel.db import utcnow
from kernel.problems import Conflict, InvalidInput
from kernel.sites.service import site_id_or_main

DEFAULT_LEAD_TIME_DAYS = 7
MAX_UNIT_COST = Decimal("1000000")


def clean_unit_cost(value: Any) -> Decimal:
    """An exact, non-negative cost with at most 4 decimal places (what `Money` stores)."""
    try:
        cost = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput.for_field("unit_cost", "unit_cost must be a decimal number.") from exc
    if not cost.is_finite() or cost < 0 or cost >= MAX_UNIT_COST:
        raise InvalidInput.for_field("unit_cost", "unit_cost must be between 0 and 999999.9999.")
    if cost != cost.quantize(Decimal("0.0001")):
        raise InvalidInput.for_field("unit_cost", "unit_cost may have at most 4 decimal places.")
    return cost


# --- suppliers -------------------------------------------------------------------------


def _check_supplier_name(session: Session, name: str, exclude_id: int | None = None) -> None:
    query = select(Supplier.id).where(func.lower(Supplier.name) == name.lower())
    if exclude_id is not None:
        query = query.where(Supplier.id != exclude_id)
    if session.scalar(query) is not None:
        raise Conflict(f"A supplier named {name!r} already exists.", field="name")


def create_supplier(session: Session, *, actor: str, data: SupplierCreate) -> Supplier:
    name = data.name.strip()
    _check_supplier_name(session, name)
    supplier = Supplier(
        name=name,
        account_number=data.account_number,
        email=data.email,
        phone=data.phone,
        lead_time_days=data.lead_time_days,
    )
    session.add(supplier)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="supplier.create",
        entity="supplier",
        entity_id=supplier.id or 0,
        after=audit.snapshot(supplier),
    )
    return supplier


def update_supplier(
    session: Session, *, actor: str, supplier_id: int, data: SupplierUpdate
) -> Supplier:
    supplier = get_supplier(session, supplier_id)
    before = audit.snapshot(supplier)
    changes = {
        k: v
        for k, v in msgspec.structs.asdict(data).items()
        if v is not msgspec.UNSET and (v is not None or k != "name")
    }
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        _check_supplier_name(session, changes["name"], exclude_id=supplier.id)
    for key, value in changes.items():
        setattr(supplier, key, value)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="supplier.update",
        entity="supplier",
        entity_id=supplier.id or 0,
        before=before,
        after=audit.snapshot(supplier),
    )
    return supplier


# --- locations -------------------------------------------------------------------------


def create_location(
    session: Session, *, actor: str, data: LocationCreate, site_id: int | None = None
) -> Location:
    """A new location of site `site_id` (codes are unique across the group: docs/sites.md)."""
    code = normalize_code(data.code)
    if session.scalar(select(Location.id).where(Location.code == code)) is not None:
        raise Conflict(f"A location with code {code!r} already exists.", field="code")
    loc = Location(code=code, name=data.name.strip(), site_id=site_id_or_main(session, site_id))
    session.add(loc)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="location.create",
        entity="location",
        entity_id=code,
        after=audit.snapshot(loc),
    )
    return loc


def update_location(session: Session, *, actor: str, code: str, data: LocationUpdate) -> Location:
    loc = get_location(session, code)
    before = audit.snapshot(loc)
    if data.name is not None:
        loc.name = data.name.strip()
    if data.active is not None:
        loc.active = data.active
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="location.update",
        entity="location",
        entity_id=loc.code,
        before=before,
        after=audit.snapshot(loc),
    )
    return loc


# --- items -----------------------------------------------------------------------------


def effective_lead_time(item: Item, supplier: Supplier | None) -> int:
    """The item's lead time, else its supplier's, else 7 days."""
    if item.lead_time_days is not None:
        return item.lead_time_days
    if supplier is not None and supplier.lead_time_days is not None:
        return supplier.lead_time_days
    return DEFAULT_LEAD_TIME_DAYS


def create_item(session: Session, *, actor: str, data: ItemCreate) -> Item:
    sku = normalize_sku(data.sku)
    if session.scalar(select(Item.id).where(Item.sku == sku)) is not None:
        raise Conflict(f"An item with SKU {sku!r} already exists.", field="sku")
    if session.get(Supplier, data.supplier_id) is None:
        raise InvalidInput.for_field("supplier_id", f"No supplier with id {data.supplier_id}.")
    gtin = checked_gtin(session, data.gtin) if data.gtin else None
    item = Item(
        sku=sku,
        name=data.name.strip(),
        unit=data.unit.strip(),
        pack_size=data.pack_size,
        supplier_id=data.supplier_id,
        vendor_sku=data.vendor_sku,
        unit_cost=clean_unit_cost(data.unit_cost),
        gtin=gtin,
        lead_time_days=data.lead_time_days,
        min_order_qty=data.min_order_qty,
        lot_tracked=data.lot_tracked,
        category=data.category,
        active=data.active,
    )
    session.add(item)
    session.flush()
    audit.record(
        session, actor=actor, action="item.create", entity="item", entity_id=sku,
        after=audit.snapshot(item),
    )  # fmt: skip
    return item


def update_item(session: Session, *, actor: str, sku: str, data: ItemUpdate) -> Item:
    item = get_item(session, sku)
    before = audit.snapshot(item)
    changes: dict[str, Any] = {}
    for key, value in msgspec.structs.asdict(data).items():
        if value is msgspec.UNSET:
            continue
        if value is None and key not in {"vendor_sku", "gtin", "lead_time_days", "category"}:
            continue
        changes[key] = value
    if "supplier_id" in changes and session.get(Supplier, changes["supplier_id"]) is None:
        raise InvalidInput.for_field(
            "supplier_id", f"No supplier with id {changes['supplier_id']}."
        )
    if "unit_cost" in changes:
        changes["unit_cost"] = clean_unit_cost(changes["unit_cost"])
    if changes.get("gtin"):
        changes["gtin"] = checked_gtin(session, changes["gtin"], except_item_id=item.id)
    if "lot_tracked" in changes and changes["lot_tracked"] != item.lot_tracked:
        # Turning lot tracking on or off with stock on hand would orphan or invent lots.
        on_hand = session.scalar(
            select(func.coalesce(func.sum(StockLevel.on_hand), 0)).where(
                StockLevel.item_id == item.id
            )
        )
        if on_hand:
            raise Conflict(
                f"{item.sku} has {on_hand} on hand; lot tracking can only change at zero stock.",
                field="lot_tracked",
            )
    for key, value in changes.items():
        setattr(item, key, value)
    item.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="item.update",
        entity="item",
        entity_id=item.sku,
        before=before,
        after=audit.snapshot(item),
    )
    return item


# --- par levels ------------------------------------------------------------------------


def default_reorder_point(par_level: int) -> int:
    """Half the par level, rounded up."""
    return math.ceil(par_level / 2)


def checked_reorder_point(par_level: int, reorder_point: int | None) -> int:
    """The reorder point to store: the default when none is given, never above the par."""
    if reorder_point is None:
        reorder_point = default_reorder_point(par_level)
    if reorder_point > par_level:
        raise InvalidInput.for_field(
            "reorder_point",
            f"The reorder point ({reorder_point}) cannot be above the par level ({par_level}).",
        )
    return reorder_point


def set_par_level(
    session: Session,
    *,
    actor: str,
    sku: str,
    location_code: str,
    par_level: int,
    reorder_point: int | None,
) -> ParLevelOut:
    item = get_item(session, sku)
    loc = get_location(session, location_code)
    reorder_point = checked_reorder_point(par_level, reorder_point)
    level = lock_stock_level(session, item_id=item.id or 0, location_id=loc.id or 0)
    before = {"par_level": level.par_level, "reorder_point": level.reorder_point}
    level.par_level = par_level
    level.reorder_point = reorder_point
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="item.par_level",
        entity="item",
        entity_id=item.sku,
        before={"location": loc.code, **before},
        after={"location": loc.code, "par_level": par_level, "reorder_point": reorder_point},
    )
    return ParLevelOut(
        sku=item.sku,
        location=loc.code,
        par_level=par_level,
        reorder_point=reorder_point,
        on_hand=level.on_hand,
    )
