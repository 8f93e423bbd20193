"""Request and response bodies of the reorder and purchase-order API.

Money is given as decimal strings: `unit_cost` per unit with 2 to 4 places ("0.045",
"12.50"), `line_total` and order totals in cents ("12.35"), so no client sees float noise.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from inventory.schemas.fields import Code, Id, Lot, PositiveQuantity, Sku
from inventory.schemas.stock import MovementOut
from kernel.fields import MULTILINE, Text
from kernel.sites.schemas import SiteCode

PoStatus = Literal["draft", "submitted", "partially_received", "received", "cancelled"]
Notes = Text(500, pattern=MULTILINE)


class SuggestionRow(msgspec.Struct):
    """One item's reorder figures. `on_hand` is usable stock (lots past their expiry date
    are left out and shown as `expired_on_hand`); `units_used` is what left the shelf as
    use in the last 56 complete days (consumption and count shortfalls)."""

    supplier: str  # "" when the item has no supplier (then supplier_missing is true)
    vendor_sku: str
    sku: str
    name: str
    unit: str
    pack_size: int
    on_hand: int
    on_order: int
    par: int
    suggested_qty: int
    order_packs: int
    unit_cost: str
    line_total: str
    supplier_id: int | None
    supplier_missing: bool
    reorder_point: int
    position: int
    need: int
    min_order_qty: int
    lead_time_days: int
    expired_on_hand: int
    units_used: int
    avg_daily_usage: float
    days_of_cover: float | None
    usage_par: int
    gtin: str
    pack_cost: str  # unit_cost x pack_size
    reason: str
    site: str  # the site that orders (each site orders for its own locations)


class ParReviewRow(msgspec.Struct):
    supplier: str
    supplier_id: int | None
    sku: str
    name: str
    unit: str
    par: int
    usage_par: int
    change: int  # usage_par - par
    change_pct: float | None
    units_used: int
    avg_daily_usage: float
    lead_time_days: int
    on_hand: int
    expired_on_hand: int
    reason: str
    site: str


# --- supplier order files --------------------------------------------------------------

QuantityIn = Literal["units", "packs"]
Delimiter = Literal[",", ";", "\t", "|"]
ColumnHeader = Text(64, min_length=1)
FieldName = Text(40, min_length=1, pattern=r"^[a-z_]+$")


class OrderColumn(msgspec.Struct, forbid_unknown_fields=True):
    header: ColumnHeader  # as the supplier's upload expects it, e.g. "Item Number"
    field: FieldName  # a reorder-row field, e.g. "vendor_sku" (docs/reorder.md lists them)


class OrderFormatIn(msgspec.Struct, forbid_unknown_fields=True):
    """A supplier's bulk-order file: its columns in order, the quantity in units or in
    packs (`pack_size` units each), the delimiter and whether a header row comes first."""

    columns: Annotated[list[OrderColumn], msgspec.Meta(min_length=1, max_length=40)]
    quantity_in: QuantityIn = "units"
    delimiter: Delimiter = ","
    header_row: bool = True


class OrderFormatOut(msgspec.Struct):
    supplier_id: int
    supplier: str
    columns: list[OrderColumn]
    quantity_in: QuantityIn
    delimiter: Delimiter
    header_row: bool
    updated_by: str
    updated_at: dt.datetime


# --- purchase orders -------------------------------------------------------------------


class PoLineIn(msgspec.Struct, forbid_unknown_fields=True):
    sku: Sku
    quantity: PositiveQuantity  # units


class PurchaseOrderCreate(msgspec.Struct, forbid_unknown_fields=True):
    supplier_id: Id
    lines: Annotated[list[PoLineIn], msgspec.Meta(min_length=1, max_length=5000)]
    notes: Notes | None = None
    site: SiteCode | None = None  # the site ordering: default the user's only site, else MAIN


class FromSuggestions(msgspec.Struct, forbid_unknown_fields=True):
    supplier_id: Id | None = None  # only this supplier's suggestions
    site: SiteCode | None = None  # the site ordering: default the user's only site, else MAIN


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Notes | None = None


class ReceiveLineIn(msgspec.Struct, forbid_unknown_fields=True):
    sku: Sku
    quantity: PositiveQuantity
    lot: Lot | None = None
    expires_on: dt.date | None = None


class ReceiveIn(msgspec.Struct, forbid_unknown_fields=True):
    location: Code
    lines: Annotated[list[ReceiveLineIn], msgspec.Meta(min_length=1, max_length=5000)]


class PoLineOut(msgspec.Struct):
    sku: str
    name: str
    unit: str
    vendor_sku: str | None
    pack_size: int
    quantity: int
    received_quantity: int
    outstanding: int
    unit_cost: str
    line_total: str


class PurchaseOrderOut(msgspec.Struct):
    id: int
    number: str  # "PO-000042"
    site: str
    supplier_id: int
    supplier: str
    status: PoStatus
    notes: str | None
    created_by: str
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    received_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    cancel_reason: str | None
    total: str
    lines: list[PoLineOut]


class PurchaseOrderSummary(msgspec.Struct):
    id: int
    number: str
    site: str
    supplier_id: int
    supplier: str
    status: PoStatus
    created_by: str
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    line_count: int
    total: str


class FromSuggestionsOut(msgspec.Struct):
    items: list[PurchaseOrderOut]
    skipped: list[str]  # SKUs already on an open draft, or without a supplier


class ReceiptOut(msgspec.Struct):
    purchase_order: PurchaseOrderOut
    movements: list[MovementOut]


class PoMailOut(msgspec.Struct):
    """A purchase order e-mail waiting in the outbox (the sender delivers it)."""

    id: int
    purchase_order_id: int
    to: str
    subject: str
    status: str
    queued_at: dt.datetime
