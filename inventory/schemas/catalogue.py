"""Request and response bodies of the catalogue API: suppliers, locations, items, par levels.

Money: `unit_cost` is per unit, exact, with at most 4 decimal places. Requests accept a
JSON string ("0.045") or number; responses always give it as a decimal **string**
("0.0450") so no client turns it into a binary float.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from inventory.schemas.fields import (
    Code,
    Days,
    Email,
    Gtin,
    Id,
    Name,
    PackagingName,
    Phone,
    PositiveQuantity,
    Short,
    Sku,
    Unit,
    Units,
)
from kernel.sites.schemas import SiteCode

# --- suppliers -------------------------------------------------------------------------


class SupplierCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    account_number: Short | None = None
    email: Email | None = None
    phone: Phone | None = None
    lead_time_days: Days | None = None


class SupplierUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields given change; all but `name` may be set to null to clear them."""

    name: Name | None = None
    account_number: Short | msgspec.UnsetType | None = msgspec.UNSET
    email: Email | msgspec.UnsetType | None = msgspec.UNSET
    phone: Phone | msgspec.UnsetType | None = msgspec.UNSET
    lead_time_days: Days | msgspec.UnsetType | None = msgspec.UNSET


class SupplierOut(msgspec.Struct):
    id: int
    name: str
    account_number: str | None
    email: str | None
    phone: str | None
    lead_time_days: int | None


# --- locations -------------------------------------------------------------------------


class LocationCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Name
    site: SiteCode | None = None  # default: the user's only site, else MAIN


class LocationUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    active: bool | None = None


class LocationOut(msgspec.Struct):
    code: str
    name: str
    active: bool
    site: str


# --- items -----------------------------------------------------------------------------


class ItemCreate(msgspec.Struct, forbid_unknown_fields=True):
    sku: Sku
    name: Name
    unit: Unit
    supplier_id: Id
    unit_cost: Decimal
    pack_size: PositiveQuantity = 1
    vendor_sku: Short | None = None
    gtin: Gtin | None = None
    lead_time_days: Days | None = None
    min_order_qty: Units = 0
    lot_tracked: bool = False
    category: Short | None = None
    active: bool = True


class ItemUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields given change; `gtin`, `vendor_sku`, `lead_time_days` and
    `category` may be set to null to clear them."""

    name: Name | None = None
    unit: Unit | None = None
    supplier_id: Id | None = None
    unit_cost: Decimal | None = None
    pack_size: PositiveQuantity | None = None
    vendor_sku: Short | msgspec.UnsetType | None = msgspec.UNSET
    gtin: Gtin | msgspec.UnsetType | None = msgspec.UNSET
    lead_time_days: Days | msgspec.UnsetType | None = msgspec.UNSET
    min_order_qty: Units | None = None
    lot_tracked: bool | None = None
    category: Short | msgspec.UnsetType | None = msgspec.UNSET
    active: bool | None = None


class ItemOut(msgspec.Struct):
    sku: str
    name: str
    unit: str
    pack_size: int
    supplier_id: Id
    vendor_sku: str | None
    unit_cost: str  # decimal string, 4 places: "0.0450"
    gtin: str | None
    lead_time_days: int | None
    effective_lead_time_days: int
    min_order_qty: int
    lot_tracked: bool
    category: str | None
    active: bool


# --- packaging levels ------------------------------------------------------------------


class PackagingCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A packaging level with its own GTIN: `units` of the item in one package (a box of
    100: 100; a case of 10 boxes: 1000)."""

    gtin: Gtin
    units: PositiveQuantity
    name: PackagingName


class PackagingUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Rename a level, or change its units while no receipt was counted in it."""

    units: PositiveQuantity | None = None
    name: PackagingName | None = None


class PackagingOut(msgspec.Struct):
    id: int
    sku: str
    gtin: str
    units: int
    name: str
    receipts: int  # receipts counted in packages of this level


class ParLevelSet(msgspec.Struct, forbid_unknown_fields=True):
    par_level: Units
    reorder_point: Units | None = None


class ParLevelOut(msgspec.Struct):
    sku: str
    location: str
    par_level: int
    reorder_point: int
    on_hand: int
