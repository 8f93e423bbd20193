"""High-level disinfection: HLD devices, their disinfection runs and their uses on
patient encounters.

Revision ID: 0012_hld
Revises: 0011_equipment
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision: str = "0012_hld"
down_revision: str | Sequence[str] | None = "0011_equipment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RESULTS = ("pass", "fail")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({','.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "hld_devices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("manufacturer", sa.String(200), nullable=True),
        sa.Column("serial_number", sa.String(100), nullable=True, unique=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_hld_devices_code", "hld_devices", ["code"], unique=True)

    op.create_table(
        "hld_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("device_id", sa.Integer(), sa.ForeignKey("hld_devices.id"), nullable=False),
        sa.Column("disinfectant", sa.String(100), nullable=False),
        sa.Column("solution_lot", sa.String(80), nullable=False),
        sa.Column("solution_opened_on", sa.Date(), nullable=False),
        sa.Column("solution_expires_on", sa.Date(), nullable=False),
        sa.Column("mec_result", sa.String(10), nullable=False),
        sa.Column("soak_minutes", sa.Float(), nullable=False),
        sa.Column("temperature_c", sa.Float(), nullable=False),
        sa.Column("min_soak_minutes", sa.Float(), nullable=False),
        sa.Column("min_temperature_c", sa.Float(), nullable=False),
        sa.Column("encounter_ref", sa.String(100), nullable=True),
        sa.Column("result", sa.String(10), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("warnings", sa.Text(), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("performed_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(_in("result", RESULTS), name="ck_hld_runs_result"),
        sa.CheckConstraint(_in("mec_result", RESULTS), name="ck_hld_runs_mec_result"),
    )
    op.create_index("ix_hld_runs_device_at", "hld_runs", ["device_id", "performed_at"])
    op.create_index("ix_hld_runs_performed_at", "hld_runs", ["performed_at"])
    op.create_index("ix_hld_runs_encounter_ref", "hld_runs", ["encounter_ref"])

    op.create_table(
        "hld_uses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("device_id", sa.Integer(), sa.ForeignKey("hld_devices.id"), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("hld_runs.id"), nullable=True),
        sa.Column("encounter_ref", sa.String(100), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=False),
        sa.Column("used_by", sa.String(64), nullable=False),
    )
    op.create_index("ix_hld_uses_device_at", "hld_uses", ["device_id", "used_at"])
    op.create_index("ix_hld_uses_encounter_ref", "hld_uses", ["encounter_ref"])


def downgrade() -> None:
    op.drop_table("hld_uses")
    op.drop_table("hld_runs")
    op.drop_table("hld_devices")
