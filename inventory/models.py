"""Inventory tables: the catalogue (suppliers, locations, items), stock levels per item and
location (on-hand total plus par level), lot balances and the append-only movement ledger.

Invariant kept by `inventory.ledger` in every write transaction:
``stock_levels.on_hand == sum(stock_lots.quantity) == sum(stock_movements.quantity)`` per
item and location, and no quantity is ever negative (also enforced by CHECK constraints).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, Date, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from kernel.db import Money, UTCDateTime, utcnow

MOVEMENT_KINDS = ("receive", "consume", "transfer", "count", "adjust", "discard")
NO_LOT = ""  # the lot of units that carry no lot number (lot '' keeps the unique key simple)


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
    at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str = Field(max_length=64)
    reason: str | None = Field(default=None, max_length=500)
    reference: str | None = Field(default=None, max_length=64, index=True)
