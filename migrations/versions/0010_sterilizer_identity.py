"""Sterilizer identity and spore-test cadence (SPEC section 7).

- `sterilizers` gains `manufacturer`, `model`, `serial_number` (unique when set: a
  unique index, which admits any number of NULLs on SQLite and PostgreSQL) and
  `bi_frequency` (`weekly`, `daily` or `every_load`). Existing sterilizers get `weekly`,
  the cadence the first edition enforced.

Revision ID: 0010_sterilizer_identity
Revises: 0009_restock_purchasing
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_sterilizer_identity"
down_revision: str | Sequence[str] | None = "0009_restock_purchasing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BI_FREQUENCIES = ("weekly", "daily", "every_load")


def upgrade() -> None:
    with op.batch_alter_table("sterilizers") as batch:
        batch.add_column(sa.Column("manufacturer", sa.String(200), nullable=True))
        batch.add_column(sa.Column("model", sa.String(200), nullable=True))
        batch.add_column(sa.Column("serial_number", sa.String(80), nullable=True))
        batch.add_column(
            sa.Column("bi_frequency", sa.String(20), nullable=False, server_default="weekly")
        )
    with op.batch_alter_table("sterilizers") as batch:
        batch.alter_column(
            "bi_frequency", existing_type=sa.String(20), existing_nullable=False,
            server_default=None,
        )  # fmt: skip
        batch.create_check_constraint(
            "ck_sterilizers_bi_frequency",
            f"bi_frequency IN ({','.join(repr(v) for v in BI_FREQUENCIES)})",
        )
    op.create_index("ix_sterilizers_serial_number", "sterilizers", ["serial_number"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_sterilizers_serial_number", table_name="sterilizers")
    with op.batch_alter_table("sterilizers") as batch:
        batch.drop_constraint("ck_sterilizers_bi_frequency", type_="check")
        batch.drop_column("bi_frequency")
        batch.drop_column("serial_number")
        batch.drop_column("model")
        batch.drop_column("manufacturer")
