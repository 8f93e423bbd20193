"""Equipment and maintenance: equipment (ultrasonic, washer-disinfector, AER, incubator,
other) with runs and efficacy tests, and the maintenance log of every device.

Revision ID: 0011_equipment
Revises: 0010_sterilizer_identity
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision: str = "0011_equipment"
down_revision: str | Sequence[str] | None = "0011_instrument_sets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EQUIPMENT_KINDS = ("ultrasonic", "washer_disinfector", "aer", "incubator", "other")
EQUIPMENT_STATUSES = ("in_service", "out_of_service")
TEST_FREQUENCIES = ("daily", "weekly", "monthly")
RESULTS = ("pass", "fail")
MAINTENANCE_KINDS = ("preventive", "repair", "inspection", "validation")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({','.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "equipment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("manufacturer", sa.String(200), nullable=True),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("serial_number", sa.String(100), nullable=True, unique=True),
        sa.Column("test_frequency", sa.String(10), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.String(500), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(_in("kind", EQUIPMENT_KINDS), name="ck_equipment_kind"),
        sa.CheckConstraint(_in("status", EQUIPMENT_STATUSES), name="ck_equipment_status"),
        sa.CheckConstraint(
            f"test_frequency IS NULL OR {_in('test_frequency', TEST_FREQUENCIES)}",
            name="ck_equipment_test_frequency",
        ),
    )
    op.create_index("ix_equipment_code", "equipment", ["code"], unique=True)

    op.create_table(
        "equipment_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("equipment_id", sa.Integer(), sa.ForeignKey("equipment.id"), nullable=False),
        sa.Column("program", sa.String(100), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("result", sa.String(10), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(_in("result", RESULTS), name="ck_equipment_runs_result"),
    )
    op.create_index(
        "ix_equipment_runs_equipment_started", "equipment_runs", ["equipment_id", "started_at"]
    )

    op.create_table(
        "equipment_tests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("equipment_id", sa.Integer(), sa.ForeignKey("equipment.id"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("result", sa.String(10), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("performed_at", UTCDateTime(), nullable=False),
        sa.Column("performed_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(_in("result", RESULTS), name="ck_equipment_tests_result"),
    )
    op.create_index(
        "ix_equipment_tests_equipment_at", "equipment_tests", ["equipment_id", "performed_at"]
    )

    op.create_table(
        "maintenance_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("device_code", sa.String(40), nullable=False),
        sa.Column("device_kind", sa.String(20), nullable=False),
        sa.Column("device_name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("performed_by", sa.String(200), nullable=False),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("next_due_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(_in("kind", MAINTENANCE_KINDS), name="ck_maintenance_records_kind"),
    )
    op.create_index(
        "ix_maintenance_records_device", "maintenance_records", ["device_code", "performed_on"]
    )


def downgrade() -> None:
    op.drop_table("maintenance_records")
    op.drop_table("equipment_tests")
    op.drop_table("equipment_runs")
    op.drop_table("equipment")
