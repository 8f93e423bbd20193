"""BI products and read times, invalid spore tests, early release of implant loads
(SPEC section 7).

- `bi_products`: a biological indicator product with its minimum incubation; `DEFAULT`
  (a self-contained BI, 1440 minutes) is added and used when a cycle names none.
- `cycles` gains `bi_product_id` (existing cycles with a BI lot: `DEFAULT`) and the early
  release of an implant load (`early_released_at`, `early_released_by`,
  `early_release_reason`).
- `bi_results` (the valid result of a cycle) gains `bi_product_id`,
  `incubation_started_at` and `recorded_at`; existing results become results of `DEFAULT`
  incubated from the cycle's end (or their read time) and recorded when read.
- `invalid_bi_tests`: spore tests whose control vial did not grow, kept as records.

Revision ID: 0012_bi_products
Revises: 0011_cycle_readings
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision: str = "0012_bi_products"
down_revision: str | Sequence[str] | None = "0011_cycle_readings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    products = op.create_table(
        "bi_products",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("manufacturer", sa.String(200), nullable=True),
        sa.Column("min_incubation_minutes", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "min_incubation_minutes > 0", name="ck_bi_products_min_incubation_minutes"
        ),
    )
    op.create_index("ix_bi_products_code", "bi_products", ["code"], unique=True)
    conn = op.get_bind()
    conn.execute(
        products.insert().values(
            code="DEFAULT",
            name="Self-contained BI (default)",
            manufacturer=None,
            min_incubation_minutes=1440,
            created_by="system",
            created_at=sa.func.now(),
        )
    )
    default_id = conn.execute(sa.text("SELECT id FROM bi_products WHERE code = 'DEFAULT'")).scalar()

    with op.batch_alter_table("cycles") as batch:
        batch.add_column(sa.Column("bi_product_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("early_released_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("early_released_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("early_release_reason", sa.Text(), nullable=True))
        batch.create_foreign_key(
            "fk_cycles_bi_product_id", "bi_products", ["bi_product_id"], ["id"]
        )
    conn.execute(
        sa.text("UPDATE cycles SET bi_product_id = :d WHERE bi_lot IS NOT NULL"), {"d": default_id}
    )

    with op.batch_alter_table("bi_results") as batch:
        batch.add_column(sa.Column("bi_product_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("incubation_started_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("recorded_at", UTCDateTime(), nullable=True))
    conn.execute(
        sa.text(
            "UPDATE bi_results SET bi_product_id = :d, recorded_at = read_at, "
            "incubation_started_at = COALESCE("
            "(SELECT ended_at FROM cycles WHERE cycles.id = bi_results.cycle_id), read_at)"
        ),
        {"d": default_id},
    )
    with op.batch_alter_table("bi_results") as batch:
        batch.alter_column("bi_product_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("incubation_started_at", existing_type=UTCDateTime(), nullable=False)
        batch.alter_column("recorded_at", existing_type=UTCDateTime(), nullable=False)
        batch.create_foreign_key(
            "fk_bi_results_bi_product_id", "bi_products", ["bi_product_id"], ["id"]
        )

    op.create_table(
        "invalid_bi_tests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cycle_id", sa.Integer(), sa.ForeignKey("cycles.id"), nullable=False),
        sa.Column("bi_product_id", sa.Integer(), sa.ForeignKey("bi_products.id"), nullable=False),
        sa.Column("lot", sa.String(80), nullable=False),
        sa.Column("claimed_result", sa.String(10), nullable=False),
        sa.Column("incubation_started_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_invalid_bi_tests_cycle_id", "invalid_bi_tests", ["cycle_id"])
    op.create_index("ix_invalid_bi_tests_read_at", "invalid_bi_tests", ["read_at"])


def downgrade() -> None:
    op.drop_index("ix_invalid_bi_tests_read_at", table_name="invalid_bi_tests")
    op.drop_index("ix_invalid_bi_tests_cycle_id", table_name="invalid_bi_tests")
    op.drop_table("invalid_bi_tests")
    with op.batch_alter_table("bi_results") as batch:
        batch.drop_constraint("fk_bi_results_bi_product_id", type_="foreignkey")
        batch.drop_column("recorded_at")
        batch.drop_column("incubation_started_at")
        batch.drop_column("bi_product_id")
    with op.batch_alter_table("cycles") as batch:
        batch.drop_constraint("fk_cycles_bi_product_id", type_="foreignkey")
        batch.drop_column("early_release_reason")
        batch.drop_column("early_released_by")
        batch.drop_column("early_released_at")
        batch.drop_column("bi_product_id")
    op.drop_index("ix_bi_products_code", table_name="bi_products")
    op.drop_table("bi_products")
