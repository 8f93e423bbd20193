"""Purchasing: purchase orders and their lines; an index for the reorder usage query.

Revision ID: 0005_purchasing
Revises: 0003_inventory
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.db import Money, UTCDateTime

revision: str = "0005_purchasing"
down_revision: str | Sequence[str] | None = "0003_inventory"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "purchase_orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("supplier_id", sa.Integer(), sa.ForeignKey("suppliers.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("notes", sa.String(500), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("cancel_reason", sa.String(500), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft','submitted','partially_received','received','cancelled')",
            name="ck_purchase_orders_status",
        ),
    )
    op.create_index("ix_purchase_orders_supplier_id", "purchase_orders", ["supplier_id"])
    op.create_index("ix_purchase_orders_status", "purchase_orders", ["status"])

    op.create_table(
        "purchase_order_lines",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "purchase_order_id",
            sa.Integer(),
            sa.ForeignKey("purchase_orders.id"),
            nullable=False,
        ),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("received_quantity", sa.Integer(), nullable=False),
        sa.Column("unit_cost", Money(), nullable=False),
        sa.UniqueConstraint("purchase_order_id", "item_id", name="uq_purchase_order_lines_po_item"),
        sa.CheckConstraint("quantity > 0", name="ck_purchase_order_lines_quantity"),
        sa.CheckConstraint(
            "received_quantity >= 0 AND received_quantity <= quantity",
            name="ck_purchase_order_lines_received",
        ),
    )
    op.create_index("ix_purchase_order_lines_item_id", "purchase_order_lines", ["item_id"])
    # covering index for the reorder usage query (consumption per item in a time window)
    op.create_index(
        "ix_stock_movements_usage", "stock_movements", ["item_id", "kind", "at", "quantity"]
    )


def downgrade() -> None:
    op.drop_index("ix_stock_movements_usage", table_name="stock_movements")
    op.drop_table("purchase_order_lines")
    op.drop_table("purchase_orders")
