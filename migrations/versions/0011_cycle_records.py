"""The sterilizer's own record (SPEC section 8): imported cycle records and attachments.

- `cycles` gains `machine_cycle_number`: the sterilizer's own counter, read off its display
  or its record, which an imported record is matched by.
- `cycle_parameters.chemical_ok` may be NULL: a cycle created from a machine's record has
  no chemical indicator reading until a person enters one.
- `cycle_records`: each imported record, its bytes, what was read (for discrepancies),
  unique by SHA-256 so the same bytes are imported once. Never deleted.
- `cycle_attachments`: photos, scans, PDFs of a cycle's paper printout. Never deleted.

Revision ID: 0011_cycle_records
Revises: 0010_sterilizer_identity
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision: str = "0011_cycle_records"
down_revision: str | Sequence[str] | None = "0012_bi_products"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cycles") as batch:
        batch.add_column(sa.Column("machine_cycle_number", sa.Integer(), nullable=True))
    op.create_index(
        "ix_cycles_sterilizer_machine_number", "cycles", ["sterilizer_id", "machine_cycle_number"]
    )
    with op.batch_alter_table("cycle_parameters") as batch:
        batch.alter_column("chemical_ok", existing_type=sa.Boolean(), nullable=True)
    op.create_table(
        "cycle_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("sterilizer_id", sa.Integer(), sa.ForeignKey("sterilizers.id"), nullable=False),
        sa.Column("cycle_id", sa.Integer(), sa.ForeignKey("cycles.id"), nullable=True),
        sa.Column("created_cycle", sa.Boolean(), nullable=False),
        sa.Column("format", sa.String(40), nullable=False),
        sa.Column("filename", sa.String(255), nullable=True),
        sa.Column("serial_number", sa.String(80), nullable=False),
        sa.Column("machine_cycle_number", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(200), nullable=False),
        sa.Column("program_kind", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("failure_reasons", sa.Text(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=False),
        sa.Column("load_cycle_type", sa.String(40), nullable=True),
        sa.Column("compatible_cycle_types", sa.Text(), nullable=False),
        sa.Column("temperature_min_c", sa.Float(), nullable=True),
        sa.Column("temperature_max_c", sa.Float(), nullable=True),
        sa.Column("exposure_minutes", sa.Float(), nullable=True),
        sa.Column("pressure_min_kpa", sa.Float(), nullable=True),
        sa.Column("pressure_max_kpa", sa.Float(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("imported_by", sa.String(64), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_cycle_records_cycle_id", "cycle_records", ["cycle_id"])
    op.create_index(
        "ix_cycle_records_sterilizer_started", "cycle_records", ["sterilizer_id", "started_at"]
    )
    op.create_table(
        "cycle_attachments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cycle_id", sa.Integer(), sa.ForeignKey("cycles.id"), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_cycle_attachments_cycle_id", "cycle_attachments", ["cycle_id"])


def downgrade() -> None:
    op.drop_index("ix_cycle_attachments_cycle_id", table_name="cycle_attachments")
    op.drop_table("cycle_attachments")
    op.drop_index("ix_cycle_records_sterilizer_started", table_name="cycle_records")
    op.drop_index("ix_cycle_records_cycle_id", table_name="cycle_records")
    op.drop_table("cycle_records")
    op.execute("UPDATE cycle_parameters SET chemical_ok = false WHERE chemical_ok IS NULL")
    with op.batch_alter_table("cycle_parameters") as batch:
        batch.alter_column("chemical_ok", existing_type=sa.Boolean(), nullable=False)
    op.drop_index("ix_cycles_sterilizer_machine_number", table_name="cycles")
    with op.batch_alter_table("cycles") as batch:
        batch.drop_column("machine_cycle_number")
