"""Inventory: suppliers, locations, items, stock levels (with par levels), lots, movements.

Revision ID: 0003_inventory
Revises: 0002_idempotency_keys
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.db import Money, UTCDateTime

revision: str = "0003_inventory"
down_revision: str | Sequence[str] | None = "0002_idempotency_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "suppliers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("account_number", sa.String(64), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("lead_time_days", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "locations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(20), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sku", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("pack_size", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), sa.ForeignKey("suppliers.id"), nullable=False),
        sa.Column("vendor_sku", sa.String(64), nullable=True),
        sa.Column("unit_cost", Money(), nullable=False),
        sa.Column("gtin", sa.String(14), nullable=True, unique=True),
        sa.Column("lead_time_days", sa.Integer(), nullable=True),
        sa.Column("min_order_qty", sa.Integer(), nullable=False),
        sa.Column("lot_tracked", sa.Boolean(), nullable=False),
        sa.Column("category", sa.String(64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("pack_size > 0", name="ck_items_pack_size"),
        sa.CheckConstraint("unit_cost >= 0", name="ck_items_unit_cost"),
        sa.CheckConstraint("min_order_qty >= 0", name="ck_items_min_order_qty"),
    )
    op.create_index("ix_items_supplier_id", "items", ["supplier_id"])
    op.create_index("ix_items_category", "items", ["category"])

    op.create_table(
        "stock_levels",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("location_id", sa.Integer(), sa.ForeignKey("locations.id"), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("par_level", sa.Integer(), nullable=True),
        sa.Column("reorder_point", sa.Integer(), nullable=True),
        sa.UniqueConstraint("item_id", "location_id", name="uq_stock_levels_item_location"),
        sa.CheckConstraint("on_hand >= 0", name="ck_stock_levels_on_hand"),
        sa.CheckConstraint("par_level IS NULL OR par_level >= 0", name="ck_stock_levels_par"),
        sa.CheckConstraint(
            "reorder_point IS NULL OR reorder_point >= 0", name="ck_stock_levels_reorder_point"
        ),
    )
    op.create_index("ix_stock_levels_location_id", "stock_levels", ["location_id"])

    op.create_table(
        "stock_lots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("location_id", sa.Integer(), sa.ForeignKey("locations.id"), nullable=False),
        sa.Column("lot", sa.String(40), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.UniqueConstraint(
            "item_id", "location_id", "lot", name="uq_stock_lots_item_location_lot"
        ),
        sa.CheckConstraint("quantity >= 0", name="ck_stock_lots_quantity"),
    )
    op.create_index("ix_stock_lots_location_id", "stock_lots", ["location_id"])
    op.create_index("ix_stock_lots_expires_on", "stock_lots", ["expires_on"])

    op.create_table(
        "stock_movements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("location_id", sa.Integer(), sa.ForeignKey("locations.id"), nullable=False),
        sa.Column("lot", sa.String(40), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("reference", sa.String(64), nullable=True),
        sa.CheckConstraint(
            "kind IN ('receive','consume','transfer','count','adjust','discard')",
            name="ck_stock_movements_kind",
        ),
    )
    op.create_index(
        "ix_stock_movements_item_location", "stock_movements", ["item_id", "location_id"]
    )
    op.create_index("ix_stock_movements_at", "stock_movements", ["at"])
    op.create_index("ix_stock_movements_reference", "stock_movements", ["reference"])


def downgrade() -> None:
    op.drop_table("stock_movements")
    op.drop_table("stock_lots")
    op.drop_table("stock_levels")
    op.drop_table("items")
    op.drop_table("locations")
    op.drop_table("suppliers")
