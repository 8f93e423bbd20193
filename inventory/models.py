"""Inventory tables: the catalogue (suppliers, locations, items), stock levels per item and
location (on-hand total plus par level), lot balances, the append-only movement ledger,
purchase orders and their lines, and uploads waiting for the import page's confirm.

Invariant kept by `inventory.ledger` in every write transaction:
``stock_levels.on_hand == sum(stock_lots.quantity) == sum(stock_movements.quantity)`` per
item and location, and no quantity is ever negative (also enforced by CHECK constraints).

Each movement row also carries ``used`` (the units it took off the shelf as use: a
consume, or a count's shortfall of usable stock; the reorder usage sums it) and
``on_hand_after`` (the item's on-hand at that location right after the row, in recording
order: ``id`` order). ``at`` is when it happened (a movement may be recorded up to 7 days
after the fact), ``recorded_at`` when it was written.

Purchase orders: ``draft`` → ``submitted`` → ``partially_received`` → ``received``, or
``cancelled`` (from draft, submitted or partially received). Lines of submitted and
partially received orders that are not yet received count as *on order* in the reorder
suggestions. ``received_quantity`` only grows through receipts, which write ``receive``
movements through the stock ledger.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, Date, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from kernel.audit import evidence
from kernel.db import Money, UTCDateTime, utcnow
from kernel.sites.query_scope import owned_through, site_owned

NO_LOT = ""  # the lot of units that carry no lot number (lot '' keeps the unique key simple)
PO_STATUSES = ("draft", "submitted", "partially_received", "received", "cancelled")
OPEN_ON_ORDER = ("submitted", "partially_received")  # statuses whose lines count as on order


class Supplier(SQLModel, table=True):
    __tablename__ = "suppliers"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    account_number: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    lead_time_days: int | None = Field(default=None)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Location(SQLModel, table=True):
    __tablename__ = "locations"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=200)
    active: bool = Field(default=True)
    site_id: int = Field(foreign_key="sites.id", index=True)  # kernel.sites: whose record
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Item(SQLModel, table=True):
    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint("pack_size > 0", name="ck_items_pack_size"),
        CheckConstraint("unit_cost >= 0", name="ck_items_unit_cost"),
        CheckConstraint("min_order_qty >= 0", name="ck_items_min_order_qty"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    unit: str = Field(max_length=20)
    pack_size: int = Field(default=1)
    supplier_id: int = Field(foreign_key="suppliers.id", index=True)
    vendor_sku: str | None = Field(default=None, max_length=64)
    unit_cost: Decimal = Field(default=Decimal(0), sa_type=Money)
    gtin: str | None = Field(default=None, max_length=14, unique=True)
    lead_time_days: int | None = Field(default=None)
    min_order_qty: int = Field(default=0)
    lot_tracked: bool = Field(default=False)
    category: str | None = Field(default=None, max_length=64, index=True)
    active: bool = Field(default=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ItemPackaging(SQLModel, table=True):
    """A packaging level of an item with its own GTIN (a box of 100, a case of 10 boxes).

    Its GTIN shares one uniqueness space with the items' own GTINs (an item's GTIN is its
    "each" level, 1 unit): `inventory.packagings` checks both tables under one lock.
    """

    __tablename__ = "item_packagings"
    __table_args__ = (CheckConstraint("units > 0", name="ck_item_packagings_units"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="items.id", index=True)
    gtin: str = Field(max_length=14, unique=True)
    units: int  # units of the item in one package of this level
    name: str = Field(max_length=40)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StockLevel(SQLModel, table=True):
    """One item at one location: its on-hand total and the par level purchasing set.

    The row is also the lock every movement of the item at the location takes first, so
    concurrent movements on PostgreSQL queue here instead of losing updates.
    """

    __tablename__ = "stock_levels"
    __table_args__ = (
        UniqueConstraint("item_id", "location_id", name="uq_stock_levels_item_location"),
        CheckConstraint("on_hand >= 0", name="ck_stock_levels_on_hand"),
        CheckConstraint("par_level IS NULL OR par_level >= 0", name="ck_stock_levels_par"),
        CheckConstraint(
            "reorder_point IS NULL OR reorder_point >= 0", name="ck_stock_levels_reorder_point"
        ),
        Index("ix_stock_levels_location_id", "location_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="items.id")
    location_id: int = Field(foreign_key="locations.id")
    on_hand: int = Field(default=0)
    par_level: int | None = Field(default=None)
    reorder_point: int | None = Field(default=None)


class StockLot(SQLModel, table=True):
    """The balance of one lot of an item at a location (lot '' = no lot number)."""

    __tablename__ = "stock_lots"
    __table_args__ = (
        UniqueConstraint("item_id", "location_id", "lot", name="uq_stock_lots_item_location_lot"),
        CheckConstraint("quantity >= 0", name="ck_stock_lots_quantity"),
        Index("ix_stock_lots_expires_on", "expires_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="items.id")
    location_id: int = Field(foreign_key="locations.id", index=True)
    lot: str = Field(default=NO_LOT, max_length=40)
    expires_on: dt.date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    quantity: int = Field(default=0)


class StockMovement(SQLModel, table=True):
    """One signed change to one lot at one location. Append-only: never updated."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('receive','consume','transfer','count','adjust','discard')",
            name="ck_stock_movements_kind",
        ),
        CheckConstraint("used >= 0", name="ck_stock_movements_used"),
        CheckConstraint("packages IS NULL OR packages > 0", name="ck_stock_movements_packages"),
        Index("ix_stock_movements_item_location", "item_id", "location_id"),
        Index("ix_stock_movements_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    item_id: int = Field(foreign_key="items.id")
    location_id: int = Field(foreign_key="locations.id")
    lot: str = Field(default=NO_LOT, max_length=40)
    expires_on: dt.date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    quantity: int
    at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)  # when it happened
    actor: str = Field(max_length=64)
    reason: str | None = Field(default=None, max_length=500)
    reference: str | None = Field(default=None, max_length=64, index=True)
    recorded_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    used: int = Field(default=0)  # units taken off the shelf as use (usage)
    on_hand_after: int = Field(default=0)  # the level's on-hand after this row (id order)
    packaging_id: int | None = Field(default=None, foreign_key="item_packagings.id")
    packages: int | None = Field(default=None)  # packages of that level (a scanned receipt)


# The reorder usage query (units used per item over 8 weeks) reads this partial index only,
# in item order, with no table look-ups and no sort; rows that are not use (receipts,
# transfers, most counts) are not in it (migration 0009 creates it).
_movements_c = StockMovement.__table__.c  # type: ignore[attr-defined]
usage_index = Index(
    "ix_stock_movements_usage",
    _movements_c.item_id,
    _movements_c.at,
    _movements_c.used,
    sqlite_where=_movements_c.used > 0,
    postgresql_where=_movements_c.used > 0,
)


# --- purchase orders -------------------------------------------------------------------


class PurchaseOrder(SQLModel, table=True):
    __tablename__ = "purchase_orders"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft','submitted','partially_received','received','cancelled')",
            name="ck_purchase_orders_status",
        ),
        Index("ix_purchase_orders_status", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    supplier_id: int = Field(foreign_key="suppliers.id", index=True)
    site_id: int = Field(foreign_key="sites.id", index=True)  # kernel.sites: whose record
    status: str = Field(default="draft", max_length=20)
    notes: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    received_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_reason: str | None = Field(default=None, max_length=500)


class PurchaseOrderLine(SQLModel, table=True):
    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        UniqueConstraint("purchase_order_id", "item_id", name="uq_purchase_order_lines_po_item"),
        CheckConstraint("quantity > 0", name="ck_purchase_order_lines_quantity"),
        CheckConstraint(
            "received_quantity >= 0 AND received_quantity <= quantity",
            name="ck_purchase_order_lines_received",
        ),
        Index("ix_purchase_order_lines_item_id", "item_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    purchase_order_id: int = Field(foreign_key="purchase_orders.id")
    item_id: int = Field(foreign_key="items.id")
    quantity: int  # units ordered
    received_quantity: int = Field(default=0)
    unit_cost: Decimal = Field(default=Decimal(0), sa_type=Money)  # per unit, when ordered


# --- supplier order files ------------------------------------------------------------

ORDER_QUANTITY_IN = ("units", "packs")
ORDER_DELIMITERS = (",", ";", "\t", "|")


class SupplierOrderFormat(SQLModel, table=True):
    """The layout of one supplier's bulk-order upload file: its columns (header and the
    reorder-row field each holds, JSON), whether quantities are units or packs, the
    delimiter and whether the file starts with a header row."""

    __tablename__ = "supplier_order_formats"
    __table_args__ = (
        CheckConstraint("quantity_in IN ('units','packs')", name="ck_order_formats_quantity_in"),
    )

    id: int | None = Field(default=None, primary_key=True)
    supplier_id: int = Field(foreign_key="suppliers.id", unique=True)
    columns_json: str = Field(sa_column=Column(Text, nullable=False))  # [[header, field], ...]
    quantity_in: str = Field(default="units", max_length=5)
    delimiter: str = Field(default=",", max_length=1)
    header_row: bool = Field(default=True)
    updated_by: str = Field(max_length=64)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- catalogue import ------------------------------------------------------------------


class CatalogueUpload(SQLModel, table=True):
    """Uploads waiting for the import page's confirm button.

    The page checks an upload (a dry run) and shows the report; the confirm button then
    imports the same files. They wait here, under a random token, instead of in one app
    worker's memory (another worker may serve the confirm) or a hidden form field
    (megabytes sent back and forth). Only files whose dry run passed are kept; the confirm
    deletes the row, so a second click cannot import twice; rows older than a day are
    swept away.
    """

    __tablename__ = "catalogue_uploads"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    username: str = Field(max_length=64)
    items_name: str | None = Field(default=None, max_length=200)
    items_csv: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    par_levels_name: str | None = Field(default=None, max_length=200)
    par_levels_csv: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    packagings_name: str | None = Field(default=None, max_length=200)
    packagings_csv: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


# --- sites (docs/sites.md): whose rows these are ---------------------------------------
site_owned(Location)
site_owned(PurchaseOrder)
# Stock is per location: a bin's level and par, its lots and its ledger are its location's.
owned_through(StockLevel, StockLevel.location_id, Location)
owned_through(StockLot, StockLot.location_id, Location)
owned_through(StockMovement, StockMovement.location_id, Location)
owned_through(PurchaseOrderLine, PurchaseOrderLine.purchase_order_id, PurchaseOrder)
# Evidence an auditor relies on: sealed at each commit, checked by `steristock audit verify`
# (kernel/audit/evidence.py). `updated`: the product changes a status column in place.
evidence.register(StockMovement.__table__)  # type: ignore[attr-defined]
