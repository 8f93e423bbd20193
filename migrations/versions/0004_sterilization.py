"""Sterilization: sterilizers, cycle types, cycles, readings, BI results, amendments,
recalls, packs, pack events, recall packs and counters.

Revision ID: 0004_sterilization
Revises: 0001_foundation
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision: str = "0004_sterilization"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({','.join(repr(v) for v in values)})"


STERILIZER_KINDS = ("steam_prevac", "steam_gravity", "chemical_vapor", "dry_heat")
STERILIZER_STATUSES = ("in_service", "out_of_service")
CYCLE_STATUSES = ("running", "passed", "failed", "awaiting_bi")
PACK_STATUSES = (
    "assembled",
    "loaded",
    "sterile",
    "quarantined",
    "failed",
    "used",
    "recalled",
    "compromised",
)
BI_RESULTS = ("negative", "positive")
RECALL_STATUSES = ("open", "confirmed", "released")


def upgrade() -> None:
    op.create_table(
        "sterilizers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.String(500), nullable=True),
        sa.Column("last_bi_at", UTCDateTime(), nullable=True),
        sa.Column("last_bowie_dick_at", UTCDateTime(), nullable=True),
        sa.Column("last_cycle_number", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(_in("kind", STERILIZER_KINDS), name="ck_sterilizers_kind"),
        sa.CheckConstraint(_in("status", STERILIZER_STATUSES), name="ck_sterilizers_status"),
    )
    op.create_index("ix_sterilizers_code", "sterilizers", ["code"], unique=True)

    op.create_table(
        "cycle_types",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("min_temperature_c", sa.Float(), nullable=False),
        sa.Column("min_exposure_minutes", sa.Float(), nullable=False),
        sa.Column("sterilizer_kinds", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_cycle_types_code", "cycle_types", ["code"], unique=True)

    op.create_table(
        "cycles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sterilizer_id", sa.Integer(), sa.ForeignKey("sterilizers.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("cycle_type", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("implants", sa.Boolean(), nullable=False),
        sa.Column("bi_lot", sa.String(80), nullable=True),
        sa.Column("warnings", sa.Text(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("completed_by", sa.String(64), nullable=True),
        sa.UniqueConstraint("sterilizer_id", "number", name="uq_cycles_sterilizer_number"),
        sa.CheckConstraint(_in("status", CYCLE_STATUSES), name="ck_cycles_status"),
    )
    op.create_index("ix_cycles_sterilizer_started", "cycles", ["sterilizer_id", "started_at"])
    op.create_index("ix_cycles_started_at", "cycles", ["started_at"])
    op.create_index("ix_cycles_status", "cycles", ["status"])

    op.create_table(
        "cycle_parameters",
        sa.Column(
            "cycle_id", sa.Integer(), sa.ForeignKey("cycles.id"), primary_key=True, nullable=False
        ),
        sa.Column("temperature_c", sa.Float(), nullable=True),
        sa.Column("pressure_kpa", sa.Float(), nullable=True),
        sa.Column("exposure_minutes", sa.Float(), nullable=True),
        sa.Column("dry_minutes", sa.Float(), nullable=True),
        sa.Column("mechanical_ok", sa.Boolean(), nullable=False),
        sa.Column("chemical_ok", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("failure_reasons", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )

    op.create_table(
        "bi_results",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cycle_id", sa.Integer(), sa.ForeignKey("cycles.id"), nullable=False),
        sa.Column("result", sa.String(10), nullable=False),
        sa.Column("control_grew", sa.Boolean(), nullable=False),
        sa.Column("lot", sa.String(80), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.CheckConstraint(_in("result", BI_RESULTS), name="ck_bi_results_result"),
    )
    op.create_index("ix_bi_results_cycle_id", "bi_results", ["cycle_id"], unique=True)

    op.create_table(
        "cycle_amendments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cycle_id", sa.Integer(), sa.ForeignKey("cycles.id"), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("original", sa.Text(), nullable=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_cycle_amendments_cycle_id", "cycle_amendments", ["cycle_id"])

    op.create_table(
        "recalls",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sterilizer_id", sa.Integer(), sa.ForeignKey("sterilizers.id"), nullable=False),
        sa.Column(
            "triggered_by_cycle_id", sa.Integer(), sa.ForeignKey("cycles.id"), nullable=False
        ),
        sa.Column("since_cycle_id", sa.Integer(), sa.ForeignKey("cycles.id"), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("pack_count", sa.Integer(), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(64), nullable=True),
        sa.Column("resolution_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(_in("status", RECALL_STATUSES), name="ck_recalls_status"),
    )
    op.create_index("ix_recalls_sterilizer_id", "recalls", ["sterilizer_id"])
    op.create_index("ix_recalls_opened_at", "recalls", ["opened_at"])

    op.create_table(
        "packs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("contents", sa.Text(), nullable=False),
        sa.Column("implant", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("cycle_id", sa.Integer(), sa.ForeignKey("cycles.id"), nullable=True),
        sa.Column("recall_id", sa.Integer(), sa.ForeignKey("recalls.id"), nullable=True),
        sa.Column("assembled_by", sa.String(64), nullable=False),
        sa.Column("assembled_at", UTCDateTime(), nullable=False),
        sa.Column("sterilized_at", UTCDateTime(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("used_by", sa.String(64), nullable=True),
        sa.Column("encounter_ref", sa.String(100), nullable=True),
        sa.Column("status_note", sa.String(500), nullable=True),
        sa.CheckConstraint(_in("status", PACK_STATUSES), name="ck_packs_status"),
    )
    op.create_index("ix_packs_code", "packs", ["code"], unique=True)
    op.create_index("ix_packs_cycle_status", "packs", ["cycle_id", "status"])
    op.create_index("ix_packs_status", "packs", ["status"])
    op.create_index("ix_packs_encounter_ref", "packs", ["encounter_ref"])

    op.create_table(
        "pack_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pack_id", sa.Integer(), sa.ForeignKey("packs.id"), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
    )
    op.create_index("ix_pack_events_pack_at", "pack_events", ["pack_id", "at"])

    op.create_table(
        "recall_packs",
        sa.Column(
            "recall_id", sa.Integer(), sa.ForeignKey("recalls.id"), primary_key=True, nullable=False
        ),
        sa.Column(
            "pack_id", sa.Integer(), sa.ForeignKey("packs.id"), primary_key=True, nullable=False
        ),
        sa.Column("previous_status", sa.String(20), nullable=False),
    )
    op.create_index("ix_recall_packs_pack_id", "recall_packs", ["pack_id"])

    op.create_table(
        "sterilization_counters",
        sa.Column("name", sa.String(40), primary_key=True, nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "sterilization_counters",
        "recall_packs",
        "pack_events",
        "packs",
        "recalls",
        "cycle_amendments",
        "bi_results",
        "cycle_parameters",
        "cycles",
        "cycle_types",
        "sterilizers",
    ):
        op.drop_table(table)
