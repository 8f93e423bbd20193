"""Purchasing as clinics restock: packaging levels, usage and running balances on the
ledger, back-dated movements, supplier order formats.

- `item_packagings`: GTIN-bearing packaging levels of an item (box, case).
- `stock_movements` gains `recorded_at` (when the row was written; `at` becomes when it
  happened), `used` (units taken off the shelf as use), `on_hand_after` (the running
  balance per item and location in id order), `packaging_id` and `packages` (a receipt
  scanned at a packaging level). Existing rows: `recorded_at = at`; `used` is the
  quantity of `consume` rows and of `count` shortfalls of lots not expired on the
  movement's (UTC) day; `on_hand_after` is the running sum per item and location.
- The usage index becomes a partial index on (item_id, at, used) WHERE used > 0.
- `supplier_order_formats`: one bulk-order file layout per supplier.
- `catalogue_uploads` can hold a packagings file.

Revision ID: 0009_restock_purchasing
Revises: 0008_catalogue_import
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision: str = "0009_restock_purchasing"
down_revision: str | Sequence[str] | None = "0008_catalogue_import"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A count's shortfall of a lot that was still usable that day is use; consumption is use.
_BACKFILL_USED = """
UPDATE stock_movements SET used = -quantity
WHERE quantity < 0 AND (
    kind = 'consume'
    OR (kind = 'count' AND (expires_on IS NULL OR expires_on >= {day_of_at}))
)
"""
_BACKFILL_BALANCES = """
UPDATE stock_movements SET on_hand_after = running.balance
FROM (
    SELECT id, SUM(quantity) OVER (
        PARTITION BY item_id, location_id ORDER BY id ROWS UNBOUNDED PRECEDING
    ) AS balance
    FROM stock_movements
) AS running
WHERE running.id = stock_movements.id
"""


def upgrade() -> None:
    op.create_table(
        "item_packagings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("gtin", sa.String(14), nullable=False, unique=True),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("units > 0", name="ck_item_packagings_units"),
    )
    op.create_index("ix_item_packagings_item_id", "item_packagings", ["item_id"])

    op.create_table(
        "supplier_order_formats",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "supplier_id",
            sa.Integer(),
            sa.ForeignKey("suppliers.id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("columns_json", sa.Text(), nullable=False),
        sa.Column("quantity_in", sa.String(5), nullable=False),
        sa.Column("delimiter", sa.String(1), nullable=False),
        sa.Column("header_row", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("quantity_in IN ('units','packs')", name="ck_order_formats_quantity_in"),
    )

    with op.batch_alter_table("catalogue_uploads") as batch:
        batch.add_column(sa.Column("packagings_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("packagings_csv", sa.Text(), nullable=True))

    op.drop_index("ix_stock_movements_usage", table_name="stock_movements")
    with op.batch_alter_table("stock_movements") as batch:
        batch.add_column(sa.Column("recorded_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("used", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("on_hand_after", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("packaging_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("packages", sa.Integer(), nullable=True))

    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute("UPDATE stock_movements SET recorded_at = at")
    op.execute(_BACKFILL_USED.format(day_of_at="date(at)" if sqlite else "CAST(at AS DATE)"))
    op.execute(_BACKFILL_BALANCES)

    with op.batch_alter_table("stock_movements") as batch:
        batch.alter_column("recorded_at", existing_type=UTCDateTime(), nullable=False)
        batch.alter_column(
            "used", existing_type=sa.Integer(), existing_nullable=False, server_default=None
        )
        batch.alter_column(
            "on_hand_after", existing_type=sa.Integer(), existing_nullable=False,
            server_default=None,
        )  # fmt: skip
        batch.create_foreign_key(
            "fk_stock_movements_packaging_id", "item_packagings", ["packaging_id"], ["id"]
        )
        batch.create_check_constraint("ck_stock_movements_used", "used >= 0")
        batch.create_check_constraint(
            "ck_stock_movements_packages", "packages IS NULL OR packages > 0"
        )
    op.create_index(
        "ix_stock_movements_usage",
        "stock_movements",
        ["item_id", "at", "used"],
        sqlite_where=sa.text("used > 0"),
        postgresql_where=sa.text("used > 0"),
    )


def downgrade() -> None:
    op.drop_index("ix_stock_movements_usage", table_name="stock_movements")
    with op.batch_alter_table("stock_movements") as batch:
        batch.drop_constraint("ck_stock_movements_packages", type_="check")
        batch.drop_constraint("ck_stock_movements_used", type_="check")
        batch.drop_constraint("fk_stock_movements_packaging_id", type_="foreignkey")
        batch.drop_column("packages")
        batch.drop_column("packaging_id")
        batch.drop_column("on_hand_after")
        batch.drop_column("used")
        batch.drop_column("recorded_at")
    op.create_index(
        "ix_stock_movements_usage", "stock_movements", ["item_id", "kind", "at", "quantity"]
    )
    with op.batch_alter_table("catalogue_uploads") as batch:
        batch.drop_column("packagings_csv")
        batch.drop_column("packagings_name")
    op.drop_table("supplier_order_formats")
    op.drop_index("ix_item_packagings_item_id", table_name="item_packagings")
    op.drop_table("item_packagings")
