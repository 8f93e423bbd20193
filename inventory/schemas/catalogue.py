"""Request and response bodies of the inventory API.

Money: `unit_cost` is per unit, exact, with at most 4 decimal places. Requests accept a
JSON string ("0.045") or number; responses always give it as a decimal **string**
("0.0450") so no client turns it into a binary float.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

from kernel.fields import MAX_ID, NOT_BLANK, PRINTABLE, SCANNED, Text

MAX_QUANTITY = 1_000_000
Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]


Code = Annotated[str, msgspec.Meta(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_.-]+$")]
Sku = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-/]+$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NOT_BLANK)]
Lot = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=NOT_BLANK)]
Gtin = Annotated[str, msgspec.Meta(pattern=r"^\d{8}$|^\d{12,14}$")]
Days = Annotated[int, msgspec.Meta(ge=0, le=365)]
Units = Annotated[int, msgspec.Meta(ge=0, le=MAX_QUANTITY)]
Quantity = Annotated[int, msgspec.Meta(ge=-MAX_QUANTITY, le=MAX_QUANTITY)]
PositiveQuantity = Annotated[int, msgspec.Meta(gt=0, le=MAX_QUANTITY)]
Reason = Annotated[str, msgspec.Meta(max_length=500, pattern=PRINTABLE)]
Unit = Annotated[str, msgspec.Meta(min_length=1, max_length=20, pattern=NOT_BLANK)]
Short = Annotated[str, msgspec.Meta(max_length=64, pattern=PRINTABLE)]
Phone = Annotated[str, msgspec.Meta(max_length=40, pattern=PRINTABLE)]
Email = Annotated[
    str, msgspec.Meta(max_length=254, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$")
]
MovementKind = Literal["receive", "consume", "transfer", "count", "adjust", "discard"]


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


class LocationUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    active: bool | None = None


class LocationOut(msgspec.Struct):
    code: str
    name: str
    active: bool


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


class ParLevelSet(msgspec.Struct, forbid_unknown_fields=True):
    par_level: Units
    reorder_point: Units | None = None


class ParLevelOut(msgspec.Struct):
    sku: str
    location: str
    par_level: int
    reorder_point: int
    on_hand: int


# --- stock -----------------------------------------------------------------------------


class MovementIn(msgspec.Struct, forbid_unknown_fields=True):
    """`quantity` is in units: the amount moved, the counted total for `count`, or a
    signed correction for `adjust`."""

    kind: MovementKind
    sku: Sku
    location: Code
    quantity: Quantity
    lot: Lot | None = None
    expires_on: dt.date | None = None
    to_location: Code | None = None
    reason: Reason | None = None


class LotChange(msgspec.Struct):
    location: str
    lot: str | None
    expires_on: dt.date | None
    quantity: int


class MovementOut(msgspec.Struct):
    id: int
    kind: str
    sku: str
    location: str
    quantity: int
    on_hand_after: int
    at: dt.datetime
    actor: str
    reference: str
    lots: list[LotChange]
    lot: str | None = None
    expires_on: dt.date | None = None
    to_location: str | None = None
    to_on_hand_after: int | None = None
    reason: str | None = None


class BarcodeReceive(msgspec.Struct, forbid_unknown_fields=True):
    barcode: Text(200, min_length=1, pattern=SCANNED)  # may hold FNC1 (\x1d)
    location: Code
    quantity: PositiveQuantity


class StockRow(msgspec.Struct):
    sku: str
    name: str
    location: str
    on_hand: int
    par_level: int | None
    reorder_point: int | None


class ExpiringRow(msgspec.Struct):
    sku: str
    name: str
    location: str
    lot: str | None
    expires_on: dt.date
    quantity: int
    expired: bool


class RestockRow(msgspec.Struct):
    sku: str
    name: str
    to_location: str
    on_hand: int
    par_level: int
    reorder_point: int
    needed: int
    quantity: int  # what to bring: `needed`, limited by what the source holds
    source_on_hand: int


class RestockList(msgspec.Struct):
    from_location: str
    items: list[RestockRow]


class RestockLine(msgspec.Struct, forbid_unknown_fields=True):
    sku: Sku
    to_location: Code
    quantity: PositiveQuantity


class RestockRound(msgspec.Struct, forbid_unknown_fields=True):
    from_location: Code
    lines: Annotated[list[RestockLine], msgspec.Meta(min_length=1, max_length=1000)]


class RestockRoundOut(msgspec.Struct):
    from_location: str
    reference: str
    movements: list[MovementOut]


class MovementRow(msgspec.Struct):
    id: int
    kind: str
    sku: str
    location: str
    lot: str | None
    expires_on: dt.date | None
    quantity: int
    at: dt.datetime
    actor: str
    reason: str | None
    reference: str | None
